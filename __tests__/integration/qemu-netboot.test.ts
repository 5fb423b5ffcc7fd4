/**
 * The netboot chain in a virtual machine: QEMU (TCG) boots Debian's iPXE, iPXE asks matchbox for its
 * boot script, fetches the kernel and initramfs the profile names and boots them; the initramfs
 * prints the kernel command line on the serial console. The guest's network is QEMU's user mode
 * with the config's private subnet and nothing reachable but the bastion's matchbox address and
 * port, forwarded to matchbox on loopback, which serves the rendered data dir. Two ways in: the
 * rendered node script (AWS: the iPXE AMI's user-data) and iPXE's own DHCP autoboot with the boot
 * file home DHCP hands it.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { SiteConfig } from "../../config/schema.js";
import { renderDnsmasqConfig } from "../../templates/dnsmasq.js";
import { renderIpxeScript } from "../../templates/ipxe.js";
import { renderMatchboxFiles, talosKernelArgs } from "../../templates/matchbox.js";
import { talosAssets } from "../../templates/talos-assets.js";
import { BUSYBOX, cmdlineInitramfs, debianKernel, guestCmdline, startMatchbox, writeTree } from "../helpers/netboot.js";
import { freePort, startProcess, tail, tempDir, waitUntil, type RunningProcess } from "../helpers/processes.js";
import { AMD64_COZYSTACK_OVERRIDE, siteConfig } from "../helpers/synth.js";
import { mergeOverride } from "../../config/load.js";
import { nodeArchitecture } from "../../config/talos.js";

/** Debian's iPXE as a Linux kernel image: QEMU loads it with -kernel; iPXE runs an initrd that is a script. */
const IPXE_LKRN = "/usr/lib/ipxe/ipxe.lkrn";
/** Boot to power-off takes seconds under TCG; this bounds a hung guest on a loaded machine. */
const GUEST_TIMEOUT_MS = 240_000;
const NODE_MAC = "52:54:00:de:a7:01";
const NODE_UUID = "6d2b1c1e-0b3a-4a59-9d6e-3f0c2a7e5b11";
/** Where the logs of a failed run are kept (gitignored). */
const ARTIFACTS = resolve(import.meta.dirname, "../../test-artifacts/qemu-netboot");

/**
 * The host emulates x86, so the nodes are amd64: in AWS the CozyStack profile, amd64 nodes
 * (talos.architecture) beside the Graviton bastion; at home an all-x86 site. The matchbox port
 * differs from the default so a hard-coded 8080 anywhere in the chain shows; a machine config URL
 * makes the nodes' profile differ from the maintenance profile.
 */
function x86Site(site: "aws" | "home", machineConfigUrl: string): Readonly<SiteConfig> {
  const services = { matchboxPort: 8088 };
  if (site === "aws") return siteConfig(mergeOverride(AMD64_COZYSTACK_OVERRIDE, { talos: { machineConfigUrl }, services }) as Record<string, unknown>, site);
  return siteConfig(
    {
      architecture: "x86_64",
      network: { natInstance: { instanceType: "t3.nano" } },
      bastion: { instanceType: "t3.small" },
      talos: { nodeInstanceType: "t3.small", machineConfigUrl },
      services,
    },
    site,
  );
}

interface Netboot {
  /** Name of the scenario: temp dir and artifacts dir. */
  readonly name: string;
  readonly config: Readonly<SiteConfig>;
  /** The address QEMU's DHCP gives the guest first. */
  readonly guestIp: string;
  /** iPXE script run instead of iPXE's own DHCP autoboot. */
  readonly script?: string;
  /** Boot file QEMU's DHCP hands out, for iPXE's autoboot (no script). */
  readonly dhcpBootFile?: string;
  /** Assertions on what booted; the logs are kept when they fail. */
  readonly check: (booted: Booted) => void;
}

interface Booted {
  /** The kernel command line the guest printed. */
  readonly cmdline: readonly string[];
  readonly matchboxLog: string;
}

/**
 * Boots one guest through matchbox and runs `check` on it. Everything it started is stopped and
 * removed whatever happens; on failure the serial console and the logs are kept in ARTIFACTS first.
 */
