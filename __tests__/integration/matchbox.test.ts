/**
 * matchbox (built from its Go module at the default image's release) serving the rendered data dir
 * on loopback: each node, asking with exactly the labels its iPXE script sends, gets the rendered
 * Talos kernel, initramfs and arguments; an unknown machine gets maintenance mode; the assets
 * the profiles name are served from the paths the bastion downloads them to.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSiteConfig } from "../../config/load.js";
import { SITES } from "../../config/sites.js";
import { siteView } from "../../config/site-view.js";
import { renderBastionBundle } from "../../templates/bundle.js";
import { ipxeChainUrl } from "../../templates/ipxe.js";
import { renderMatchboxFiles, talosKernelArgs } from "../../templates/matchbox.js";
import { nodeArchitecture } from "../../config/talos.js";
import { piMatchboxProfile, piTalosAssets } from "../../templates/raspberry-pi.js";
import { talosAssets } from "../../templates/talos-assets.js";
import { expandIpxeSettings, matchboxBinary, startMatchbox, writeTree } from "../helpers/netboot.js";
import { freePort, tempDir, type RunningProcess } from "../helpers/processes.js";
import { siteConfig } from "../helpers/synth.js";

const MACHINE_CONFIG_URL = "http://10.20.13.140:8088/talos/controlplane.yaml";
const config = siteConfig({ talos: { machineConfigUrl: MACHINE_CONFIG_URL } });
const { kernel, initramfs } = talosAssets(config);
// Stand-ins for the Talos kernel and initramfs: distinct random bytes, so a swapped path shows.
const kernelBytes = randomBytes(64 * 1024);
const initramfsBytes = randomBytes(32 * 1024);

interface IpxeBoot {
  readonly kernel: string;
  readonly args: readonly string[];
  readonly initrds: readonly string[];
}

/** Reads matchbox's answer: `#!ipxe`, `kernel <url> <args...>`, `initrd <url>`..., `boot`. */
function parseIpxeBoot(script: string): IpxeBoot {
  const lines = script.trim().split("\n");
  expect(lines[0]).toBe("#!ipxe");
  expect(lines.at(-1)).toBe("boot");
  const [kernelCommand, kernelUrl, ...args] = (lines[1] ?? "").split(" ");
  expect(kernelCommand).toBe("kernel");
  const initrds = lines.slice(2, -1).map((line) => {
    const [command, url, ...rest] = line.split(" ");
    expect([command, rest]).toEqual(["initrd", []]);
    return url!;
  });
  return { kernel: kernelUrl!, args, initrds };
}

/** matchbox serving `files` as its data dir on a free loopback port: its origin, and how to stop it and remove the dir. */
async function serveMatchbox(prefix: string, files: Parameters<typeof writeTree>[1]): Promise<{ origin: string; stop: () => Promise<void> }> {
  const dir = tempDir(prefix);
  writeTree(join(dir.path, "data"), files);
  const port = await freePort();
  const matchbox: RunningProcess = await startMatchbox(join(dir.path, "data"), port, join(dir.path, "matchbox.log"));
  return {
    origin: `http://127.0.0.1:${port}`,
    stop: async () => {
      await matchbox.stop();
      dir.remove();
    },
  };
}

