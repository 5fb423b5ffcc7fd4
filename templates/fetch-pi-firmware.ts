/**
 * The bundle's scripts/fetch-pi-firmware.sh: fetch-pi-firmware.sh (the pinned Debian packages,
 * checked, unpacked into each Pi's TFTP dir) with the site's Pis and the pins prepended.
 */
import type { SiteConfig } from "../config/schema.js";
import { PI_MODELS } from "../config/raspberry-pi.js";
import { DATA_DIR, TFTP_HOST_DIR } from "./compose.js";
import { DEBIAN_MIRROR, PI_BOOTCODE, PI_CONFIG_DIR, PI_DEBS, PI_FIRMWARE_FILES, PI_U_BOOT } from "./raspberry-pi.js";
import { renderShellScript } from "./shell.js";
import fetchPiFirmwareSource from "./fetch-pi-firmware.sh";

export const FETCH_PI_FIRMWARE_SCRIPT = "scripts/fetch-pi-firmware.sh";
/** Where the script keeps the verified packages (bundle-relative), so a re-run downloads nothing. */
export const PI_DEB_CACHE = `${DATA_DIR}/raspberry-pi/debs`;

export function renderFetchPiFirmwareScript(config: Readonly<SiteConfig>): string {
  const { firmware, uBoot, deviceTrees } = PI_DEBS;
  return renderShellScript(
    "Rendered from the site config. Run from anywhere; paths are relative to the bundle dir.",
    {
      DEFAULT_DEB_MIRROR: DEBIAN_MIRROR,
      DEB_CACHE: PI_DEB_CACHE,
      TFTP_DIR: TFTP_HOST_DIR,
      CONFIG_DIR: PI_CONFIG_DIR,
      // Per package: pool path, sha256, the dir inside it.
      FIRMWARE_DEB: [firmware.pool, firmware.sha256, firmware.dir],
      U_BOOT_DEB: [uBoot.pool, uBoot.sha256, uBoot.dir],
      DTB_DEB: [deviceTrees.pool, deviceTrees.sha256, deviceTrees.dir],
      BOOTCODE: PI_BOOTCODE,
      FIRMWARE_FILES: [...PI_FIRMWARE_FILES],
      U_BOOT: PI_U_BOOT,
      // Per Pi: serial number, device tree.
      PIS: config.raspberryPi.nodes.flatMap((pi) => [pi.serial, PI_MODELS[pi.model].deviceTree]),
    },
    { "fetch-pi-firmware.sh": fetchPiFirmwareSource },
  );
}
