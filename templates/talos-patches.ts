/**
 * Talos machine-config patches (v1alpha1 documents, Talos 1.11 field names) rendered from the
 * config, for `talosctl gen config --config-patch @…` / `talosctl apply-config --config-patch @…`
 * or talm. Every node of this lab is a control plane (1-3 nodes, CozyStack's documented topology),
 * so the endpoint is the first node's address: a VPC has no L2 VIP.
 *
 * - `common.yaml`: site facts — registry mirrors on the bastion, time server, install disk/image,
 *   node subnet, cluster name and endpoint.
 * - `cozystack.yaml` (when talos.cozystack.enabled): CozyStack's documented node settings.
 * - `controlplane.yaml`: control-plane settings (scheduling on control planes, etcd subnet; with
 *   CozyStack also the release's own control-plane settings: load balancers may use the nodes,
 *   controller-manager and scheduler metrics on every address).
 * - `nodes/<name>.yaml`: the per-node hostname.
 */
import { Scalar, stringify } from "yaml";
import { cozystackRelease } from "../config/cozystack.js";
import type { SiteConfig } from "../config/schema.js";
import { COZYSTACK_DNS_DOMAIN, COZYSTACK_POD_SUBNET, COZYSTACK_SERVICE_SUBNET, cozystackConfigFile, renderCozystackInstallCommands } from "./cozystack.js";
import { siteView } from "../config/site-view.js";
import { talosInstallImage } from "./talos-assets.js";
import {
  AWS_TIME_SERVER,
  firstNodeIp,
  kubernetesEndpoint,
  talosApiEndpoint,
} from "./talos-cluster.js";

/**
 * Kernel modules CozyStack needs: kube-ovn (openvswitch), LINSTOR (drbd), ZFS, KubeVirt PCI
 * passthrough. The first four are the pinned release's own test patch (checked against
 * __tests__/fixtures/cozystack/); the vfio pair and the sysctls below are from its talosctl guide.
 */
export const COZYSTACK_KERNEL_MODULES: readonly { readonly name: string; readonly parameters?: readonly string[] }[] = [
  { name: "openvswitch" },
  // LINSTOR manages DRBD itself; the user-mode helper would confuse it.
  { name: "drbd", parameters: ["usermode_helper=disabled"] },
  { name: "zfs" },
  { name: "spl" },
  { name: "vfio_pci" },
  { name: "vfio_iommu_type1" },
];

/** Larger neighbour tables for the many pod and VM addresses an overlay network creates. */
export const COZYSTACK_SYSCTLS: Readonly<Record<string, string>> = {
  "net.ipv4.neigh.default.gc_thresh1": "4096",
  "net.ipv4.neigh.default.gc_thresh2": "8192",
  "net.ipv4.neigh.default.gc_thresh3": "16384",
};

/** containerd setting KubeVirt and LINSTOR need for device ownership inside pods. */
const CRI_CUSTOMIZATION = `[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    device_ownership_from_security_context = true
  [plugins."io.containerd.cri.v1.runtime"]
    device_ownership_from_security_context = true
`;

/**
 * LVM on the host must not scan DRBD, device-mapper, ZFS or loop devices: LINSTOR builds its
 * pools on them, and a host LVM that activates volumes inside them holds them open. From the
 * release's own patch (v1.6.2 hack/e2e-prepare-cluster.bats).
 */
const LVM_CONF = `backup {
  backup = 0
  archive = 0
}
devices {
  global_filter = [ "r|^/dev/drbd.*|", "r|^/dev/dm-.*|", "r|^/dev/zd.*|", "r|^/dev/loop.*|" ]
}
`;

/** rw-r--r--, written as YAML's octal so the patch reads as the release's does. */
const LVM_CONF_PERMISSIONS = Object.assign(new Scalar(0o644), { format: "OCT" as const });

export const TALOS_PATCH_DIR = "patches";

type Patch = Record<string, unknown>;

/** Registry mirrors: every upstream the bastion caches, plain HTTP (no TLS block needed). */
function registryMirrors(config: Readonly<SiteConfig>): Record<string, { endpoints: string[] }> {
  return Object.fromEntries(
    config.services.registryCaches.map((cache) => [cache.name, { endpoints: [`http://${config.bastion.privateIp}:${cache.port}`] }]),
  );
}

function commonPatch(config: Readonly<SiteConfig>): Patch {
  const nodeSubnet = config.network.privateSubnet.cidr;
  return {
    machine: {
      kubelet: { nodeIP: { validSubnets: [nodeSubnet] } },
      registries: { mirrors: registryMirrors(config) },
      // At home Talos keeps its default (time.cloudflare.com); in AWS the hypervisor's clock is local.
      ...(config.site.kind === "aws" ? { time: { servers: [AWS_TIME_SERVER] } } : {}),
      install: { disk: config.talos.installDisk, image: talosInstallImage(config.talos) },
    },
    cluster: {
      clusterName: config.talos.clusterName,
      controlPlane: { endpoint: kubernetesEndpoint(config) },
    },
  };
}

