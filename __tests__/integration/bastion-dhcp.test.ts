/**
 * The home site's rendered dnsmasq.conf serving real DHCP: dnsmasq runs in one network
 * namespace as the fileserver (10.17.13.140), a DHCP probe in another plays each firmware and
 * iPXE, over a veth pair. Only the TFTP root (the image's path) and the lease file are moved to
 * a temp dir; every other line is the rendered config.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderDnsmasqConfig, TFTP_ROOT } from "../../templates/dnsmasq.js";
import { siteConfig } from "../helpers/synth.js";

const PROBE = fileURLToPath(new URL("./dhcp-probe.py", import.meta.url));
const config = siteConfig({}, "home");
const serverNs = `ds-dhcp-srv-${process.pid}`;
const clientNs = `ds-dhcp-cli-${process.pid}`;
const workDir = mkdtempSync(join(tmpdir(), "deathstar-dhcp-"));
/** dnsmasq reads the TFTP root after dropping root; mkdtemp's 0700 would lock it out. */
chmodSync(workDir, 0o755);
const STARTUP_LIMIT_MS = 10_000;
let dnsmasq: ChildProcess | undefined;

function sh(args: string[]): string {
  const result = spawnSync(args[0]!, args.slice(1), { encoding: "utf8", timeout: 30_000 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

interface Offer {
  yiaddr: string;
  siaddr: string;
  file: string;
  router: string | null;
  dns: string | null;
}

function probe(arch: number, userClass?: string): Offer {
  const args = ["netns", "exec", clientNs, "python3", PROBE, "eth-c", String(arch), ...(userClass ? [userClass] : [])];
  const result = spawnSync("ip", args, { encoding: "utf8", timeout: 30_000 });
  if (result.status !== 0) throw new Error(`no offer for arch ${arch}: ${result.stderr}\ndnsmasq log:\n${readFileSync(join(workDir, "dnsmasq.log"), "utf8")}`);
  return JSON.parse(result.stdout) as Offer;
}

/** Resolves once dnsmasq logs its DHCP range; rejects when it exits or the limit passes. */
async function dnsmasqStarted(): Promise<void> {
  const log = join(workDir, "dnsmasq.log");
  const deadline = Date.now() + STARTUP_LIMIT_MS;
  while (!readFileSync(log, "utf8").includes("DHCP, IP range")) {
    if (dnsmasq!.exitCode !== null || Date.now() > deadline) throw new Error(`dnsmasq did not start:\n${readFileSync(log, "utf8")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  sh(["ip", "netns", "add", serverNs]);
  sh(["ip", "netns", "add", clientNs]);
  sh(["ip", "-n", serverNs, "link", "add", "eth-s", "type", "veth", "peer", "name", "eth-c", "netns", clientNs]);
  sh(["ip", "-n", serverNs, "addr", "add", `${config.bastion.privateIp}/24`, "dev", "eth-s"]);
  for (const [ns, dev] of [[serverNs, "eth-s"], [serverNs, "lo"], [clientNs, "eth-c"], [clientNs, "lo"]] as const) sh(["ip", "-n", ns, "link", "set", dev, "up"]);

  const tftpRoot = join(workDir, "tftpboot");
  mkdirSync(tftpRoot);
  const rendered = renderDnsmasqConfig(config);
  expect(rendered).toContain(`tftp-root=${TFTP_ROOT}\n`);
  writeFileSync(join(workDir, "dnsmasq.conf"), rendered.replace(`tftp-root=${TFTP_ROOT}\n`, `tftp-root=${tftpRoot}\n`));
  const log = openSync(join(workDir, "dnsmasq.log"), "w");
  dnsmasq = spawn(
    "ip",
    ["netns", "exec", serverNs, "dnsmasq", "--keep-in-foreground", "--pid-file=", `--dhcp-leasefile=${join(workDir, "leases")}`, `--conf-file=${join(workDir, "dnsmasq.conf")}`],
    { stdio: ["ignore", log, log] },
  );
  await dnsmasqStarted();
});

afterAll(async () => {
  if (dnsmasq && dnsmasq.exitCode === null && dnsmasq.signalCode === null) {
    const exited = new Promise((resolve) => dnsmasq!.once("exit", resolve));
    dnsmasq.kill("SIGTERM");
    await exited;
  }
  for (const ns of [serverNs, clientNs]) spawnSync("ip", ["netns", "del", ns]);
  rmSync(workDir, { recursive: true, force: true });
});

describe("home DHCP with the iPXE boot rules", () => {
  it.each([
    [0, "BIOS", "undionly.kpxe"],
    [7, "x86_64 UEFI", "ipxe.efi"],
    [9, "x86_64 UEFI (EBC)", "ipxe.efi"],
    [11, "arm64 UEFI", "arm64/ipxe.efi"],
  ])("client-arch %i (%s) gets %s from the fileserver", (arch, _label, file) => {
    const offer = probe(arch);
    expect(offer.file).toBe(file);
    expect(offer.siaddr).toBe("10.17.13.140");
    expect(offer.router).toBe("10.17.13.249");
    expect(offer.dns).toBe("10.17.13.140");
    const host = Number(offer.yiaddr.split(".")[3]);
    expect(offer.yiaddr.startsWith("10.17.13.")).toBe(true);
    expect(host).toBeGreaterThanOrEqual(100);
    expect(host).toBeLessThanOrEqual(199);
  });

  it.each([0, 11])("iPXE (user-class iPXE, client-arch %i) gets matchbox's boot script", (arch) => {
    expect(probe(arch, "iPXE").file).toBe("http://10.17.13.140:8080/boot.ipxe");
  });
});
