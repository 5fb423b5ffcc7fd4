import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { renderCozystackInstallCommands } from "../templates/cozystack.js";
import { parse, parseAllDocuments } from "yaml";
import { COZYSTACK_RELEASES } from "../config/cozystack.js";
import { siteConfig, synthStack } from "./helpers/synth.js";
import {
  COZYSTACK_KERNEL_MODULES,
  renderTalosCommands,
  renderTalosFiles,
  renderTalosPatches,
} from "../templates/talos-patches.js";
import { siteView } from "../config/site-view.js";
import { renderIpxeScript } from "../templates/ipxe.js";
import { renderMatchboxGroups } from "../templates/matchbox.js";
import { KUBERNETES_API_PORT, TALOS_API_PORT } from "../templates/talos-cluster.js";

type Tree = Record<string, unknown>;

function patches(config = siteConfig()): Record<string, Tree> {
  return Object.fromEntries(Object.entries(renderTalosPatches(config)).map(([path, text]) => [path, parse(text) as Tree]));
}

/**
 * The Talos v1alpha1 fields these patches may set (Talos 1.11 configuration reference; CozyStack's
 * talm preset for the CozyStack ones). `*` is a map key chosen by the config, `[]` a list item.
 * No Talos config JSON Schema ships in an npm or PyPI package, so the structure is asserted here;
 * __tests__/integration/talos-config.test.ts runs the patches through Talos' own validation.
 */
const TALOS_FIELDS = new Set([
  "machine.kubelet.nodeIP.validSubnets[]",
  "machine.kubelet.extraConfig.maxPods",
  "machine.registries.mirrors.*.endpoints[]",
  "machine.time.servers[]",
  "machine.install.disk",
  "machine.install.image",
  "machine.sysctls.*",
  "machine.kernel.modules[].name",
  "machine.kernel.modules[].parameters[]",
  "machine.files[].content",
  "machine.files[].path",
  "machine.files[].op",
  "machine.network.hostname",
  "cluster.clusterName",
  "cluster.controlPlane.endpoint",
  "cluster.network.cni.name",
  "cluster.network.dnsDomain",
  "cluster.network.podSubnets[]",
  "cluster.network.serviceSubnets[]",
  "cluster.proxy.disabled",
  "cluster.discovery.enabled",
  "cluster.allowSchedulingOnControlPlanes",
  "cluster.apiServer.certSANs[]",
  "cluster.etcd.advertisedSubnets[]",
]);
/** Maps whose keys are data, not field names. */
const FREE_MAPS = new Set(["machine.registries.mirrors", "machine.sysctls"]);