function cozystackPatch(): Patch {
  return {
    machine: {
      kubelet: { extraConfig: { maxPods: 512 } },
      sysctls: { ...COZYSTACK_SYSCTLS },
      kernel: { modules: COZYSTACK_KERNEL_MODULES.map((module) => ({ ...module })) },
      files: [
        { content: CRI_CUSTOMIZATION, path: "/etc/cri/conf.d/20-customization.part", op: "create" },
        { op: "overwrite", path: "/etc/lvm/lvm.conf", permissions: LVM_CONF_PERMISSIONS, content: LVM_CONF },
      ],
    },
    cluster: {
      network: {
        // CozyStack installs kube-ovn and Cilium (which also replaces kube-proxy) itself.
        cni: { name: "none" },
        dnsDomain: COZYSTACK_DNS_DOMAIN,
        podSubnets: [COZYSTACK_POD_SUBNET],
        serviceSubnets: [COZYSTACK_SERVICE_SUBNET],
      },
      proxy: { disabled: true },
      discovery: { enabled: false },
    },
  };
}

function controlPlanePatch(config: Readonly<SiteConfig>): Patch {
  const cozystack = config.talos.cozystack.enabled;
  // One object each: a shared one would render as a YAML anchor and alias.
  const metricsOnEveryAddress = () => ({ extraArgs: { "bind-address": "0.0.0.0" } });
  return {
    // Talos labels control planes node.kubernetes.io/exclude-from-external-load-balancers (its
    // config generator does, pkg/machinery/config/generate/init.go) and MetalLB honours it; every node here is a control plane, so CozyStack's LoadBalancer addresses
    // would never be announced. The release's control-plane patch deletes the label.
    ...(cozystack ? { machine: { nodeLabels: { "node.kubernetes.io/exclude-from-external-load-balancers": { $patch: "delete" } } } } : {}),
    cluster: {
      allowSchedulingOnControlPlanes: true,
      apiServer: { certSANs: [firstNodeIp(config), "127.0.0.1"] },
      // CozyStack's monitoring scrapes controller-manager and scheduler metrics from the node address.
      ...(cozystack ? { controllerManager: metricsOnEveryAddress(), scheduler: metricsOnEveryAddress() } : {}),
      etcd: { advertisedSubnets: [config.network.privateSubnet.cidr] },
    },
  };
}

function nodePatch(name: string): Patch {
  return { machine: { network: { hostname: name } } };
}

function yaml(patch: Patch): string {
  return stringify(patch, { lineWidth: 0 });
}

/** Patch files keyed by path relative to the output folder, e.g. "patches/common.yaml". */
export function renderTalosPatches(config: Readonly<SiteConfig>): Record<string, string> {
  const files: Record<string, string> = {
    [`${TALOS_PATCH_DIR}/common.yaml`]: yaml(commonPatch(config)),
  };
  if (config.talos.cozystack.enabled) files[`${TALOS_PATCH_DIR}/cozystack.yaml`] = yaml(cozystackPatch());
  files[`${TALOS_PATCH_DIR}/controlplane.yaml`] = yaml(controlPlanePatch(config));
  for (const { name } of siteView(config).nodes) files[`${TALOS_PATCH_DIR}/nodes/${name}.yaml`] = yaml(nodePatch(name));
  return files;
}

/**
 * The exact commands from nodes in maintenance mode to a bootstrapped cluster, with paths under
 * `dir` (the folder the files were rendered into, relative to where the operator runs them).
 */
export function renderTalosCommands(config: Readonly<SiteConfig>, dir: string): string {
  const patch = (name: string) => `@${dir}/${TALOS_PATCH_DIR}/${name}.yaml`;
  const generated = `${dir}/generated`;
  const talosconfig = `--talosconfig ${generated}/talosconfig`;
  const first = firstNodeIp(config);
  const kubernetesVersion = config.talos.cozystack.enabled ? cozystackRelease(config.talos.cozystack.version).kubernetesVersion : undefined;
  const genPatches = [
    `  --config-patch ${patch("common")} \\`,
    ...(config.talos.cozystack.enabled ? [`  --config-patch ${patch("cozystack")} \\`] : []),
    `  --config-patch-control-plane ${patch("controlplane")} \\`,
  ];
  const apply = siteView(config).nodes.map(
    ({ name, address }) => `talosctl apply-config --insecure --nodes ${address} --file ${generated}/controlplane.yaml --config-patch ${patch(`nodes/${name}`)}`,
  );
  return [
    "# 1. Cluster secrets, once (secrets.yaml and generated/ hold credentials: never commit them)",
    `talosctl gen secrets --output-file ${dir}/secrets.yaml`,
    "",
    "# 2. Machine configs for this cluster",
    `talosctl gen config ${config.talos.clusterName} ${kubernetesEndpoint(config)} \\`,
    `  --with-secrets ${dir}/secrets.yaml \\`,
    `  --talos-version ${config.talos.version} \\`,
    // The release's test cluster pins Kubernetes: talosctl's own default may be newer than it supports.
    ...(kubernetesVersion ? [`  --kubernetes-version ${kubernetesVersion} \\`] : []),
    ...genPatches,
    "  --output-types controlplane,talosconfig \\",
    `  --output ${generated}`,
    "",
    "# 3. Apply to every node in maintenance mode (one line per node)",
    ...apply,
    "",
    "# 4. Point talosctl at the first node, bootstrap etcd once, fetch the kubeconfig",
    `talosctl ${talosconfig} config endpoint ${first}`,
    `talosctl ${talosconfig} config node ${first}`,
    `talosctl ${talosconfig} bootstrap`,
    `talosctl ${talosconfig} kubeconfig ${generated}/kubeconfig`,
    `talosctl ${talosconfig} --nodes ${config.talos.nodeIps.join(",")} get machinestatus`,
    "",
  ].join("\n");
}

