import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { renderCozystackInstallCommands } from "../templates/cozystack.js";
import { parse, parseAllDocuments } from "yaml";
import { COZYSTACK_RELEASES } from "../config/cozystack.js";
import { AMD64_COZYSTACK_OVERRIDE, AMD64_COZYSTACK_V1_OVERRIDE, siteConfig, synthStack } from "./helpers/synth.js";
import {
  COZYSTACK_KERNEL_MODULES,
  renderTalosCommands,
  renderTalosFiles,
  renderTalosPatches,
} from "../templates/talos-patches.js";
import { siteView } from "../config/site-view.js";
import type { SiteConfig } from "../config/schema.js";
import { renderIpxeScript } from "../templates/ipxe.js";
import { renderMatchboxGroups } from "../templates/matchbox.js";
import { KUBERNETES_API_PORT, TALOS_API_PORT } from "../templates/talos-cluster.js";

type Tree = Record<string, unknown>;

/** CozyStack on amd64 nodes, the pinned release; the built-in sites have it off. */
const cozystackSite = () => siteConfig(AMD64_COZYSTACK_OVERRIDE);

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
  "machine.files[].permissions",
  "machine.nodeLabels.*.$patch",
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
  "cluster.controllerManager.extraArgs.bind-address",
  "cluster.scheduler.extraArgs.bind-address",
  "cluster.etcd.advertisedSubnets[]",
]);
/** Maps whose keys are data, not field names. */
const FREE_MAPS = new Set(["machine.registries.mirrors", "machine.sysctls", "machine.nodeLabels"]);

function leafPaths(value: unknown, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => leafPaths(item, `${path}[]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, child]) => leafPaths(child, FREE_MAPS.has(path) ? `${path}.*` : path ? `${path}.${key}` : key));
  }
  return [path];
}

describe("Talos patches: structure", () => {
  it("parse back as YAML and use only known Talos v1alpha1 fields", () => {
    const rendered = patches(cozystackSite());
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
    const cozy = patches(cozystackSite())["patches/cozystack.yaml"]!;
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
    const cozy = patches(cozystackSite())["patches/cozystack.yaml"]!;
    const machine = cozy.machine as { kernel: { modules: unknown[] }; sysctls: Tree };
    // The list itself is checked against the pinned release's own patch below.
    expect(machine.kernel.modules).toEqual(COZYSTACK_KERNEL_MODULES);
    expect(machine.sysctls).toEqual({
      "net.ipv4.neigh.default.gc_thresh1": "4096",
      "net.ipv4.neigh.default.gc_thresh2": "8192",
      "net.ipv4.neigh.default.gc_thresh3": "16384",
    });
    expect(cozy.cluster).toMatchObject({ network: { cni: { name: "none" } }, proxy: { disabled: true } });
    expect(siteConfig().talos.cozystack.enabled).toBe(false);
    expect(Object.keys(patches())).not.toContain("patches/cozystack.yaml");
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

  it("controlplane with CozyStack: the load-balancer exclusion label removed, controller-manager and scheduler metrics on every address", () => {
    const text = renderTalosPatches(cozystackSite())["patches/controlplane.yaml"]!;
    expect(text).not.toMatch(/[&*]a\d/);
    expect(text).toContain("nodeLabels:\n    node.kubernetes.io/exclude-from-external-load-balancers:\n      $patch: delete\n");
    expect(parse(text)).toEqual({
      machine: { nodeLabels: { "node.kubernetes.io/exclude-from-external-load-balancers": { $patch: "delete" } } },
      cluster: {
        allowSchedulingOnControlPlanes: true,
        apiServer: { certSANs: ["10.20.13.11", "127.0.0.1"] },
        controllerManager: { extraArgs: { "bind-address": "0.0.0.0" } },
        scheduler: { extraArgs: { "bind-address": "0.0.0.0" } },
        etcd: { advertisedSubnets: ["10.20.13.0/24"] },
      },
    });
  });

  it("cozystack: the LVM filter file is written with the release's octal permissions", () => {
    expect(renderTalosPatches(cozystackSite())["patches/cozystack.yaml"]).toContain("    - op: overwrite\n      path: /etc/lvm/lvm.conf\n      permissions: 0o644\n");
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
    const files = renderTalosFiles(cozystackSite(), "lab/talos");
    const readme = files["README.md"]!;
    for (const path of Object.keys(files).filter((p) => p.endsWith(".yaml") && !p.includes("/nodes/"))) expect(readme).toContain(`\`${path}\``);
    expect(readme).toContain("--config-patch @lab/talos/patches/cozystack.yaml");
    expect(readme).toContain("--config-patch-control-plane @lab/talos/patches/controlplane.yaml");
    expect(readme).toContain("talosctl --talosconfig lab/talos/generated/talosconfig bootstrap");
  });
});

