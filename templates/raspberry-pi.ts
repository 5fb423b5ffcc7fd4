/**
 * What a home site serves its Raspberry Pis (docs/raspberry-pi.md). The boot chain of a Pi 3 or CM3:
 *
 * 1. The boot ROM sends DHCP as a PXE client of architecture 0 and boots only from an offer whose
 *    vendor option 43 holds "Raspberry Pi Boot"; it then reads `bootcode.bin` over TFTP from the
 *    offer's next server, and `bootcode.bin` reads `<serial>/start.elf` and, finding it, every later
 *    file from that dir (https://www.raspberrypi.org/documentation/hardware/raspberrypi/bootmodes/net.md).
 * 2. start.elf reads `<serial>/config.txt`: 64-bit mode and U-Boot's rpi_arm64 build as the kernel
 *    (https://www.raspberrypi.com/documentation/computers/config_txt.html, `arm_64bit`, `kernel`),
 *    with the board's device tree, which that U-Boot build takes from the firmware
 *    (u-boot doc/board/broadcom/raspberrypi.rst: "uses the device-tree provided by the firmware").
 * 3. U-Boot's distro boot finds no disk to boot and runs its own DHCP as an arm64 EFI client
 *    (architecture 11): dnsmasq hands it the arm64 iPXE build like any arm64 UEFI machine, iPXE asks
 *    matchbox, and matchbox's group for the Pi's MAC boots the Pi profile: Talos of the rpi_generic
 *    schematic with its console on the PL011 UART.
 *
 * The firmware, U-Boot and device trees are Debian's packages, pinned by version and sha256 and
 * downloaded by the bundle's fetch step on the home fileserver: they are never part of the bundle.
 */
import { PI_MAC_PREFIXES, PI_MODELS } from "../config/raspberry-pi.js";
import type { PiNode, SiteConfig } from "../config/schema.js";
import { talosKernelArgs, type MatchboxGroup, type MatchboxProfile } from "./matchbox.js";
import { imageFactoryBootAssets, talosInstallImage, type TalosBootAssets } from "./talos-assets.js";

/** The text the boot ROM looks for in option 43; the BCM2837A0 ROM of early Pi 3Bs needs the three trailing spaces, later ROMs accept them. */
export const PI_BOOT_SERVICE = "Raspberry Pi Boot   ";
/** dnsmasq tag of a DHCP client with a Raspberry Pi MAC. */
export const PI_DHCP_TAG = "rpi";
/** The second-stage loader the boot ROM reads from the TFTP root. */
export const PI_BOOTCODE = "bootcode.bin";
/** U-Boot's file name in a Pi's TFTP dir: config.txt's `kernel=`. */
export const PI_U_BOOT = "u-boot.bin";
/** The firmware files every Pi's TFTP dir holds beside U-Boot, its device tree and config.txt. */
export const PI_FIRMWARE_FILES = ["start.elf", "fixup.dat"] as const;
/** Bundle dir of the rendered config.txt files, one dir per serial number. */
export const PI_CONFIG_DIR = "raspberry-pi";
/** matchbox profile of every Pi. */
export const PI_PROFILE_ID = "talos-raspberry-pi";
/** The Pis' serial console: the PL011 UART on GPIO 14/15 (a CM3 has no Bluetooth taking it). */
export const PI_CONSOLE = "console=ttyAMA0,115200";

/** A Debian package the fetch step downloads, pinned. */
export interface PinnedDeb {
  readonly package: string;
  readonly version: string;
  /** Its path under a Debian mirror (the `Filename` field of the archive's Packages index). */
  readonly pool: string;
  /** The `SHA256` field of the archive's Packages index for that file. */
  readonly sha256: string;
  /** The dir inside the package that holds the files the Pis need. */
  readonly dir: string;
}

/** The mirror the fetch step downloads from; RASPI_DEB_MIRROR overrides it (a local mirror, or snapshot.debian.org once a pin leaves the archive). */
export const DEBIAN_MIRROR = "http://deb.debian.org/debian";

/**
 * The three packages, from bookworm's arm64 lists: the firmware (component non-free-firmware),
 * U-Boot's rpi_arm64 build, and the arm64 kernel for its mainline Pi device trees.
 */
export const PI_DEBS = {
  firmware: {
    package: "raspi-firmware",
    version: "1.20220830+ds-1",
    pool: "pool/non-free-firmware/r/raspi-firmware/raspi-firmware_1.20220830+ds-1_all.deb",
    sha256: "0094ced47a7fbb6a220ff83e7b43aa637a5d8f6802461e2e4e474597fb796f62",
    dir: "usr/lib/raspi-firmware",
  },
  uBoot: {
    package: "u-boot-rpi",
    version: "2023.01+dfsg-2+deb12u3",
    pool: "pool/main/u/u-boot/u-boot-rpi_2023.01+dfsg-2+deb12u3_arm64.deb",
    sha256: "3722f286cfafca03f4cac7adade04fccf66158ad8467501b9deabd154162b5e8",
    dir: "usr/lib/u-boot/rpi_arm64",
  },
  deviceTrees: {
    package: "linux-image-6.1.0-50-arm64",
    version: "6.1.176-1",
    pool: "pool/main/l/linux-signed-arm64/linux-image-6.1.0-50-arm64_6.1.176-1_arm64.deb",
    sha256: "914f75b57a8e165d85fb910c3e2dcc7000a05a9fea3f42f90b26e8dd590d5f06",
    dir: "usr/lib/linux-image-6.1.0-50-arm64/broadcom",
  },
} as const satisfies Record<string, PinnedDeb>;