/** README of the rendered folder: what each patch holds and the commands, for the configured site. */
export function renderTalosReadme(config: Readonly<SiteConfig>, dir: string): string {
  const aws = config.site.kind === "aws";
  const nodes = siteView(config).nodes.map((node) => `| ${node.name} | ${node.address} |${aws ? ` ${node.instanceName} |` : ""}`);
  return `# Talos machine-config patches — ${config.site.name}

Rendered from the site config by \`npm run render:talos\`; do not edit by hand.
Talos ${config.talos.version}, cluster \`${config.talos.clusterName}\`, Talos API \`${talosApiEndpoint(config)}\`,
Kubernetes API \`${kubernetesEndpoint(config)}\` (the first node${aws ? ": no L2 VIP in a VPC" : ""}).

| Node | Address |${aws ? " EC2 Name tag |" : ""}
|---|---|${aws ? "---|" : ""}
${nodes.join("\n")}

| Patch | Holds |
|---|---|
| \`${TALOS_PATCH_DIR}/common.yaml\` | registry mirrors → the bastion's caches, time server, install disk and image, node subnet, cluster endpoint |
${config.talos.cozystack.enabled ? `| \`${TALOS_PATCH_DIR}/cozystack.yaml\` | CozyStack: kernel modules, sysctls, containerd device ownership, LVM filter, \`cni: none\`, kube-proxy off, discovery off |\n` : ""}| \`${TALOS_PATCH_DIR}/controlplane.yaml\` | scheduling on control planes, API server SANs, etcd subnet${config.talos.cozystack.enabled ? "; CozyStack's: load-balancer label removed, controller-manager and scheduler metrics on every address" : ""} |
| \`${TALOS_PATCH_DIR}/nodes/*.yaml\` | each node's hostname |
${config.talos.cozystack.enabled ? `| \`${cozystackConfigFile(config).name}\` | not a patch: ${cozystackFileSummary(config)} for the install step below |\n` : ""}
Run from the folder that holds \`${dir}/\` on a host that reaches the nodes${aws ? " (the bastion: docs/cozystack.md)" : ""}:

\`\`\`sh
${renderTalosCommands(config, dir)}\`\`\`
${config.talos.cozystack.enabled ? cozystackReadmeSection(config, dir) : ""}`;
}

/** What the install step's configuration file is, for the README. */
function cozystackFileSummary(config: Readonly<SiteConfig>): string {
  return cozystackRelease(config.talos.cozystack.version).installFlow === "configmap"
    ? `CozyStack's \`cozystack\` ConfigMap (bundle \`${config.talos.cozystack.bundle}\`, the patch's networks, API endpoint)`
    : `CozyStack's platform \`Package\` (bundle \`${config.talos.cozystack.bundle}\`, the patch's networks, API endpoint)`;
}

/** The README's install step: the pinned release's documented flow with the rendered file. */
function cozystackReadmeSection(config: Readonly<SiteConfig>, dir: string): string {
  const release = cozystackRelease(config.talos.cozystack.version);
  return `
Then install CozyStack ${config.talos.cozystack.version} by its own flow (${release.installFlowSource}),
with \`${dir}/${cozystackConfigFile(config).name}\`, ${cozystackFileSummary(config)},
and \`KUBECONFIG=${dir}/generated/kubeconfig\`:

\`\`\`sh
${renderCozystackInstallCommands(config, dir)}\`\`\`
`;
}

/** Everything \`npm run render:talos\` writes, keyed by path relative to `dir`. */
export function renderTalosFiles(config: Readonly<SiteConfig>, dir: string): Record<string, string> {
  const cozystack = config.talos.cozystack.enabled ? cozystackConfigFile(config) : undefined;
  return {
    ...renderTalosPatches(config),
    ...(cozystack ? { [cozystack.name]: cozystack.content } : {}),
    "README.md": renderTalosReadme(config, dir),
  };
}