function leafPaths(value: unknown, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => leafPaths(item, `${path}[]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, child]) => leafPaths(child, FREE_MAPS.has(path) ? `${path}.*` : path ? `${path}.${key}` : key));
  }
  return [path];
}

describe("Talos patches: structure", () => {
  it("parse back as YAML and use only known Talos v1alpha1 fields", () => {
    const rendered = patches();
    expect(Object.keys(rendered).sort()).toEqual([
      "patches/common.yaml",
      "patches/controlplane.yaml",
      "patches/cozystack.yaml",
      "patches/nodes/talos-1.yaml",
      "patches/nodes/talos-2.yaml",
      "patches/nodes/talos-3.yaml",
    ]);
    for (const [file, tree] of Object.entries(rendered)) {
      const unknown = leafPaths(tree, "").filter((path) => !TALOS_FIELDS.has(path));
      expect(unknown, file).toEqual([]);
    }
  });

  it("values have the types Talos expects (sysctl values are strings, cni name is an accepted one)", () => {
    const cozy = patches()["patches/cozystack.yaml"]!;
    const machine = cozy.machine as Tree;
    for (const value of Object.values(machine.sysctls as Tree)) expect(typeof value).toBe("string");
    expect((cozy.cluster as { network: { cni: { name: string } } }).network.cni.name).toBe("none");
    for (const file of machine.files as { path: string; op: string }[]) {
      expect(file.path.startsWith("/")).toBe(true);
      expect(["create", "append", "overwrite"]).toContain(file.op);
    }
  });
});

describe("Talos patches: content", () => {
  it("common: mirrors for every cache on the bastion over plain HTTP, AWS time server, install disk and image, endpoint", () => {
    const config = siteConfig();
    expect(patches(config)["patches/common.yaml"]).toEqual({
      machine: {
        kubelet: { nodeIP: { validSubnets: ["10.20.13.0/24"] } },
        registries: {
          mirrors: {
            "docker.io": { endpoints: ["http://10.20.13.140:5050"] },
            "registry.k8s.io": { endpoints: ["http://10.20.13.140:5051"] },
            "quay.io": { endpoints: ["http://10.20.13.140:5052"] },
            "gcr.io": { endpoints: ["http://10.20.13.140:5053"] },
            "ghcr.io": { endpoints: ["http://10.20.13.140:5054"] },
          },
        },
        time: { servers: ["169.254.169.123"] },
        install: { disk: "/dev/nvme0n1", image: `factory.talos.dev/aws-installer/${config.talos.schematicId}:v1.11.6` },
      },
      cluster: { clusterName: "deathstar", controlPlane: { endpoint: "https://10.20.13.11:6443" } },
    });
  });

  it("the home site netboots (ipxe), so its nodes install with the metal installer", () => {
    const config = siteConfig({}, "home");
    expect(config.talos.boot).toBe("ipxe");
    expect((patches(config)["patches/common.yaml"] as { machine: { install: { image: string } } }).machine.install.image).toBe(
      `factory.talos.dev/metal-installer/${config.talos.schematicId}:v1.11.6`,
    );
  });

  it.each([
    ["talos-ami", {}, "factory.talos.dev/aws-installer/S:v1.11.6"],
    ["ipxe", { ipxeAmiId: "ami-0123456789abcdef0" }, "factory.talos.dev/metal-installer/S:v1.11.6"],
  ])("install image: %s boots install the %s platform's Image Factory installer unless set", (boot, extra, expected) => {
    const config = siteConfig({ talos: { boot, ...extra } });
    const image = (c: typeof config) => (patches(c)["patches/common.yaml"] as { machine: { install: { image: string } } }).machine.install.image;
    expect(image(config)).toBe(expected.replace("S", config.talos.schematicId));
    const own = "registry.example.net/talos/installer:v1.11.6";
    expect(image(siteConfig({ talos: { boot, ...extra, installImage: own } }))).toBe(own);
  });

  it("cozystack: CozyStack's modules, sysctls, no CNI, no kube-proxy; absent when CozyStack is off", () => {
    const cozy = patches()["patches/cozystack.yaml"]!;
    const machine = cozy.machine as { kernel: { modules: unknown[] }; sysctls: Tree };
    // The list itself is checked against the pinned release's own patch below.
    expect(machine.kernel.modules).toEqual(COZYSTACK_KERNEL_MODULES);
    expect(machine.sysctls).toEqual({
      "net.ipv4.neigh.default.gc_thresh1": "4096",
      "net.ipv4.neigh.default.gc_thresh2": "8192",
      "net.ipv4.neigh.default.gc_thresh3": "16384",
    });
    expect(cozy.cluster).toMatchObject({ network: { cni: { name: "none" } }, proxy: { disabled: true } });
    expect(Object.keys(patches(siteConfig({ talos: { cozystack: { enabled: false } } })))).not.toContain("patches/cozystack.yaml");
  });

  it("controlplane: scheduling on control planes, the first node in the API SANs, etcd on the node subnet", () => {
    expect(patches()["patches/controlplane.yaml"]).toEqual({
      cluster: {
        allowSchedulingOnControlPlanes: true,
        apiServer: { certSANs: ["10.20.13.11", "127.0.0.1"] },
        etcd: { advertisedSubnets: ["10.20.13.0/24"] },
      },
    });
  });

  it("home site: mirrors on the home fileserver, Talos' default time servers", () => {
    const common = patches(siteConfig({}, "home"))["patches/common.yaml"]!;
    const machine = common.machine as { registries: { mirrors: Record<string, { endpoints: string[] }> }; time?: unknown };
    expect(machine.registries.mirrors["ghcr.io"]!.endpoints).toEqual(["http://10.17.13.140:5054"]);
    expect(machine.time).toBeUndefined();
    expect(common.cluster).toMatchObject({ controlPlane: { endpoint: "https://10.17.13.11:6443" } });
  });
});

describe("one source of truth: iPXE, matchbox, patches, outputs", () => {
  for (const site of ["aws", "home"] as const) {
    it(`${site}: every artifact names the same bastion, ports, node addresses and names`, () => {
      const net = site === "aws" ? "10.20.13" : "10.17.13";
      const config = siteConfig(
        {
          bastion: { privateIp: `${net}.150` },
          services: { matchboxPort: 8090 },
          talos: { nodeIps: [`${net}.31`, `${net}.32`] },
          usage: { nodesPerSession: 2 },
        },
        site,
      );
      const bastion = config.bastion.privateIp;
      expect(siteView(config).matchboxUrl).toBe(`http://${bastion}:8090`);
      expect(renderIpxeScript(config)).toContain(`chain --autofree http://${bastion}:8090/ipxe?ip=\${net0/ip}&`);

      const groups = renderMatchboxGroups(config).filter((group) => group.selector);
      expect(groups.map((group) => group.selector!.ip)).toEqual(config.talos.nodeIps);
      // The iPXE script sends the label the groups select on.
      for (const group of groups) expect(Object.keys(group.selector!)).toEqual(["ip"]);

      const rendered = patches(config);
      const mirrors = ((rendered["patches/common.yaml"]!.machine as Tree).registries as { mirrors: Record<string, { endpoints: string[] }> }).mirrors;
      expect(Object.values(mirrors).map((m) => m.endpoints[0])).toEqual(config.services.registryCaches.map((c) => `http://${bastion}:${c.port}`));

      const hostnames = groups.map((group) => group.metadata!.hostname);
      expect(hostnames.map((name) => (rendered[`patches/nodes/${name}.yaml`]!.machine as { network: { hostname: string } }).network.hostname)).toEqual(hostnames);

      const endpoint = (rendered["patches/common.yaml"]!.cluster as { controlPlane: { endpoint: string } }).controlPlane.endpoint;
      expect(endpoint).toBe(`https://${config.talos.nodeIps[0]}:${KUBERNETES_API_PORT}`);
      const commands = renderTalosCommands(config, "talos");
      expect(commands).toContain(`talosctl gen config ${config.talos.clusterName} ${endpoint} \\`);
      config.talos.nodeIps.forEach((ip, i) =>
        expect(commands).toContain(`talosctl apply-config --insecure --nodes ${ip} --file talos/generated/controlplane.yaml --config-patch @talos/patches/nodes/${hostnames[i]}.yaml`),
      );

      if (site === "aws") {
        const output = synthStack(config).output!;
        expect(output.talos_node_ips!.value).toEqual(config.talos.nodeIps);
        expect(output.kubernetes_endpoint!.value).toBe(endpoint);
        expect(output.talosctl_endpoint!.value).toBe(`${config.talos.nodeIps[0]}:${TALOS_API_PORT}`);
      }
    });
  }
});

