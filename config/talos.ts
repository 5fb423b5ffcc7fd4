/**
 * Facts about Talos that the config itself needs (defaults, rules, sizing), below the templates
 * that render URLs from them.
 */
import type { SiteConfig } from "./schema.js";

/** Image Factory's schematic with no extensions and no extra kernel arguments. */
export const VANILLA_SCHEMATIC_ID = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

/** Image Factory installer of each boot mode's platform: an AWS-booted node stays on the aws platform when it upgrades. */
export const INSTALLER_BY_BOOT = { "talos-ami": "aws-installer", ipxe: "metal-installer" } as const satisfies Record<SiteConfig["talos"]["boot"], string>;

/** The longest session `talos.sessionHours` and `-var talos_session_hours` allow: a long weekend. */
export const TALOS_SESSION_MAX_HOURS = 72;

/** Talos' documented minimum memory for a control-plane node. */
export const TALOS_CONTROL_PLANE_MIN_MEMORY_GIB = 2;

/**
 * The nodes' CPU architecture: `talos.architecture`, else the site's `architecture`. It picks the
 * Talos AMI, the netboot kernel and initramfs, the kernel arguments and the node-type rule and
 * presets; the bastion, NAT instance and caches keep the site's `architecture`.
 */
export function nodeArchitecture(config: Pick<SiteConfig, "architecture" | "talos">): SiteConfig["architecture"] {
  return config.talos.architecture ?? config.architecture;
}
