/**
 * The home site's DHCP, for real: dnsmasq runs the rendered dnsmasq.conf in one network namespace
 * holding the fileserver's address; busybox's udhcpc asks from another namespace over a veth pair,
 * once as each kind of netbooting machine (BIOS PXE, x86_64 UEFI, arm64 UEFI, iPXE itself), then
 * fetches the boot file it was given over TFTP from the next server, as the firmware would.
 * The namespaces are this test's own and are deleted afterwards, whatever happened.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ipv4ToInt, parseIpv4Cidr } from "../../lib/net.js";
import { renderDnsmasqConfig } from "../../templates/dnsmasq.js";
import { siteView } from "../../config/site-view.js";
import { BUSYBOX, writeTree } from "../helpers/netboot.js";
import { startProcess, tempDir, waitUntil, type RunningProcess } from "../helpers/processes.js";
import { siteConfig } from "../helpers/synth.js";

const config = siteConfig({}, "home");
const { dnsmasq: dhcp, privateIp: fileserver } = config.bastion;
const prefix = parseIpv4Cidr(config.network.privateSubnet.cidr)!.prefix;

// Unique per run, so parallel runs and leftovers of a killed run never collide. veth names have 15 chars at most.
const id = randomBytes(3).toString("hex");
const SERVER_NS = `deathstar-dhcp-srv-${id}`;
const CLIENT_NS = `deathstar-dhcp-cli-${id}`;
const SERVER_IF = `dss${id}`;
const CLIENT_IF = `dsc${id}`;
/** One DHCP exchange; udhcpc retries within it. */
const CLIENT_TIMEOUT_MS = 20_000;

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });

interface Lease {
  readonly ip?: string;
  readonly router?: string;
  readonly dns?: string;
  readonly domain?: string;
  readonly boot_file?: string;
  readonly siaddr?: string;
}

/** The machines that netboot from the home fileserver: RFC 4578 client architecture, iPXE or not. */
const CLIENTS = [
  { kind: "BIOS PXE", arch: 0, ipxe: false, bootFile: "undionly.kpxe", tftp: true },
  { kind: "x86_64 UEFI (arch 7)", arch: 7, ipxe: false, bootFile: "ipxe.efi", tftp: true },
  { kind: "x86_64 UEFI (arch 9)", arch: 9, ipxe: false, bootFile: "ipxe.efi", tftp: true },
  { kind: "arm64 UEFI", arch: 11, ipxe: false, bootFile: "arm64/ipxe.efi", tftp: true },
  { kind: "iPXE (user-class iPXE)", arch: 0, ipxe: true, bootFile: `${siteView(config).matchboxUrl}/boot.ipxe`, tftp: false },
  { kind: "arm64 iPXE (user-class iPXE)", arch: 11, ipxe: true, bootFile: `${siteView(config).matchboxUrl}/boot.ipxe`, tftp: false },
] as const;

/** Stand-ins for the iPXE builds in the dnsmasq image's TFTP root (and the arm64 one the bundle mounts there). */
const bootFiles: Record<string, Buffer> = Object.fromEntries(
  CLIENTS.filter((client) => client.tftp).map((client) => [client.bootFile, randomBytes(4096 + client.arch)]),
);

describe("home site DHCP: dnsmasq with the rendered config, a client in another namespace", () => {
  let dir: ReturnType<typeof tempDir>;
  let server: RunningProcess | undefined;

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("network namespaces need root (npm test runs as root in CI)");
    dir = tempDir("home-dhcp");
    ip("netns", "add", SERVER_NS);
    ip("netns", "add", CLIENT_NS);
    ip("link", "add", SERVER_IF, "netns", SERVER_NS, "type", "veth", "peer", "name", CLIENT_IF, "netns", CLIENT_NS);
    ip("-n", SERVER_NS, "addr", "add", `${fileserver}/${prefix}`, "dev", SERVER_IF);
    for (const [ns, dev] of [[SERVER_NS, SERVER_IF], [CLIENT_NS, CLIENT_IF]] as const) {
      ip("-n", ns, "link", "set", "lo", "up");
      ip("-n", ns, "link", "set", dev, "up");
    }

    // The one path that differs from the container: its TFTP root, here the test's, with stand-ins
    // for the iPXE builds. dnsmasq reads it after dropping root, so the temp dir must be world-readable.
    const rendered = renderDnsmasqConfig(config);
    expect(rendered.match(/^tftp-root=.*$/gm), "the rendered config has one tftp-root line").toHaveLength(1);
    chmodSync(dir.path, 0o755);
    writeTree(dir.path, {
      "dnsmasq.conf": rendered.replace(/^tftp-root=.*$/m, `tftp-root=${join(dir.path, "tftpboot")}`),
      ...Object.fromEntries(Object.entries(bootFiles).map(([name, bytes]) => [`tftpboot/${name}`, bytes])),
      "udhcpc.sh": `#!${BUSYBOX} sh\n[ "$1" = bound ] && env > "$LEASE_FILE"\nexit 0\n`,
    });
    chmodSync(join(dir.path, "udhcpc.sh"), 0o755);

    server = startProcess(
      "ip",
      [
        ...["netns", "exec", SERVER_NS, "dnsmasq", "--keep-in-foreground", `--conf-file=${join(dir.path, "dnsmasq.conf")}`],
        // Test-only: the lease file in the temp dir, no pid file.
        ...[`--dhcp-leasefile=${join(dir.path, "leases")}`, "--pid-file="],
      ],
      { name: "dnsmasq", logFile: join(dir.path, "dnsmasq.log") },
    );
    await waitUntil("dnsmasq to serve DHCP", () => server!.log().includes("DHCP, IP range"), { timeoutMs: 20_000, process: server });
  });

  afterAll(async () => {
    await server?.stop();
    // Deleting a namespace deletes its end of the veth pair, and with it the other end.
    for (const ns of [CLIENT_NS, SERVER_NS]) {
      try {
        ip("netns", "delete", ns);
      } catch {
        // never created
      }
    }
    dir?.remove();
  });

  /** One DHCP exchange as the given machine; what udhcpc was offered and acknowledged. */
  function requestLease(client: (typeof CLIENTS)[number]): Lease {
    const leaseFile = join(dir.path, `lease-${client.arch}-${client.ipxe}.env`);
    const options = ["-x", `0x5d:${client.arch.toString(16).padStart(4, "0")}`];
    const vendorClass = `PXEClient:Arch:${String(client.arch).padStart(5, "0")}:UNDI:003016`;
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
        .map((line) => /^([a-z_]+)=(.*)$/.exec(line))
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

  it.each(CLIENTS)("offers $kind an address, the router, Pi-hole and $bootFile", (client) => {
    const lease = requestLease(client);
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
  });
});
