/**
 * CozyStack's install step for the pinned release (config/cozystack.ts): the `cozystack`
 * ConfigMap and the commands of the release's documented flow (namespace, ConfigMap, installer
 * manifest). The networks are the ones the Talos patch gives the cluster, so the two cannot drift.
 */
import { stringify } from "yaml";
import { COZYSTACK_RELEASES } from "../config/cozystack.js";
import type { SiteConfig } from "../config/schema.js";
import { kubernetesEndpoint } from "./talos-cluster.js";

/** CozyStack's documented pod and service networks and cluster domain (its talosctl guide and test cluster). */
export const COZYSTACK_POD_SUBNET = "10.244.0.0/16";
export const COZYSTACK_SERVICE_SUBNET = "10.96.0.0/16";
export const COZYSTACK_DNS_DOMAIN = "cozy.local";
/** File name of the ConfigMap in the rendered folder. */
export const COZYSTACK_CONFIG_FILE = "cozystack-config.yaml";
/** Kube-OVN's join network between nodes and pods: the release's documented default. */
export const COZYSTACK_JOIN_CIDR = "100.64.0.0/16";

/** The first address of a network: the pod network's gateway. */
function gatewayOf(cidr: string): string {
  const [network = ""] = cidr.split("/");
  const octets = network.split(".").map(Number);
  octets[3] = (octets[3] ?? 0) + 1;
  return octets.join(".");
}

/** The `cozystack` ConfigMap in cozy-system that the installer reads. */
export function renderCozystackConfigMap(config: Readonly<SiteConfig>): string {
  return stringify(
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cozystack", namespace: "cozy-system" },
      data: {
        "bundle-name": config.talos.cozystack.bundle,
        "root-host": config.services.localDomain,
        "api-server-endpoint": kubernetesEndpoint(config),
        "ipv4-pod-cidr": COZYSTACK_POD_SUBNET,
        "ipv4-pod-gateway": gatewayOf(COZYSTACK_POD_SUBNET),
        "ipv4-svc-cidr": COZYSTACK_SERVICE_SUBNET,
        "ipv4-join-cidr": COZYSTACK_JOIN_CIDR,
      },
    },
    { lineWidth: 0 },
  );
}

/** The release's documented install commands, with the ConfigMap under `dir`. */
export function renderCozystackInstallCommands(config: Readonly<SiteConfig>, dir: string): string {
  const release = COZYSTACK_RELEASES[config.talos.cozystack.version];
  return [
    `# CozyStack ${config.talos.cozystack.version} (Talos ${release.talosVersion}), bundle ${config.talos.cozystack.bundle}`,
    "kubectl create ns cozy-system --dry-run=client --output yaml | kubectl apply -f -",
    `kubectl apply -f ${dir}/${COZYSTACK_CONFIG_FILE}`,
    `kubectl apply -f ${release.installerManifest}`,
    "kubectl logs -n cozy-system deploy/cozystack -f",
    "kubectl get hr -A",
    "",
  ].join("\n");
}
