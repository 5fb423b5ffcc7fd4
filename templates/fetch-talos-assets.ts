/**
 * The bundle's scripts/fetch-talos-assets.sh: fetch-talos-assets.sh (Talos kernel and initramfs
 * from Image Factory, trust on first use) with the site's asset paths and URLs prepended.
 */
import type { SiteConfig } from "../config/schema.js";
import { MATCHBOX_HOST_DIR } from "./compose.js";
import { renderShellScript } from "./shell.js";
import fetchTalosAssetsSource from "./fetch-talos-assets.sh";
import { piTalosAssets } from "./raspberry-pi.js";
import { talosAssets } from "./talos-assets.js";

export const FETCH_TALOS_ASSETS_SCRIPT = "scripts/fetch-talos-assets.sh";
/** matchbox's assets dir, relative to the bundle dir. */
export const MATCHBOX_ASSETS_DIR = `${MATCHBOX_HOST_DIR}/assets`;

export function renderFetchTalosAssetsScript(config: Readonly<SiteConfig>): string {
  const { kernel, initramfs } = talosAssets(config);
  // The Pis boot their own schematic's kernel and initramfs (rpi_generic).
  const pi = config.raspberryPi.nodes.length > 0 ? Object.values(piTalosAssets(config)) : [];
  return renderShellScript(
    "Rendered from the site config. Run from anywhere; paths are relative to the bundle dir.",
    { ASSETS_DIR: MATCHBOX_ASSETS_DIR, TALOS_ASSETS: [kernel, initramfs, ...pi].flatMap((asset) => [asset.path, asset.url]) },
    { "fetch-talos-assets.sh": fetchTalosAssetsSource },
  );
}