describe("rendered folder", () => {
  it("README lists every patch it renders and the commands use the folder it is written to", () => {
    const files = renderTalosFiles(siteConfig(), "lab/talos");
    const readme = files["README.md"]!;
    for (const path of Object.keys(files).filter((p) => p.endsWith(".yaml") && !p.includes("/nodes/"))) expect(readme).toContain(`\`${path}\``);
    expect(readme).toContain("--config-patch @lab/talos/patches/cozystack.yaml");
    expect(readme).toContain("--config-patch-control-plane @lab/talos/patches/controlplane.yaml");
    expect(readme).toContain("talosctl --talosconfig lab/talos/generated/talosconfig bootstrap");
  });
});

describe("docs/cozystack.md", () => {
  it("contains every command the renderer prints for the default site, verbatim", () => {
    const doc = readFileSync(new URL("../docs/cozystack.md", import.meta.url), "utf8");
    const commands = [renderTalosCommands(siteConfig(), "talos"), renderCozystackInstallCommands(siteConfig(), "talos")]
      .join("\n")
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.startsWith("#"));
    expect(commands.length).toBeGreaterThan(10);
    for (const line of commands) expect(doc, line).toContain(line);
  });
});

describe("scripts/talos-config-check", () => {
  it("validates with the machinery of the Talos release the built-in sites run", () => {
    const goMod = readFileSync(new URL("../scripts/talos-config-check/go.mod", import.meta.url), "utf8");
    const pinned = /github\.com\/siderolabs\/talos\/pkg\/machinery (v\S+)/.exec(goMod)?.[1];
    expect(pinned).toBe(siteConfig().talos.version);
    expect(pinned).toBe(siteConfig({}, "home").talos.version);
  });
});

