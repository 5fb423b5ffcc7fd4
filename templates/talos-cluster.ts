/**
 * The cluster's addresses as the operator types them: Talos API and Kubernetes API endpoints
 * (the first node: a VPC has no L2 VIP), and the commands that launch and configure the nodes.
 * One place for these strings, so outputs, the rendered README and the docs cannot drift apart.
 */
import type { SiteConfig } from "../config/schema.js";

/** Talos API port (apid). */
export const TALOS_API_PORT = 50000;
/** Kubernetes API server port. */
export const KUBERNETES_API_PORT = 6443;
/** Amazon Time Sync Service, reachable from every instance without any security group rule. */
export const AWS_TIME_SERVER = "169.254.169.123";

/** The control-plane endpoint node: the first configured address. */
export function firstNodeIp(config: Readonly<SiteConfig>): string {
  const first = config.talos.nodeIps[0];
  if (!first) throw new Error("talos.nodeIps is empty; the schema requires at least one address");
  return first;
}

/** `talosctl --endpoints` value. */
export function talosApiEndpoint(config: Readonly<SiteConfig>): string {
  return `${firstNodeIp(config)}:${TALOS_API_PORT}`;
}

/** `cluster.controlPlane.endpoint`, the URL every kubelet and kubectl uses. */
export function kubernetesEndpoint(config: Readonly<SiteConfig>): string {
  return `https://${firstNodeIp(config)}:${KUBERNETES_API_PORT}`;
}
