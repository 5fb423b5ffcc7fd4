/**
 * dnsmasq.conf of the bastion's netboot dnsmasq (TFTP, and DHCP at a home site). DNS is
 * Pi-hole's job on the same host, so this dnsmasq never binds port 53.
 *
 * DHCP hands each firmware the iPXE build it can run, then hands iPXE itself (user-class
 * "iPXE") matchbox's boot script; `tag:!ipxe` keeps iPXE from being offered iPXE again.
 */
import type { SiteConfig } from "../config/schema.js";
import { siteView } from "../config/site-view.js";
import { PI_DHCP_TAG, piDhcpLines } from "./raspberry-pi.js";

/** TFTP root inside the dnsmasq image; it ships undionly.kpxe and the x86_64 ipxe.efi. */
export const TFTP_ROOT = "/var/lib/tftpboot";
/** TFTP subdir of the arm64 iPXE build; the image has none, so compose mounts this dir from the bundle's data. */
export const ARM64_IPXE_DIR = "arm64";
/** The arm64 iPXE build, relative to the TFTP root. */
export const ARM64_IPXE_TFTP_PATH = `${ARM64_IPXE_DIR}/ipxe.efi`;
/** DHCP lease time at a home site. */
const LEASE_TIME = "12h";

/** DHCP client architectures (RFC 4578 option 93) and the iPXE build each one boots. */
const FIRMWARE_BOOT_FILES = [
  { tag: "bios", arches: [0], file: "undionly.kpxe" },
  { tag: "efi-x86_64", arches: [7, 9], file: "ipxe.efi" },
  { tag: "efi-arm64", arches: [11], file: ARM64_IPXE_TFTP_PATH },
] as const;

export function renderDnsmasqConfig(config: Readonly<SiteConfig>): string {
  const { dnsmasq, privateIp } = config.bastion;
  const lines = [
    "# Rendered from the site config; edit the config, not this file.",
    "# DNS is served by Pi-hole on this host.",
    "port=0",
    `listen-address=${privateIp}`,
    // Binds as addresses appear, so a late interface (the persistent ENI) is picked up.
    "bind-dynamic",
    "log-facility=-",
  ];
  // No tftp-secure: it would refuse the image's root-owned iPXE files once dnsmasq drops root.
  if (dnsmasq.tftp) lines.push("", "enable-tftp", `tftp-root=${TFTP_ROOT}`);
  if (dnsmasq.dhcp) lines.push("", ...dhcpLines(config));
  return `${lines.join("\n")}\n`;
}

function dhcpLines(config: Readonly<SiteConfig>): string[] {
  const { rangeStart, rangeEnd, router } = config.bastion.dnsmasq;
  // The schema's siteRules require all three whenever dhcp is on.
  if (!rangeStart || !rangeEnd || !router) throw new Error("bastion.dnsmasq.dhcp needs rangeStart, rangeEnd and router");
  const lines = [
    `dhcp-range=${rangeStart},${rangeEnd},${LEASE_TIME}`,
    `dhcp-option=option:router,${router}`,
    `dhcp-option=option:dns-server,${config.bastion.privateIp}`,
    `dhcp-option=option:domain-name,${config.services.localDomain}`,
    "dhcp-authoritative",
    "log-dhcp",
    "",
    "# Firmware PXE gets the iPXE build for its architecture...",
  ];
  for (const { tag, arches } of FIRMWARE_BOOT_FILES) {
    for (const arch of arches) lines.push(`dhcp-match=set:${tag},option:client-arch,${arch}`);
  }
  lines.push("dhcp-userclass=set:ipxe,iPXE");
  // A Pi's boot ROM is architecture 0 too: BIOS PXE's iPXE build is for every other such machine.
  const pis = config.raspberryPi.nodes.length > 0;
  for (const { tag, file } of FIRMWARE_BOOT_FILES) {
    const notPi = pis && tag === "bios" ? `tag:!${PI_DHCP_TAG},` : "";
    lines.push(`dhcp-boot=tag:!ipxe,${notPi}tag:${tag},${file},,${config.bastion.privateIp}`);
  }
  if (pis) lines.push(...piDhcpLines());
  lines.push("# ...and iPXE gets matchbox's boot script.", `dhcp-boot=tag:ipxe,${siteView(config).matchboxUrl}/boot.ipxe`);
  return lines;
}