describe("patches/cozystack.yaml against the pinned CozyStack release's own Talos patch", () => {
  /** Fixture named after the release; its header names the source file and commit. */
  const release = siteConfig().talos.cozystack.version;
  const text = readFileSync(new URL(`./fixtures/cozystack/${release}-talos-patch.yaml`, import.meta.url), "utf8");
  const [clusterWide, controlPlane] = parseAllDocuments(text).map((doc) => doc.toJS() as ReleasePatch);
  const ours = patches();
  const cozy = ours["patches/cozystack.yaml"] as ReleasePatch;
  const cp = ours["patches/controlplane.yaml"] as ReleasePatch;

  it("the fixture is the pinned release's and names its source", () => {
    expect(text).toContain(`https://github.com/cozystack/cozystack/blob/${release}/hack/e2e-prepare-cluster.bats`);
    expect(text).toContain(COZYSTACK_RELEASES[release].commit);
    expect(clusterWide?.machine?.kernel?.modules?.length).toBeGreaterThan(0);
  });

  it("loads every kernel module the release loads, with the same parameters", () => {
    const loaded = new Map(cozy.machine!.kernel!.modules!.map((m) => [m.name, m.parameters ?? []]));
    for (const module of clusterWide!.machine!.kernel!.modules!) expect(loaded.get(module.name), module.name).toEqual(module.parameters ?? []);
  });

  it("sets every sysctl the release sets, to the same value", () => {
    for (const [key, value] of Object.entries(clusterWide!.machine!.sysctls ?? {})) expect(cozy.machine!.sysctls![key], key).toBe(value);
  });

  it("has the release's CNI (none), networks, cluster domain and pod limit", () => {
    expect(cozy.cluster!.network).toEqual(clusterWide!.cluster!.network);
    expect(cozy.machine!.kubelet!.extraConfig).toEqual(clusterWide!.machine!.kubelet!.extraConfig);
  });

  it("turns kube-proxy and discovery off and schedules on control planes, as the release does", () => {
    expect(cozy.cluster!.proxy).toEqual(controlPlane!.cluster!.proxy);
    expect(cozy.cluster!.discovery).toEqual(controlPlane!.cluster!.discovery);
    expect(cp.cluster!.allowSchedulingOnControlPlanes).toBe(controlPlane!.cluster!.allowSchedulingOnControlPlanes);
    expect(cp.cluster!.apiServer!.certSANs).toEqual(expect.arrayContaining(controlPlane!.cluster!.apiServer!.certSANs!));
  });

  it("writes the release's containerd customization (every line of it, same path and op)", () => {
    for (const file of clusterWide!.machine!.files!) {
      const mine = cozy.machine!.files!.find((f) => f.path === file.path);
      expect(mine, file.path).toMatchObject({ op: file.op });
      const lines = new Set(mine!.content.split("\n").map((l) => l.trim()));
      for (const line of file.content.split("\n").map((l) => l.trim())) expect(lines.has(line), line).toBe(true);
    }
  });
});

/**
 * The parts of a Talos patch compared with the release's. Left out on purpose: registry mirrors,
 * the node subnet, etcd subnets and the VIP (the release's test network; ours come from the site),
 * OIDC flags and bind addresses (the release's test setup, not node requirements).
 */
interface ReleasePatch {
  machine?: {
    kernel?: { modules?: { name: string; parameters?: string[] }[] };
    sysctls?: Record<string, string>;
    kubelet?: { extraConfig?: Record<string, unknown> };
    files?: { path: string; op: string; content: string }[];
  };
  cluster?: {
    network?: Record<string, unknown>;
    proxy?: Record<string, unknown>;
    discovery?: Record<string, unknown>;
    allowSchedulingOnControlPlanes?: boolean;
    apiServer?: { certSANs?: string[] };
  };
}
