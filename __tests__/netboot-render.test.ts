import { describe, expect, it } from "vitest";
import { AMD64_COZYSTACK_OVERRIDE, siteConfig } from "./helpers/synth.js";
import { renderBastionBundle } from "../templates/bundle.js";
import { FETCH_TALOS_ASSETS_SCRIPT } from "../templates/fetch-talos-assets.js";
import { renderBastionBootScript } from "../templates/bastion-boot.js";
import { IPXE_RETRY_SECONDS, renderIpxeScript } from "../templates/ipxe.js";
import {
  CONFIGURED_PROFILE_ID,
  MAINTENANCE_PROFILE_ID,
  renderMatchboxFiles,
  talosKernelArgs,
} from "../templates/matchbox.js";
import { talosAssets } from "../templates/talos-assets.js";

/** Fields matchbox documents for profiles and groups (matchbox docs: matchbox.md, "Profiles" and "Groups"). */
const PROFILE_FIELDS = new Set(["id", "name", "boot", "cloud_id", "ignition_id", "generic_id"]);
const BOOT_FIELDS = new Set(["kernel", "initrd", "args"]);
const GROUP_FIELDS = new Set(["id", "name", "profile", "selector", "metadata"]);

interface Profile { id: string; name: string; boot: { kernel: string; initrd: string[]; args: string[] } }
interface Group { id: string; name: string; profile: string; selector?: Record<string, string>; metadata?: Record<string, string> }

function parsed(config = siteConfig()) {
  const files = renderMatchboxFiles(config);
  const profiles: Profile[] = [];
  const groups: Group[] = [];
  for (const [path, text] of Object.entries(files)) {
    const value = JSON.parse(text) as Profile & Group;
    if (path.startsWith("profiles/")) {
      expect(path).toBe(`profiles/${value.id}.json`);
      profiles.push(value);
    } else {
      expect(path).toBe(`groups/${value.id}.json`);
      groups.push(value);
    }
  }
  return { files, profiles, groups };
}

describe("iPXE script", () => {
  it("is the exact EC2 user-data: chain to matchbox with the node's address, MAC and UUID, retrying until matchbox answers", () => {
    expect(renderIpxeScript(siteConfig())).toBe(`#!ipxe
echo Third Death Star netboot via http://10.20.13.140:8080
:retry
ifstat net0 && isset \${net0/ip} || dhcp || goto wait
chain --autofree http://10.20.13.140:8080/ipxe?ip=\${net0/ip}&mac=\${mac:hexhyp}&uuid=\${uuid} || goto wait
:wait
echo matchbox at http://10.20.13.140:8080 not reachable yet; retrying in ${IPXE_RETRY_SECONDS}s
sleep ${IPXE_RETRY_SECONDS}
goto retry
`);
  });

  it("has no failure path that leaves the loop: every command that can fail goes to :wait, :wait goes back", () => {
    const lines = renderIpxeScript(siteConfig()).trimEnd().split("\n");
    for (const line of lines.filter((l) => /^(chain|ifstat)/.test(l))) expect(line.endsWith("|| goto wait")).toBe(true);
    expect(lines.at(-1)).toBe("goto retry");
  });
});

