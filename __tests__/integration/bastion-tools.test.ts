/**
 * Every bastion renderer's output handed to the real tool that consumes it: shellcheck for the
 * shell scripts, `cloud-init schema` and cloud-init's write_files module for the user-data,
 * `dnsmasq --test` for dnsmasq configs.
 * The Talos asset script runs for real, with `curl` replaced by a stand-in serving local files.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSiteConfig } from "../../config/load.js";
import type { SiteConfig } from "../../config/schema.js";
import { renderBastionBootScript } from "../../templates/bastion-boot.js";
import { renderBastionBundle } from "../../templates/bundle.js";
import { renderBastionCloudConfigFiles, renderBastionUserData } from "../../templates/cloud-init.js";
import { renderNatInstanceScript, renderNatInstanceUserData } from "../../templates/nat-instance.js";
import { FETCH_TALOS_ASSETS_SCRIPT, MATCHBOX_ASSETS_DIR } from "../../templates/fetch-talos-assets.js";
import { FETCH_PI_FIRMWARE_SCRIPT } from "../../templates/fetch-pi-firmware.js";
import { talosAssets } from "../../templates/talos-assets.js";
import { hostileScripts } from "../helpers/hostile-shell.js";
import { scratchDir } from "../helpers/processes.js";
import { siteConfig } from "../helpers/synth.js";

const workDir = scratchDir("bastion-tools");

const sites: [string, Readonly<SiteConfig>][] = [
  ["aws", siteConfig()],
  ["home", siteConfig({}, "home")],
  ["home with Raspberry Pis", loadSiteConfig({ site: "home", configFile: join(import.meta.dirname, "../../examples/home-pi.yaml") })],
  ["aws with Tailscale", siteConfig({ bastion: { tailscale: { enabled: true } } })],
  ["aws, the bastion its own NAT", siteConfig({ network: { nat: "bastion" } })],
  [
    "aws with registry credentials",
    siteConfig({ services: { registryCaches: siteConfig().services.registryCaches.map((cache) => ({ ...cache, credentialsParameter: `/deathstar/registry/${cache.name}` })) } }),
  ],
];

let fileCounter = 0;
function writeTemp(name: string, text: string): string {
  const path = join(workDir, `${fileCounter++}-${name}`);
  writeFileSync(path, text);
  return path;
}

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 60_000, ...options });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("shell source files (templates/*.sh)", () => {
  const templates = join(import.meta.dirname, "..", "..", "templates");
  it.each(readdirSync(templates).filter((name) => name.endsWith(".sh")))("%s passes shellcheck as written", (name) => {
    const result = run("shellcheck", ["--shell=bash", "--severity=style", name], { cwd: templates });
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });
});

describe.each(sites)("%s site", (_name, config) => {
  const bundle = renderBastionBundle(config);

  it("shell scripts pass shellcheck", () => {
    const scripts = {
      "deathstar-bastion-boot": renderBastionBootScript(config),
      "fetch-talos-assets.sh": bundle[FETCH_TALOS_ASSETS_SCRIPT]!,
      ...(config.raspberryPi.nodes.length > 0 ? { "fetch-pi-firmware.sh": bundle[FETCH_PI_FIRMWARE_SCRIPT]! } : {}),
    };
    for (const [name, text] of Object.entries(scripts)) {
      const result = run("shellcheck", ["--severity=style", writeTemp(name, text)]);
      expect(result.output, name).toBe("");
      expect(result.status, name).toBe(0);
    }
  });

  it("user-data passes cloud-init schema", () => {
    const result = run("cloud-init", ["schema", "--config-file", writeTemp("user-data", renderBastionUserData(config))]);
    expect(result.output).toContain("Valid cloud-config");
    expect(result.status).toBe(0);
  });

  it("cloud-init's own write_files module writes every file with the rendered content and mode", () => {
    const root = join(workDir, `root-${fileCounter++}`);
    // Debian's cloud-init lives in the system Python; paths are moved under a scratch root.
    const program = `
import grp, os, pwd, sys, yaml
from cloudinit.config.cc_write_files import write_files
root, user_data = sys.argv[1], sys.argv[2]
files = yaml.safe_load(open(user_data))["write_files"]
for f in files:
    f["path"] = root + f["path"]
owner = pwd.getpwuid(os.getuid()).pw_name + ":" + grp.getgrgid(os.getgid()).gr_name
write_files("write_files", files, owner)
`;
    const result = run("/usr/bin/python3", ["-c", program, root, writeTemp("user-data", renderBastionUserData(config))]);
    expect(result.status, result.output).toBe(0);
    for (const file of renderBastionCloudConfigFiles(config)) {
      expect(readFileSync(join(root, file.path), "utf8"), file.path).toBe(file.content);
      expect((statSync(join(root, file.path)).mode & 0o777).toString(8).padStart(4, "0"), file.path).toBe(file.permissions);
    }
  });

  it("dnsmasq.conf and Pi-hole's local records pass dnsmasq --test", () => {
    for (const path of ["dnsmasq/dnsmasq.conf", "pihole/05-deathstar-hosts.conf"]) {
      const result = run("dnsmasq", ["--test", "-C", writeTemp("dnsmasq.conf", bundle[path]!)]);
      expect(result.output, path).toContain("syntax check OK");
      expect(result.status, path).toBe(0);
    }
  });
});

it("dnsmasq --test rejects a broken line (the check above can fail)", () => {
  const broken = `${renderBastionBundle(siteConfig({}, "home"))["dnsmasq/dnsmasq.conf"]}dhcp-range=not-an-address\n`;
  expect(run("dnsmasq", ["--test", "-C", writeTemp("broken.conf", broken)]).status).not.toBe(0);
});

describe("fetch-talos-assets.sh", () => {
  const config = siteConfig();
  const { kernel, initramfs } = talosAssets(config);
  const bundleDir = join(workDir, "bundle");
  const served = join(workDir, "served");
  const shimDir = join(workDir, "shim");
  const assetFile = (path: string) => join(bundleDir, MATCHBOX_ASSETS_DIR, path);

  // Stand-in for curl: `-o FILE URL` copies $SERVED/<last URL segment> to FILE, like a download.
  mkdirSync(shimDir, { recursive: true });
  writeFileSync(
    join(shimDir, "curl"),
    `#!/bin/bash
out= url=
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift 2 ;;
    -*) shift ;;
    *) url=$1; shift ;;
  esac
done
cp "$SERVED/\${url##*/}" "$out"
`,
  );
  chmodSync(join(shimDir, "curl"), 0o755);

  const serve = (asset: { url: string }, content: string) => writeFileSync(join(served, asset.url.split("/").pop()!), content);
  const fetchAssets = () =>
    run("bash", [join(bundleDir, FETCH_TALOS_ASSETS_SCRIPT)], { env: { ...process.env, PATH: `${shimDir}:${process.env.PATH}`, SERVED: served } });

  mkdirSync(served, { recursive: true });
  const script = join(bundleDir, FETCH_TALOS_ASSETS_SCRIPT);
  mkdirSync(dirname(script), { recursive: true });
  writeFileSync(script, renderBastionBundle(config)[FETCH_TALOS_ASSETS_SCRIPT]!);

  it("downloads both assets into matchbox's assets dir and records their sha256", () => {
    serve(kernel, "kernel v1\n");
    serve(initramfs, "initramfs v1\n");
    const result = fetchAssets();
    expect(result.status, result.output).toBe(0);
    expect(readFileSync(assetFile(kernel.path), "utf8")).toBe("kernel v1\n");
    expect(readFileSync(`${assetFile(kernel.path)}.sha256`, "utf8")).toMatch(/^[0-9a-f]{64} {2}vmlinuz\n$/);
    expect(existsSync(`${assetFile(initramfs.path)}.sha256`)).toBe(true);
  });

  it("verifies instead of downloading on the next run", () => {
    serve(kernel, "not fetched when the copy is intact\n");
    const result = fetchAssets();
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain(`${kernel.path} matches its recorded sha256`);
    expect(readFileSync(assetFile(kernel.path), "utf8")).toBe("kernel v1\n");
  });

  it("downloads a damaged copy again and accepts it only when it matches the record", () => {
    writeFileSync(assetFile(kernel.path), "damaged\n");
    serve(kernel, "kernel v1\n");
    const repaired = fetchAssets();
    expect(repaired.status, repaired.output).toBe(0);
    expect(readFileSync(assetFile(kernel.path), "utf8")).toBe("kernel v1\n");

    writeFileSync(assetFile(kernel.path), "damaged\n");
    serve(kernel, "kernel v2, rebuilt upstream\n");
    const refused = fetchAssets();
    expect(refused.status).not.toBe(0);
    expect(refused.output).toContain("is recorded");
    expect(readFileSync(assetFile(kernel.path), "utf8")).toBe("damaged\n");
  });
});

describe("NAT instance", () => {
  const input = { eniAddress: "10.20.1.10", vpcCidr: "10.20.0.0/16", publicSubnetRouter: "10.20.1.1" };

  it("user-data passes cloud-init schema", () => {
    const result = run("cloud-init", ["schema", "--config-file", writeTemp("nat-user-data", renderNatInstanceUserData(input))]);
    expect(result.output).toContain("Valid cloud-config");
    expect(result.status).toBe(0);
  });

  it("setup script passes shellcheck", () => {
    const result = run("shellcheck", ["--severity=style", writeTemp("deathstar-nat-setup", renderNatInstanceScript(input))]);
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("scripts rendered from hostile values, validation bypassed (__tests__/shell-metacharacters.test.ts)", () => {
  const canary = join(workDir, "canary");

  it.each(hostileScripts(canary).map((script) => [script.name, script.content] as const))("%s passes shellcheck", (name, content) => {
    const result = run("shellcheck", ["--shell=bash", "--severity=warning", writeTemp(name, content)]);
    expect(result.output, name).toBe("");
    expect(result.status, name).toBe(0);
    expect(existsSync(canary)).toBe(false);
  });
});
