/**
 * The home site's DHCP, for real: dnsmasq runs the rendered dnsmasq.conf in one network namespace
 * holding the fileserver's address; busybox's udhcpc asks from another namespace over a veth pair,
 * once as each kind of netbooting machine (BIOS PXE, x86_64 UEFI, arm64 UEFI, iPXE itself), then
 * fetches the boot file it was given over TFTP from the next server, as the firmware would.
 * The site is examples/home-pi.yaml: its Raspberry Pis' TFTP files are what the bundle's own
 * fetch step assembles from Debian's packages, and a client with a Pi's MAC asks as the Pi's boot
 * ROM does, then as U-Boot on that Pi.
 * The namespaces are this test's own and are deleted afterwards, whatever happened.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSiteConfig } from "../../config/load.js";
import { ipv4ToInt, parseIpv4Cidr } from "../../lib/net.js";
import { renderBastionBundle } from "../../templates/bundle.js";
import { TFTP_HOST_DIR } from "../../templates/compose.js";
import { FETCH_PI_FIRMWARE_SCRIPT, PI_DEB_CACHE } from "../../templates/fetch-pi-firmware.js";
import { PI_BOOT_SERVICE, PI_BOOTCODE, PI_DEBS, piTftpFiles, renderPiConfigTxt } from "../../templates/raspberry-pi.js";
import { siteView } from "../../config/site-view.js";
import { BUSYBOX, writeTree } from "../helpers/netboot.js";
import { deleteNamespaces, ip, startHomeDnsmasq, uniqueName } from "../helpers/home-dnsmasq.js";
import { tempDir, type RunningProcess } from "../helpers/processes.js";
import { debFile, piDebMirror } from "../helpers/raspberry-pi.js";

const REPO = join(import.meta.dirname, "../..");
const config = loadSiteConfig({ site: "home", configFile: join(REPO, "examples/home-pi.yaml") });
const pi = config.raspberryPi.nodes[0]!;
const { dnsmasq: dhcp, privateIp: fileserver } = config.bastion;
const prefix = parseIpv4Cidr(config.network.privateSubnet.cidr)!.prefix;

// Unique per run, so parallel runs and leftovers of a killed run never collide.
const SERVER_NS = uniqueName("deathstar-dhcp-srv-");
const CLIENT_NS = uniqueName("deathstar-dhcp-cli-");
const SERVER_IF = uniqueName("dss");
const CLIENT_IF = uniqueName("dsc");
/** One DHCP exchange; udhcpc retries within it. */
const CLIENT_TIMEOUT_MS = 20_000;

interface Lease {
  /** Vendor option 43 in hex (busybox names options it does not know optNN). */
  readonly opt43?: string;
  readonly ip?: string;
  readonly router?: string;
  readonly dns?: string;
  readonly domain?: string;
  readonly boot_file?: string;
  readonly siaddr?: string;
}

interface Client {
  readonly kind: string;
  readonly arch: number;
  readonly ipxe: boolean;
  readonly bootFile: string;
  readonly tftp: boolean;
  /** The UNDI version in the vendor class: the Pi's boot ROM says 002001. */
  readonly undi?: string;
  /** Options it asks for (DHCP option 55); the Pi's ROM asks for 43. */
  readonly request?: readonly number[];
  /** Its MAC, when it is not the veth's own. */
  readonly mac?: string;
}

