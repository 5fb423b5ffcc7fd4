/**
 * The scenarios of the OpenTofu lifecycle test (integration/lifecycle.test.ts). Two settings decide
 * which resources the stack creates and how: the NAT mode and the nodes' boot mode. Their six pairs
 * are not each applied: every NAT mode and every boot mode is applied once, in three scenarios, and
 * lifecycle-coverage.test.ts proves that this applies every block of all six pairs, word for word
 * (each block depends on one setting at most, and a block that depends on one never refers to a
 * block that depends on the other).
 */
import { IPXE_AMI_ID } from "./moto.js";

export const NAT_MODES = ["gateway", "instance", "bastion"] as const;
export const BOOT_MODES = ["talos-ami", "ipxe"] as const;
export type NatMode = (typeof NAT_MODES)[number];
export type BootMode = (typeof BOOT_MODES)[number];

/** What the lifecycle test applies; the last is the default site. */
export const LIFECYCLE_SCENARIOS: readonly { readonly nat: NatMode; readonly boot: BootMode }[] = [
  { nat: "gateway", boot: "ipxe" },
  { nat: "instance", boot: "talos-ami" },
  { nat: "bastion", boot: "talos-ami" },
];

/** The site config override of one pair. */
export function lifecycleOverride(nat: NatMode, boot: BootMode): Record<string, unknown> {
  return {
    network: { nat },
    talos: boot === "ipxe" ? { boot, ipxeAmiId: IPXE_AMI_ID } : { boot },
    // The cost guard has its own tests; here the NAT Gateway must synth despite the default budget.
    budget: { allowOver: true },
  };
}