describe("docs/cozystack.md", () => {
  const doc = readFileSync(new URL("../docs/cozystack.md", import.meta.url), "utf8");
  const commandLines = (text: string) => text.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#"));

  it("contains every command the renderer prints for CozyStack on amd64 nodes, verbatim", () => {
    const config = cozystackSite();
    const commands = commandLines([renderTalosCommands(config, "talos"), renderCozystackInstallCommands(config, "talos")].join("\n"));
    expect(commands.length).toBeGreaterThan(10);
    for (const line of commands) expect(doc, line).toContain(line);
  });

  it("README and docs/cozystack.md turn CozyStack on with the override the tests use, and it synthesizes amd64 nodes beside the Graviton bastion", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const shown = /## CozyStack: what runs where[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(JSON.parse(shown!)).toEqual(AMD64_COZYSTACK_OVERRIDE);
    const written = /cat > cozystack\.json <<'EOF'\n([\s\S]*?)EOF\n/.exec(doc)?.[1];
    expect(JSON.parse(written!)).toEqual(AMD64_COZYSTACK_OVERRIDE);
    const stack = synthStack(cozystackSite());
    const templates = stack.resource.aws_launch_template!;
    expect(templates.talos_node).toMatchObject({ instance_type: "t3a.xlarge" });
    expect(templates.bastion).toMatchObject({ instance_type: "t4g.small", image_id: expect.stringMatching(/arm64$/) });
    expect(stack.data!.aws_ami!.talos_node).toMatchObject({ filter: [{ name: "name", values: ["talos-v1.11.6-eu-west-1-amd64"] }, { name: "architecture", values: ["x86_64"] }] });
  });

  it("contains the 1.x release's install commands and its Kubernetes pin, verbatim", () => {
    const config = siteConfig(AMD64_COZYSTACK_V1_OVERRIDE);
    const commands = commandLines(renderCozystackInstallCommands(config, "talos"));
    expect(commands).toHaveLength(5);
    const pin = "  --kubernetes-version v1.33.12 \\";
    expect(renderTalosCommands(config, "talos")).toContain(pin);
    for (const line of [...commands, pin]) expect(doc, line).toContain(line);
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


/**
 * Every key of each release's own Talos patch (its end-to-end test's cluster-wide and control-plane
 * patches, copied in fixtures/cozystack/) against ours for a site running that release: the same
 * value, or, for the keys in SITE_OWN, the site's own value instead of the release's test network.
 */
describe.each([
  ["v0.41.11", AMD64_COZYSTACK_OVERRIDE],
  ["v1.6.2", AMD64_COZYSTACK_V1_OVERRIDE],
] as const)("our patches against CozyStack %s's own Talos patch", (release, override) => {
  const config = siteConfig(override);
  const text = readFileSync(new URL(`./fixtures/cozystack/${release}-talos-patch.yaml`, import.meta.url), "utf8");
  const [clusterWide, controlPlane] = parseAllDocuments(text).map((doc) => doc.toJS() as Tree);
  const rendered = patches(config);
  // What a control-plane node gets: every patch applied to it (all nodes here are control planes).
  const ours = leaves(mergeTrees(rendered["patches/common.yaml"]!, rendered["patches/cozystack.yaml"]!, rendered["patches/controlplane.yaml"]!));
  const theirs = [...leaves(clusterWide!), ...leaves(controlPlane!)];

  it("the fixture is the release's and names its source", () => {
    expect(config.talos.cozystack.version).toBe(release);
    expect(text).toContain(COZYSTACK_RELEASES[release].talosPatchSource);
    expect(text).toContain(COZYSTACK_RELEASES[release].commit);
    expect(theirs.length).toBeGreaterThan(30);
  });

  it.each(SITE_OWN.map((entry) => [entry.prefix, entry] as const))("%s: the site's own value, not the release's test network", (_prefix, { prefix, expected }) => {
    expect(theirs.some(([path]) => path.startsWith(prefix)), `the release's patch sets ${prefix}`).toBe(true);
    const mine = ours.filter(([path]) => path.startsWith(prefix));
    expect(Object.fromEntries(mine)).toEqual(expected(config));
  });

  it("sets every other key of the release's patch to the release's value (file contents: every line of it)", () => {
    const checked = theirs.filter(([path]) => !SITE_OWN.some(({ prefix }) => path.startsWith(prefix)));
    const mine = new Map(ours);
    for (const [path, value] of checked) {
      if (path.endsWith(".content") && typeof value === "string") {
        const lines = new Set(String(mine.get(path) ?? "").split("\n").map((l) => l.trim()));
        for (const line of value.split("\n").map((l) => l.trim())) expect(lines.has(line), `${path}: ${line}`).toBe(true);
      } else {
        expect(mine.get(path), path).toEqual(value);
      }
    }
    // The nodeLabels key is compared like any other: the release deletes the load-balancer label.
    expect(checked.map(([path]) => path)).toContain("machine.nodeLabels.node.kubernetes.io/exclude-from-external-load-balancers.$patch");
  });
});

/**
 * Keys of the release's patch that carry its test cluster's network or test setup; ours carry the
 * site's. Everything else must match.
 */
const SITE_OWN: readonly { readonly prefix: string; readonly expected: (config: Readonly<SiteConfig>) => Record<string, unknown> }[] = [
  // The release's QEMU network 192.168.123.0/24; ours is the private subnet.
  { prefix: "machine.kubelet.nodeIP.validSubnets", expected: (c) => ({ [`machine.kubelet.nodeIP.validSubnets[${c.network.privateSubnet.cidr}]`]: true }) },
  { prefix: "cluster.etcd.advertisedSubnets", expected: (c) => ({ [`cluster.etcd.advertisedSubnets[${c.network.privateSubnet.cidr}]`]: true }) },
  // Its mirrors are its CI's; ours are the bastion's caches.
  {
    prefix: "machine.registries.mirrors",
    expected: (c) => Object.fromEntries(c.services.registryCaches.map((cache) => [`machine.registries.mirrors.${cache.name}.endpoints[http://${c.bastion.privateIp}:${cache.port}]`, true])),
  },
  // A layer-2 VIP on eth0: a VPC has none, so the endpoint is the first node (talos-cluster.ts).
  { prefix: "machine.network.interfaces", expected: () => ({}) },
  // OIDC against the test's Keycloak at keycloak.example.org: not a node requirement.
  { prefix: "cluster.apiServer.extraArgs", expected: () => ({}) },
  // The release adds 127.0.0.1; ours also the first node, the cluster endpoint.
  { prefix: "cluster.apiServer.certSANs", expected: (c) => ({ [`cluster.apiServer.certSANs[${c.talos.nodeIps[0]}]`]: true, "cluster.apiServer.certSANs[127.0.0.1]": true }) },
];

/** Strategic merge of patch trees, as talosctl applies several patches: maps merge, lists append. */
function mergeTrees(...trees: Tree[]): Tree {
  const merged: Tree = {};
  for (const tree of trees) {
    for (const [key, value] of Object.entries(tree)) {
      const before = merged[key];
      merged[key] = Array.isArray(before) && Array.isArray(value) ? [...before, ...value] : isTree(before) && isTree(value) ? mergeTrees(before, value) : value;
    }
  }
  return merged;
}

const isTree = (value: unknown): value is Tree => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A patch as [path, value] leaves. List items are named by their identity (a module's name, a
 * file's path), scalar list items by their value (`[value]` → true), so order does not matter.
 */
function leaves(value: unknown, path = ""): [string, unknown][] {
  if (Array.isArray(value)) {
    return value.flatMap((item): [string, unknown][] => (isTree(item) ? leaves(item, `${path}[${String(item.name ?? item.path)}]`) : [[`${path}[${String(item)}]`, true]]));
  }
  if (isTree(value)) return Object.entries(value).flatMap(([key, child]) => leaves(child, path ? `${path}.${key}` : key));
  return [[path, value]];
}