/** A Pi's config.txt, read by start.elf from the Pi's TFTP dir. */
export function renderPiConfigTxt(pi: Readonly<PiNode>): string {
  return [
    "# Rendered from the site config; edit the config, not this file.",
    `# ${pi.name}: Raspberry Pi ${pi.model}, serial ${pi.serial}, ${pi.mac}`,
    "# 64-bit mode, and U-Boot rpi_arm64 in place of a kernel: it netboots Talos through matchbox.",
    "arm_64bit=1",
    `kernel=${PI_U_BOOT}`,
    // U-Boot's Pi builds print on the UART and need its clock fixed to do so.
    "enable_uart=1",
    `device_tree=${PI_MODELS[pi.model].deviceTree}`,
    "",
  ].join("\n");
}

/**
 * dnsmasq lines for the Pis: option 43 through a PXE service for architecture 0 offered only to
 * Raspberry Pi MAC prefixes (dnsmasq(8): `dhcp-mac`, `pxe-service`); the offer's next server is
 * dnsmasq's own address, where the ROM reads bootcode.bin. The BIOS PXE line leaves these MACs out,
 * so a Pi is not handed a PC's boot file.
 */
export function piDhcpLines(): string[] {
  return [
    "# Raspberry Pi boot ROMs (architecture 0, a Raspberry Pi MAC) get option 43, then read bootcode.bin over TFTP;",
    "# U-Boot on a Pi then asks as arm64 UEFI and gets arm64/ipxe.efi above.",
    ...PI_MAC_PREFIXES.map((prefix) => `dhcp-mac=set:${PI_DHCP_TAG},${prefix}:*:*:*`),
    `pxe-service=tag:${PI_DHCP_TAG},0,"${PI_BOOT_SERVICE}"`,
  ];
}

/** The TFTP paths dnsmasq serves a Pi, relative to its TFTP root: its dir is named after its serial number. */
export function piTftpFiles(pi: Readonly<PiNode>): string[] {
  return [...PI_FIRMWARE_FILES, PI_U_BOOT, PI_MODELS[pi.model].deviceTree, "config.txt"].map((file) => `${pi.serial}/${file}`);
}

/** Kernel and initramfs of the Pis' schematic (rpi_generic) at the site's Talos version. */
export function piTalosAssets(config: Readonly<SiteConfig>): TalosBootAssets {
  const { version } = config.talos;
  return imageFactoryBootAssets(config.raspberryPi.schematicId, version, "arm64", `talos/${version}/raspberry-pi`);
}

/** The Talos installer the Pis install with: the rpi_generic schematic's metal installer writes firmware, U-Boot and config.txt to the disk. */
export function piInstallImage(config: Readonly<SiteConfig>): string {
  return talosInstallImage({ ...config.talos, boot: "ipxe", schematicId: config.raspberryPi.schematicId, installImage: undefined });
}

/** The matchbox profile every Pi boots: Talos (rpi_generic schematic) in maintenance mode, console on the UART. */
export function piMatchboxProfile(config: Readonly<SiteConfig>): MatchboxProfile {
  const { kernel, initramfs } = piTalosAssets(config);
  return {
    id: PI_PROFILE_ID,
    name: `Talos ${config.talos.version} arm64 Raspberry Pi (rpi_generic, maintenance mode)`,
    boot: {
      kernel: `/assets/${kernel.path}`,
      initrd: [`/assets/${initramfs.path}`],
      args: talosKernelArgs("arm64").map((arg) => (arg === "console=ttyS0" ? PI_CONSOLE : arg)),
    },
  };
}

/**
 * One matchbox group per Pi, selected by the MAC iPXE reports; its metadata names the board and
 * what its Talos worker config installs: the disk and the rpi_generic installer (docs/raspberry-pi.md).
 */
export function piMatchboxGroups(config: Readonly<SiteConfig>): MatchboxGroup[] {
  return config.raspberryPi.nodes.map((pi) => ({
    id: pi.name,
    name: `${pi.name} (Raspberry Pi ${pi.model}, serial ${pi.serial})`,
    profile: PI_PROFILE_ID,
    selector: { mac: pi.mac },
    metadata: { hostname: pi.name, mac: pi.mac, serial: pi.serial, model: pi.model, role: pi.role, cluster: config.talos.clusterName, installDisk: config.raspberryPi.installDisk, installImage: piInstallImage(config) },
  }));
}

/** The bundle's rendered files for the Pis (config.txt per serial, matchbox profile and groups), keyed by bundle-relative path. */
export function renderPiFiles(config: Readonly<SiteConfig>): Record<string, string> {
  const files: Record<string, string> = {};
  for (const pi of config.raspberryPi.nodes) files[`${PI_CONFIG_DIR}/${pi.serial}/config.txt`] = renderPiConfigTxt(pi);
  files[`matchbox/profiles/${PI_PROFILE_ID}.json`] = `${JSON.stringify(piMatchboxProfile(config), null, 2)}\n`;
  for (const group of piMatchboxGroups(config)) files[`matchbox/groups/${group.id}.json`] = `${JSON.stringify(group, null, 2)}\n`;
  return files;
}
