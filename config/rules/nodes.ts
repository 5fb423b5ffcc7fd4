/** Cross-field rules about the Talos nodes a session launches. */
import type { SiteConfig } from "../schema.js";
import type { Problem } from "./problem.js";

/** Rule ipxeBootHasAmi: in AWS, iPXE boots from an AMI the operator imports; the Talos AMI needs none. */
export function ipxeBootHasAmi(c: SiteConfig): Problem[] {
  if (c.talos.boot !== "ipxe" || c.site.kind !== "aws" || c.talos.ipxeAmiId) return [];
  return [{ path: ["talos", "ipxeAmiId"], message: 'is required when talos.boot is "ipxe": import bin-arm64-efi/ipxe.usb as an AMI (docs/netboot.md) or set talos.boot to "talos-ami"' }];
}

/** Rule sessionNodesConfigured: the cost model's session cannot run more nodes than there are addresses. */
export function sessionNodesConfigured(c: SiteConfig): Problem[] {
  if (c.usage.nodesPerSession <= c.talos.nodeIps.length) return [];
  return [{ path: ["usage", "nodesPerSession"], message: `is ${c.usage.nodesPerSession} but only ${c.talos.nodeIps.length} node addresses are configured in talos.nodeIps` }];
}
