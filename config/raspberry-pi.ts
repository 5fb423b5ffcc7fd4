/**
 * Facts about the Raspberry Pi boards a home site netboots, which the config's fields and rules
 * need below the templates that render the TFTP tree from them.
 *
 * Only boards whose boot ROM netboots by itself are listed: the Pi 3B, 3B+ and the Compute Modules
 * 3 and 3+ (BCM2837), whose ROM brings up a LAN951x/LAN7515 USB Ethernet chip, asks DHCP for
 * option 43 "Raspberry Pi Boot" and reads bootcode.bin, then `<serial>/start.elf` over TFTP
 * (https://www.raspberrypi.org/documentation/hardware/raspberrypi/bootmodes/net.md). A Pi 4 or
 * CM4 boots from its EEPROM bootloader instead (start4.elf, its own BOOT_ORDER): docs/raspberry-pi.md.
 */

/** What the lab needs to know about one board model. */
export interface PiModel {
  /**
   * The device tree start.elf hands U-Boot, from Debian's arm64 kernel package (the mainline name:
   * Debian ships no downstream bcm2710-*.dtb). U-Boot's rpi_arm64 build has no device tree of its
   * own and uses the firmware's (u-boot doc/board/broadcom/raspberrypi.rst).
   */
  readonly deviceTree: string;
  /** Memory on the board, GiB. */
  readonly memoryGib: number;
}

export const PI_MODELS = {
  "3B": { deviceTree: "bcm2837-rpi-3-b.dtb", memoryGib: 1 },
  "3B+": { deviceTree: "bcm2837-rpi-3-b-plus.dtb", memoryGib: 1 },
  // The CM3 on the Compute Module IO Board 3; other carriers start from the same tree.
  CM3: { deviceTree: "bcm2837-rpi-cm3-io3.dtb", memoryGib: 1 },
  "CM3+": { deviceTree: "bcm2837-rpi-cm3-io3.dtb", memoryGib: 1 },
} as const satisfies Record<string, PiModel>;
export type PiModelName = keyof typeof PI_MODELS;

/**
 * Image Factory's schematic with the rpi_generic overlay (siderolabs/sbc-raspberrypi) and nothing
 * else: the id Talos' overlay guide names for "a vanilla rpi_generic overlay"
 * (https://www.talos.dev/v1.11/advanced/overlays/). Its installer writes the Pi firmware, U-Boot
 * rpi_arm64 and config.txt to the install disk, so an installed Pi boots from its eMMC or SD card.
 */
export const RPI_GENERIC_SCHEMATIC_ID = "fc1cceeb5711cd263877b6b808fbf4942a8deda65e8804c114a0b5bae252dc50";

/**
 * Organisationally unique identifiers of Raspberry Pi Ltd (IEEE registry): a board's MAC starts
 * with one of these; the boot ROM of a Pi 3 or CM3 derives the Ethernet chip's MAC from its
 * serial number under b8:27:eb.
 */
export const PI_MAC_PREFIXES = ["b8:27:eb", "dc:a6:32", "e4:5f:01", "d8:3a:dd", "28:cd:c1", "2c:cf:67"] as const;