describe("matchbox profiles and groups", () => {
  it("parse back as JSON with only matchbox's documented fields", () => {
    const { profiles, groups } = parsed();
    for (const profile of profiles) {
      expect(Object.keys(profile).filter((k) => !PROFILE_FIELDS.has(k))).toEqual([]);
      expect(Object.keys(profile.boot).filter((k) => !BOOT_FIELDS.has(k))).toEqual([]);
    }
    for (const group of groups) expect(Object.keys(group).filter((k) => !GROUP_FIELDS.has(k))).toEqual([]);
  });

  it("boot Talos metal arm64 from the Image Factory assets the bastion downloads, in maintenance mode by default", () => {
    const config = siteConfig();
    const { profiles } = parsed(config);
    const { kernel, initramfs } = talosAssets(config);
    expect(kernel.url).toBe(`https://factory.talos.dev/image/${config.talos.schematicId}/v1.11.6/kernel-arm64`);
    expect(profiles).toEqual([
      {
        id: MAINTENANCE_PROFILE_ID,
        name: "Talos v1.11.6 arm64 (maintenance mode)",
        boot: {
          kernel: `/assets/${kernel.path}`,
          initrd: [`/assets/${initramfs.path}`],
          // No pti=on: an x86-only option the arm64 kernel does not know.
          args: ["initrd=initramfs.xz", "init_on_alloc=1", "slab_nomerge", "console=tty0", "console=ttyS0", "printk.devkmsg=on", "talos.platform=metal"],
        },
      },
    ]);
    expect(profiles[0]!.boot.args).toContain("talos.platform=metal");
    expect(profiles[0]!.boot.args).toContain("console=ttyS0");
    expect(profiles[0]!.boot.args.some((arg) => arg.startsWith("talos.config="))).toBe(false);
  });

  it("select each node by the ip label the iPXE script sends; everything else falls to maintenance mode", () => {
    const { groups, profiles } = parsed();
    const profileIds = new Set(profiles.map((p) => p.id));
    for (const group of groups) expect(profileIds.has(group.profile)).toBe(true);
    expect(groups.filter((g) => g.selector).map((g) => [g.id, g.selector, g.metadata!.role])).toEqual([
      ["talos-1", { ip: "10.20.13.11" }, "controlplane"],
      ["talos-2", { ip: "10.20.13.12" }, "controlplane"],
      ["talos-3", { ip: "10.20.13.13" }, "controlplane"],
    ]);
    expect(groups.filter((g) => !g.selector)).toEqual([{ id: "default", name: expect.any(String), profile: MAINTENANCE_PROFILE_ID }]);
  });

  it("pass talos.config= to the configured nodes when the config names a machine config URL", () => {
    const url = "http://10.20.13.140:8080/assets/talos/controlplane.yaml";
    const { profiles, groups } = parsed(siteConfig({ talos: { machineConfigUrl: url } }));
    const configured = profiles.find((p) => p.id === CONFIGURED_PROFILE_ID);
    expect(configured?.boot.args.at(-1)).toBe(`talos.config=${url}`);
    expect(groups.filter((g) => g.selector).every((g) => g.profile === CONFIGURED_PROFILE_ID)).toBe(true);
    expect(groups.find((g) => g.id === "default")?.profile).toBe(MAINTENANCE_PROFILE_ID);
  });

  it("serve the home site's amd64 assets from the same renderer", () => {
    const home = siteConfig({ architecture: "x86_64", bastion: { instanceType: "t3.small" }, network: { natInstance: { instanceType: "t3.nano" } }, talos: { nodeInstanceType: "t3.large" } }, "home");
    const { profiles, groups } = parsed(home);
    expect(profiles[0]!.boot.kernel).toBe("/assets/talos/v1.11.6/amd64/vmlinuz");
    expect(profiles[0]!.boot.args).toContain("pti=on");
    expect(groups[0]!.selector).toEqual({ ip: "10.17.13.11" });
  });
});

describe("amd64 nodes beside the Graviton bastion (talos.architecture)", () => {
  const config = siteConfig(AMD64_COZYSTACK_OVERRIDE);

  it("the bastion bundle fetches and serves amd64 Talos with the x86 kernel arguments; the bastion itself stays arm64", () => {
    const bundle = renderBastionBundle(config);
    const fetch = bundle[FETCH_TALOS_ASSETS_SCRIPT]!;
    expect(fetch).toContain(`https://factory.talos.dev/image/${config.talos.schematicId}/v1.11.6/kernel-amd64`);
    expect(fetch).toContain(`https://factory.talos.dev/image/${config.talos.schematicId}/v1.11.6/initramfs-amd64.xz`);
    expect(fetch).not.toContain("arm64");
    const profile = JSON.parse(bundle[`matchbox/profiles/${MAINTENANCE_PROFILE_ID}.json`]!) as Profile;
    expect(profile.name).toBe("Talos v1.11.6 amd64 (maintenance mode)");
    expect(profile.boot.kernel).toBe("/assets/talos/v1.11.6/amd64/vmlinuz");
    expect(profile.boot.args).toEqual(talosKernelArgs("x86_64"));
    expect(profile.boot.args).toContain("pti=on");
    // The bastion runs the arm64 Compose plugin on its Graviton instance.
    const userData = renderBastionBootScript(config);
    expect(userData).toContain("docker-compose-linux-aarch64");
    expect(userData).not.toContain("docker-compose-linux-x86_64");
  });
});

describe("rendered matchbox profile files", () => {
  it.each(["aws", "home"] as const)("the %s site's arm64 profiles carry no x86-only kernel args", (site) => {
    const files = renderMatchboxFiles(siteConfig({ talos: { machineConfigUrl: "http://10.20.13.140:8080/c.yaml" } }, site));
    const profiles = Object.entries(files).filter(([path]) => path.startsWith("profiles/"));
    expect(profiles).toHaveLength(2);
    for (const [path, text] of profiles) {
      const args = (JSON.parse(text) as Profile).boot.args;
      expect(args, path).not.toContain("pti=on");
      expect(args.filter((arg) => /^k?pti=/.test(arg)), path).toEqual([]);
    }
  });
});