/** The machines that netboot from the home fileserver: RFC 4578 client architecture, iPXE or not. */
const CLIENTS: readonly Client[] = [
  { kind: "BIOS PXE", arch: 0, ipxe: false, bootFile: "undionly.kpxe", tftp: true },
  { kind: "x86_64 UEFI (arch 7)", arch: 7, ipxe: false, bootFile: "ipxe.efi", tftp: true },
  { kind: "x86_64 UEFI (arch 9)", arch: 9, ipxe: false, bootFile: "ipxe.efi", tftp: true },
  { kind: "arm64 UEFI", arch: 11, ipxe: false, bootFile: "arm64/ipxe.efi", tftp: true },
  { kind: "iPXE (user-class iPXE)", arch: 0, ipxe: true, bootFile: `${siteView(config).matchboxUrl}/boot.ipxe`, tftp: false },
  { kind: "arm64 iPXE (user-class iPXE)", arch: 11, ipxe: true, bootFile: `${siteView(config).matchboxUrl}/boot.ipxe`, tftp: false },
  // U-Boot rpi_arm64 on a Pi: distro boot's DHCP as an arm64 EFI client (PXEClient:Arch:00011:UNDI:003000).
  { kind: "U-Boot on a Raspberry Pi (arm64 EFI, a Pi's MAC)", arch: 11, ipxe: false, bootFile: "arm64/ipxe.efi", tftp: true, mac: pi.mac },
];

/** A Pi's boot ROM: architecture 0, "PXEClient:Arch:00000:UNDI:002001", asking for option 43. */
const PI_ROM: Client = { kind: "a Raspberry Pi boot ROM", arch: 0, ipxe: false, bootFile: PI_BOOTCODE, tftp: true, undi: "002001", request: [43], mac: pi.mac };

/** Stand-ins for the iPXE builds in the dnsmasq image's TFTP root (and the arm64 one the bundle mounts there). */
const bootFiles: Record<string, Buffer> = Object.fromEntries(
  CLIENTS.filter((client) => client.tftp).map((client) => [client.bootFile, randomBytes(4096 + client.arch)]),
);