async function netboot({ name, config, guestIp, script, dhcpBootFile, check }: Netboot): Promise<void> {
  if (!existsSync(IPXE_LKRN)) throw new Error(`${IPXE_LKRN} is missing: install the Debian package ipxe (scripts/apt-packages.txt)`);
  const dir = tempDir(`qemu-${name}`);
  let matchbox: RunningProcess | undefined;
  let qemu: RunningProcess | undefined;
  try {
    const { kernel, initramfs } = talosAssets(config);
    writeTree(join(dir.path, "data"), {
      ...renderMatchboxFiles(config),
      [`assets/${kernel.path}`]: debianKernel(),
      [`assets/${initramfs.path}`]: cmdlineInitramfs(),
    });
    const matchboxPort = await freePort();
    matchbox = await startMatchbox(join(dir.path, "data"), matchboxPort, join(dir.path, "matchbox.log"));

    const { bastion, network, services } = config;
    const netdev = [
      "user,id=net0",
      // No route anywhere: only the guestfwd below reaches the host.
      "restrict=on",
      `net=${network.privateSubnet.cidr}`,
      `dhcpstart=${guestIp}`,
      ...(dhcpBootFile !== undefined ? [`bootfile=${dhcpBootFile}`] : []),
      `guestfwd=tcp:${bastion.privateIp}:${services.matchboxPort}-cmd:${BUSYBOX} nc 127.0.0.1 ${matchboxPort}`,
    ].join(",");
    if (script !== undefined) writeTree(dir.path, { "node.ipxe": script });
    const serialLog = join(dir.path, "serial.log");
    qemu = startProcess(
      "qemu-system-x86_64",
      [
        // -nographic also makes SeaBIOS copy the screen to the serial port, so iPXE's messages land in the log.
        ...["-accel", "tcg", "-m", "512", "-smp", "1", "-nodefaults", "-nographic", "-monitor", "none", "-no-reboot"],
        ...["-uuid", NODE_UUID, "-serial", `file:${serialLog}`, "-kernel", IPXE_LKRN],
        ...(script !== undefined ? ["-initrd", join(dir.path, "node.ipxe")] : []),
        // romfile= skips the NIC's own iPXE option ROM: the iPXE under test is the -kernel one.
        ...["-netdev", netdev, "-device", `virtio-net-pci,netdev=net0,mac=${NODE_MAC},romfile=`],
      ],
      { name: "qemu", logFile: join(dir.path, "qemu.log") },
    );
    const serial = () => (existsSync(serialLog) ? readFileSync(serialLog, "utf8") : "");
    // matchbox is up before the guest starts, so the node script's retry message means a broken link.
    const retried = () => serial().includes("not reachable yet");
    await waitUntil("the guest to power off", () => qemu!.hasExited() || retried(), { timeoutMs: GUEST_TIMEOUT_MS }).catch((error: Error) => {
      throw new Error(`${error.message}\nserial console:\n${tail(serial())}`);
    });
    expect(retried(), `iPXE could not reach matchbox:\n${tail(serial())}`).toBe(false);
    expect(await qemu.exited, `qemu failed:\n${qemu.log()}`).toBe(0);
    const cmdline = guestCmdline(serial());
    expect(cmdline, `no command line on the serial console:\n${tail(serial())}`).toBeDefined();
    check({ cmdline: cmdline!.split(" "), matchboxLog: matchbox.log() });
  } catch (error) {
    const kept = join(ARTIFACTS, name);
    mkdirSync(kept, { recursive: true });
    for (const file of ["serial.log", "qemu.log", "matchbox.log", "node.ipxe"]) {
      if (existsSync(join(dir.path, file))) copyFileSync(join(dir.path, file), join(kept, file));
    }
    console.error(`qemu-netboot: serial console and logs of "${name}" kept in ${kept}`);
    throw error;
  } finally {
    await qemu?.stop();
    await matchbox?.stop();
    dir.remove();
  }
}

describe("QEMU: iPXE -> matchbox -> kernel", () => {
  it("boots an amd64 node of a Graviton bastion running the rendered node script with its own profile", async () => {
    const machineConfigUrl = "http://10.20.13.140:8088/talos/controlplane.yaml";
    const config = x86Site("aws", machineConfigUrl);
    expect([config.architecture, nodeArchitecture(config)]).toEqual(["arm64", "x86_64"]);
    const nodeIp = config.talos.nodeIps[0]!;
    await netboot({
      name: "node-script",
      config,
      guestIp: nodeIp,
      // The script the iPXE AMI reads as user-data.
      script: renderIpxeScript(config),
      check: ({ cmdline, matchboxLog }) => {
        expect(cmdline).toEqual([...talosKernelArgs(nodeArchitecture(config)), `talos.config=${machineConfigUrl}`]);
        expect(cmdline).toContain("pti=on");
        // matchbox saw the node's own labels: the address DHCP gave it, its MAC and SMBIOS UUID.
        expect(matchboxLog).toContain(`GET /ipxe?ip=${nodeIp}&mac=${NODE_MAC.replace(/:/g, "-")}&uuid=${NODE_UUID}`);
      },
    });
  });

  it("boots a home machine from the boot file the rendered dnsmasq.conf hands iPXE into maintenance mode", async () => {
    const config = x86Site("home", "http://10.17.13.140:8088/talos/controlplane.yaml");
    // What home DHCP gives iPXE (user-class iPXE); the DHCP test proves dnsmasq sends it.
    const bootFile = /^dhcp-boot=tag:ipxe,(\S+)$/m.exec(renderDnsmasqConfig(config))?.[1];
    expect(bootFile, "the rendered dnsmasq.conf has a dhcp-boot line for iPXE").toBeDefined();
    await netboot({
      name: "home-dhcp",
      config,
      guestIp: config.bastion.dnsmasq.rangeStart!,
      dhcpBootFile: bootFile,
      check: ({ cmdline, matchboxLog }) => {
        // /boot.ipxe chains to /ipxe with mac, uuid and more, but no ip label: the default group.
        expect(cmdline).toEqual([...talosKernelArgs(nodeArchitecture(config))]);
        expect(matchboxLog).toContain("GET /boot.ipxe");
        expect(matchboxLog).toContain(`GET /ipxe?uuid=${NODE_UUID}&mac=${NODE_MAC.replace(/:/g, "-")}`);
      },
    });
  });
});