describe("matchbox serving the rendered profiles and groups", () => {
  let origin: string;
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ origin, stop } = await serveMatchbox("matchbox", {
      ...renderMatchboxFiles(config),
      [`assets/${kernel.path}`]: kernelBytes,
      [`assets/${initramfs.path}`]: initramfsBytes,
    }));
  });
  afterAll(() => stop?.());

  /** What a node asks matchbox: the rendered chain URL, expanded as iPXE would, sent to loopback. */
  async function askAsNode(node: { ip: string; mac: string; uuid: string }): Promise<{ url: URL; boot: IpxeBoot }> {
    const chain = new URL(expandIpxeSettings(ipxeChainUrl(config), node));
    expect(chain.origin).toBe(siteView(config).matchboxUrl);
    const url = new URL(`${chain.pathname}${chain.search}`, origin);
    const response = await fetch(url);
    expect(response.status, `matchbox answered ${url} with ${response.status}`).toBe(200);
    return { url, boot: parseIpxeBoot(await response.text()) };
  }

  it("is the release of every built-in site's matchbox image", () => {
    const version = execFileSync(matchboxBinary(), ["-version"], { encoding: "utf8" }).trim();
    for (const site of Object.values(SITES)) expect(version, `images.matchbox of site ${site.site.name}`).toBe(site.images.matchbox.split(":").at(-1));
  });

  it("answers /boot.ipxe with its chain to /ipxe", async () => {
    const response = await fetch(`${origin}/boot.ipxe`);
    expect(response.status).toBe(200);
    const script = await response.text();
    expect(script.startsWith("#!ipxe\n")).toBe(true);
    expect(script).toMatch(/^chain ipxe\?.*mac=\$\{mac:hexhyp\}/m);
  });

  it.each(config.talos.nodeIps.map((ip, i) => ({ ip, i })))(
    "boots node $ip with the Talos kernel, initramfs and its machine config",
    async ({ ip, i }) => {
      const node = { ip, mac: `02:00:00:00:00:0${i + 1}`, uuid: `00000000-0000-4000-8000-00000000000${i + 1}` };
      const { url, boot } = await askAsNode(node);
      expect(boot).toEqual({
        kernel: `/assets/${kernel.path}`,
        args: [...talosKernelArgs(nodeArchitecture(config)), `talos.config=${MACHINE_CONFIG_URL}`],
        initrds: [`/assets/${initramfs.path}`],
      });
      // iPXE resolves these against the script's URL; matchbox must serve the very bytes.
      const served = async (path: string) => Buffer.from(await (await fetch(new URL(path, url))).arrayBuffer());
      expect((await served(boot.kernel)).equals(kernelBytes)).toBe(true);
      expect((await served(boot.initrds[0]!)).equals(initramfsBytes)).toBe(true);
    },
  );

  it("boots an unknown machine into Talos maintenance mode", async () => {
    const { boot } = await askAsNode({ ip: "10.20.13.50", mac: "02:00:00:00:00:99", uuid: "00000000-0000-4000-8000-000000000099" });
    expect(boot).toEqual({ kernel: `/assets/${kernel.path}`, args: [...talosKernelArgs(nodeArchitecture(config))], initrds: [`/assets/${initramfs.path}`] });
  });

  it("answers a missing asset with 404", async () => {
    const response = await fetch(`${origin}/assets/talos/v0.0.0/none/vmlinuz`);
    expect(response.status).toBe(404);
  });
});

describe("matchbox serving the home bundle of examples/home-pi.yaml to its Raspberry Pis", () => {
  const home = loadSiteConfig({ site: "home", configFile: join(import.meta.dirname, "../../examples/home-pi.yaml") });
  const pis = home.raspberryPi.nodes;
  const piAssets = piTalosAssets(home);
  let origin: string;
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    // The bundle's matchbox dir as compose mounts it (profiles/ and groups/), and the assets the fetch step downloads.
    const bundle = renderBastionBundle(home);
    const matchboxFiles = Object.entries(bundle).filter(([path]) => path.startsWith("matchbox/"));
    ({ origin, stop } = await serveMatchbox("matchbox-pi", {
      ...Object.fromEntries(matchboxFiles.map(([path, text]) => [path.slice("matchbox/".length), text])),
      [`assets/${piAssets.kernel.path}`]: kernelBytes,
      [`assets/${piAssets.initramfs.path}`]: initramfsBytes,
    }));
  });
  afterAll(() => stop?.());

  /** What iPXE on a Pi asks after /boot.ipxe's chain: its MAC (hyphens, as `${mac:hexhyp}`) and no ip label. */
  async function askAsPi(mac: string): Promise<IpxeBoot> {
    const response = await fetch(`${origin}/ipxe?uuid=&mac=${mac.replace(/:/g, "-")}&domain=&hostname=&serial=`);
    expect(response.status).toBe(200);
    return parseIpxeBoot(await response.text());
  }

  it.each(pis)("boots $name ($mac) into the rpi_generic Talos with its console on ttyAMA0", async (pi) => {
    const boot = await askAsPi(pi.mac);
    expect(boot).toEqual({ kernel: `/assets/${piAssets.kernel.path}`, args: piMatchboxProfile(home).boot.args, initrds: [`/assets/${piAssets.initramfs.path}`] });
    expect(boot.args).toContain("console=ttyAMA0,115200");
    const served = async (path: string) => Buffer.from(await (await fetch(new URL(path, origin))).arrayBuffer());
    expect((await served(boot.kernel)).equals(kernelBytes)).toBe(true);
  });

  it("boots another machine of the home site into the default maintenance profile, not the Pis'", async () => {
    const boot = await askAsPi("02:00:00:00:00:42");
    expect(boot.args).toEqual(talosKernelArgs(home.architecture));
    expect(boot.kernel).toBe(`/assets/${talosAssets(home).kernel.path}`);
  });
});