describe("home site DHCP: dnsmasq with the rendered config, a client in another namespace", () => {
  let dir: ReturnType<typeof tempDir>;
  let server: RunningProcess | undefined;

  beforeAll(async () => {
    dir = tempDir("home-dhcp");
    ip("netns", "add", SERVER_NS);
    ip("netns", "add", CLIENT_NS);
    ip("link", "add", SERVER_IF, "netns", SERVER_NS, "type", "veth", "peer", "name", CLIENT_IF, "netns", CLIENT_NS);
    ip("-n", SERVER_NS, "addr", "add", `${fileserver}/${prefix}`, "dev", SERVER_IF);
    for (const [ns, dev] of [[SERVER_NS, SERVER_IF], [CLIENT_NS, CLIENT_IF]] as const) {
      ip("-n", ns, "link", "set", "lo", "up");
      ip("-n", ns, "link", "set", dev, "up");
    }

    // The TFTP root is the bundle's data/tftpboot, which compose mounts into the image's (the Pis'
    // files), with stand-ins for the iPXE builds the image ships.
    writeTree(join(dir.path, "bundle"), renderBastionBundle(config));
    writeTree(dir.path, {
      ...Object.fromEntries(Object.entries(bootFiles).map(([name, bytes]) => [`bundle/${TFTP_HOST_DIR}/${name}`, bytes])),
      "udhcpc.sh": `#!${BUSYBOX} sh\n[ "$1" = bound ] && env > "$LEASE_FILE"\nexit 0\n`,
    });
    chmodSync(join(dir.path, "udhcpc.sh"), 0o755);
    // The bundle's fetch step, run as on the fileserver, from a mirror of the pinned packages.
    fetchPiFirmware(piDebMirror(join(dir.path, "mirror")));
    server = await startHomeDnsmasq(config, SERVER_NS, dir.path, tftpRoot());
  });

  const tftpRoot = () => join(dir.path, "bundle", TFTP_HOST_DIR);

  /** Runs the bundle's scripts/fetch-pi-firmware.sh with `mirror` as its Debian mirror; its log (stderr). */
  function fetchPiFirmware(mirror: string): string {
    const run = spawnSync("bash", [join(dir.path, "bundle", FETCH_PI_FIRMWARE_SCRIPT)], {
      env: { ...process.env, RASPI_DEB_MIRROR: mirror },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 300_000,
    });
    if (run.status !== 0) throw new Error(`${FETCH_PI_FIRMWARE_SCRIPT} exited ${run.status}: ${run.stderr}`);
    return run.stderr;
  }

  afterAll(async () => {
    await server?.stop();
    // Deleting a namespace deletes its end of the veth pair, and with it the other end.
    deleteNamespaces(CLIENT_NS, SERVER_NS);
    dir?.remove();
  });

  /** One DHCP exchange as the given machine; what udhcpc was offered and acknowledged. */
  function requestLease(client: Client): Lease {
    const leaseFile = join(dir.path, `lease-${client.arch}-${client.ipxe}-${client.mac ?? "veth"}.env`);
    const options = ["-x", `0x5d:${client.arch.toString(16).padStart(4, "0")}`, ...(client.request ?? []).flatMap((option) => ["-O", String(option)])];
    const vendorClass = `PXEClient:Arch:${String(client.arch).padStart(5, "0")}:UNDI:${client.undi ?? "003016"}`;
    // iPXE's user class is the bare string "iPXE" (not RFC 3004 length-prefixed).
    if (client.ipxe) options.push("-x", `0x4d:${Buffer.from("iPXE").toString("hex")}`);
    try {
      execFileSync(
        "ip",
        ["netns", "exec", CLIENT_NS, BUSYBOX, "udhcpc", "-i", CLIENT_IF, "-f", "-q", "-n", "-t", "5", "-T", "2", "-s", join(dir.path, "udhcpc.sh"), "-V", vendorClass, ...options],
        { env: { ...process.env, LEASE_FILE: leaseFile }, stdio: ["ignore", "pipe", "pipe"], timeout: CLIENT_TIMEOUT_MS },
      );
    } catch (error) {
      throw new Error(`udhcpc got no lease as ${client.kind}: ${(error as Error).message}\ndnsmasq:\n${server!.log()}`);
    }
    return Object.fromEntries(
      readFileSync(leaseFile, "utf8")
        .split("\n")
        .map((line) => /^([a-z0-9_]+)=(.*)$/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1], m[2]]),
    ) as Lease;
  }

  /** Fetches `file` from `server` over TFTP from the client side, using the leased address. */
  function fetchOverTftp(lease: Lease, server: string, file: string): Buffer {
    const local = join(dir.path, "fetched");
    ip("-n", CLIENT_NS, "addr", "add", `${lease.ip}/${prefix}`, "dev", CLIENT_IF);
    try {
      execFileSync("ip", ["netns", "exec", CLIENT_NS, BUSYBOX, "tftp", "-g", "-r", file, "-l", local, server], {
        stdio: ["ignore", "pipe", "pipe"],
        timeout: CLIENT_TIMEOUT_MS,
      });
      return readFileSync(local);
    } finally {
      ip("-n", CLIENT_NS, "addr", "del", `${lease.ip}/${prefix}`, "dev", CLIENT_IF);
    }
  }

  /** `exchange` with the client side's MAC set to `mac` (when given), the veth's own restored afterwards. */
  function asMac<T>(mac: string | undefined, exchange: () => T): T {
    if (mac === undefined) return exchange();
    const own = JSON.parse(ip("-n", CLIENT_NS, "-j", "link", "show", CLIENT_IF).toString())[0].address as string;
    ip("-n", CLIENT_NS, "link", "set", CLIENT_IF, "address", mac);
    try {
      return exchange();
    } finally {
      ip("-n", CLIENT_NS, "link", "set", CLIENT_IF, "address", own);
    }
  }

  it.each(CLIENTS)("offers $kind an address, the router, Pi-hole and $bootFile", (client) => {
    const lease = asMac(client.mac, () => requestLease(client));
    const address = ipv4ToInt(lease.ip ?? "0.0.0.0");
    expect(address, `${lease.ip} in ${dhcp.rangeStart}-${dhcp.rangeEnd}`).toBeGreaterThanOrEqual(ipv4ToInt(dhcp.rangeStart!));
    expect(address, `${lease.ip} in ${dhcp.rangeStart}-${dhcp.rangeEnd}`).toBeLessThanOrEqual(ipv4ToInt(dhcp.rangeEnd!));
    expect(lease.router).toBe(dhcp.router);
    // Pi-hole runs on the fileserver.
    expect(lease.dns).toBe(fileserver);
    expect(lease.domain).toBe(config.services.localDomain);
    expect(lease.boot_file).toBe(client.bootFile);
    // Firmware fetches its iPXE build over TFTP from the next server: the fileserver.
    if (client.tftp) {
      expect(lease.siaddr).toBe(fileserver);
      expect(fetchOverTftp(lease, lease.siaddr!, lease.boot_file!).equals(bootFiles[client.bootFile]!)).toBe(true);
    }
    // No PXE boot menu for anything but a Pi's boot ROM.
    expect(lease.opt43 ?? "").not.toContain(Buffer.from("Raspberry Pi").toString("hex"));
  });

  it(`answers a Pi's boot ROM with option 43 "${PI_BOOT_SERVICE.trim()}", then serves bootcode.bin and ${pi.serial}/start.elf from Debian's raspi-firmware`, () => {
    const { lease, files } = asMac(pi.mac, () => {
      const lease = requestLease(PI_ROM);
      // The ROM's TFTP reads, in its order, from the next server of the offer.
      const files = Object.fromEntries([PI_BOOTCODE, ...piTftpFiles(pi)].map((file) => [file, fetchOverTftp(lease, lease.siaddr!, file)]));
      return { lease, files };
    });
    // Vendor option 43 carries the PXE menu whose text the ROM looks for, trailing spaces and all.
    expect(lease.opt43, `option 43 in ${JSON.stringify(lease)}`).toContain(Buffer.from(PI_BOOT_SERVICE).toString("hex"));
    expect(lease.siaddr).toBe(fileserver);
    // No boot file: the ROM reads bootcode.bin whatever the offer says, and a PC's iPXE is not for it.
    expect(lease.boot_file).toBeUndefined();
    expect(lease.router).toBe(dhcp.router);
    const { firmware, uBoot } = PI_DEBS;
    expect(files[PI_BOOTCODE]!.equals(debFile(firmware, PI_BOOTCODE)), "bootcode.bin is raspi-firmware's").toBe(true);
    expect(files[`${pi.serial}/start.elf`]!.equals(debFile(firmware, "start.elf")), "start.elf is raspi-firmware's").toBe(true);
    expect(files[`${pi.serial}/u-boot.bin`]!.equals(debFile(uBoot, "u-boot.bin")), "u-boot.bin is u-boot-rpi's rpi_arm64 build").toBe(true);
    expect(files[`${pi.serial}/config.txt`]!.toString()).toBe(renderPiConfigTxt(pi));
    expect(files[`${pi.serial}/config.txt`]!.toString()).toMatch(/^arm_64bit=1$/m);
    // The device tree start.elf hands U-Boot: a flattened device tree (magic d00dfeed).
    const dtb = piTftpFiles(pi).find((file) => file.endsWith(".dtb"))!;
    expect(files[dtb]!.readUInt32BE(0).toString(16)).toBe("d00dfeed");
  });

  it("runs the fetch step again from its verified cache, and refuses a package whose sha256 is not the pin", () => {
    // Nothing to download the second time: an unreachable mirror does not matter.
    expect(fetchPiFirmware("file:///nonexistent")).toContain(`TFTP dir ${TFTP_HOST_DIR}/${pi.serial} ready`);
    // A fresh cache and a mirror whose raspi-firmware is not Debian's.
    const { firmware } = PI_DEBS;
    const tampered = join(dir.path, "tampered");
    mkdirSync(join(tampered, firmware.pool, ".."), { recursive: true });
    writeFileSync(join(tampered, firmware.pool), "not the package");
    execFileSync("rm", ["-rf", join(dir.path, "bundle", PI_DEB_CACHE)]);
    expect(() => fetchPiFirmware(`file://${tampered}`)).toThrow(`does not have the pinned sha256 ${firmware.sha256}; refusing it`);
  });
});
