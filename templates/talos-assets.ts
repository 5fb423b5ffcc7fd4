import type { SiteConfig } from "../config/schema.js";
import { INSTALLER_BY_BOOT, nodeArchitecture } from "../config/talos.js";


/** Talos names architectures the Go way. */
export function talosArch(architecture: SiteConfig["architecture"]): "arm64" | "amd64" {
  return architecture === "arm64" ? "arm64" : "amd64";
}

export interface TalosAsset {
  /** File name inside matchbox's assets dir, e.g. "talos/v1.11.6/arm64/vmlinuz". */
  readonly path: string;
  /** Image Factory download URL the bastion fetches it from. */
  readonly url: string;
}

/** Kernel and initramfs of the configured Talos version, the nodes' architecture and the schematic. */
export function talosAssets(config: Readonly<SiteConfig>): TalosBootAssets {
  const arch = talosArch(nodeArchitecture(config));
  return imageFactoryBootAssets(config.talos.schematicId, config.talos.version, arch, `talos/${config.talos.version}/${arch}`);
}

/** A Talos kernel and its initramfs. */
export interface TalosBootAssets {
  readonly kernel: TalosAsset;
  readonly initramfs: TalosAsset;
}

/** Image Factory's kernel and initramfs of a schematic, version and architecture, kept under `dir` of matchbox's assets. */
export function imageFactoryBootAssets(schematicId: string, version: string, arch: "arm64" | "amd64", dir: string): TalosBootAssets {
  const base = `https://factory.talos.dev/image/${schematicId}/${version}`;
  return {
    kernel: { path: `${dir}/vmlinuz`, url: `${base}/kernel-${arch}` },
    initramfs: { path: `${dir}/initramfs.xz`, url: `${base}/initramfs-${arch}.xz` },
  };
}


/** `talos.installImage`, or the Image Factory installer of the schematic, version and boot mode. */
export function talosInstallImage(talos: Readonly<SiteConfig["talos"]>): string {
  return talos.installImage ?? `factory.talos.dev/${INSTALLER_BY_BOOT[talos.boot]}/${talos.schematicId}:${talos.version}`;
}
