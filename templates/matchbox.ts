/**
 * matchbox data rendered from the config: profiles (what to boot) and groups (who boots it).
 * Nodes are matched by the `ip` label the iPXE script sends (their fixed address from
 * talos.nodeIps): with fixed addresses the address is the node's identity, so one iPXE script
 * serves every node and the launch template needs no per-node user-data; each group's metadata
 * carries the node's name and role. Anything else matches the selector-less default group and
 * boots Talos in maintenance mode, which is CozyStack's documented flow (`talm apply -i`).
 */
import type { SiteConfig } from "../config/schema.js";
import { MATCHBOX_DEFAULT_GROUP, siteView } from "../config/site-view.js";
import { nodeArchitecture } from "../config/talos.js";
import { talosArch, talosAssets } from "./talos-assets.js";

export const MAINTENANCE_PROFILE_ID = "talos-maintenance";
export const CONFIGURED_PROFILE_ID = "talos-configured";

/**
 * Talos metal kernel arguments (Talos' documented set), console on the EC2/QEMU serial port.
 * `pti=on` (page table isolation) exists only on x86; arm64 kernels spell it `kpti=` and enable it
 * by themselves on cores that need it, so arm64 profiles leave it out.
 */
export function talosKernelArgs(architecture: SiteConfig["architecture"]): string[] {
  return [
    "initrd=initramfs.xz",
    "init_on_alloc=1",
    "slab_nomerge",
    ...(architecture === "x86_64" ? ["pti=on"] : []),
    "console=tty0",
    "console=ttyS0",
    "printk.devkmsg=on",
    "talos.platform=metal",
  ];
}

export interface MatchboxProfile {
  readonly id: string;
  readonly name: string;
  readonly boot: { readonly kernel: string; readonly initrd: readonly string[]; readonly args: readonly string[] };
}

export interface MatchboxGroup {
  readonly id: string;
  readonly name: string;
  readonly profile: string;
  readonly selector?: Readonly<Record<string, string>>;
  readonly metadata?: Readonly<Record<string, string>>;
}

export function renderMatchboxProfiles(config: Readonly<SiteConfig>): MatchboxProfile[] {
  const { kernel, initramfs } = talosAssets(config);
  const architecture = nodeArchitecture(config);
  const label = `Talos ${config.talos.version} ${talosArch(architecture)}`;
  const boot = (extraArgs: readonly string[]) => ({
    kernel: `/assets/${kernel.path}`,
    initrd: [`/assets/${initramfs.path}`],
    args: [...talosKernelArgs(architecture), ...extraArgs],
  });
  const profiles: MatchboxProfile[] = [{ id: MAINTENANCE_PROFILE_ID, name: `${label} (maintenance mode)`, boot: boot([]) }];
  if (config.talos.machineConfigUrl) {
    profiles.push({ id: CONFIGURED_PROFILE_ID, name: `${label} (machine config)`, boot: boot([`talos.config=${config.talos.machineConfigUrl}`]) });
  }
  return profiles;
}

export function renderMatchboxGroups(config: Readonly<SiteConfig>): MatchboxGroup[] {
  const nodeProfile = config.talos.machineConfigUrl ? CONFIGURED_PROFILE_ID : MAINTENANCE_PROFILE_ID;
  const nodes = siteView(config).nodes.map(({ name, address: ip }) => ({
    id: name,
    name: `${name} (${ip})`,
    profile: nodeProfile,
    selector: { ip },
    // Every node of the lab is a control plane (CozyStack's 1-3 node topology).
    metadata: { hostname: name, ip, role: "controlplane", cluster: config.talos.clusterName },
  }));
  return [...nodes, { id: MATCHBOX_DEFAULT_GROUP, name: "Unknown machines: Talos maintenance mode", profile: MAINTENANCE_PROFILE_ID }];
}

/** Files under matchbox's data dir (-data-path), keyed by relative path. */
export function renderMatchboxFiles(config: Readonly<SiteConfig>): Record<string, string> {
  const files: Record<string, string> = {};
  for (const profile of renderMatchboxProfiles(config)) files[`profiles/${profile.id}.json`] = `${JSON.stringify(profile, null, 2)}\n`;
  for (const group of renderMatchboxGroups(config)) files[`groups/${group.id}.json`] = `${JSON.stringify(group, null, 2)}\n`;
  return files;
}
