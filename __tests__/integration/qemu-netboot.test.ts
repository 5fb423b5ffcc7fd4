/**
 * The netboot chain in a virtual machine: QEMU (TCG) boots Debian's iPXE with the rendered node
 * script (what the iPXE AMI reads as user-data), iPXE asks matchbox for its boot script with the
 * node's labels, fetches the kernel and initramfs the profile names and boots them; the initramfs
 * prints the kernel command line on the serial console. The guest's network is QEMU's user mode
 * with the config's private subnet, the node's address as the first DHCP lease, and nothing
 * reachable but the bastion's matchbox address and port, forwarded to matchbox on loopback.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { renderIpxeScript } from "../../templates/ipxe.js";
import { renderMatchboxFiles, TALOS_METAL_ARGS } from "../../templates/matchbox.js";
import { talosAssets } from "../../templates/talos-assets.js";
import { BUSYBOX, cmdlineInitramfs, debianKernel, guestCmdline, startMatchbox, writeTree } from "../helpers/netboot.js";
import { freePort, startProcess, tail, tempDir, waitUntil, type RunningProcess } from "../helpers/processes.js";
import { siteConfig } from "../helpers/synth.js";

/** Debian's iPXE as a Linux kernel image: QEMU loads it with -kernel; iPXE runs an initrd that is a script. */
const IPXE_LKRN = "/usr/lib/ipxe/ipxe.lkrn";
/** Boot to power-off takes seconds under TCG; this bounds a hung guest on a loaded machine. */
const GUEST_TIMEOUT_MS = 240_000;
const NODE_MAC = "52:54:00:de:a7:01";
const NODE_UUID = "6d2b1c1e-0b3a-4a59-9d6e-3f0c2a7e5b11";
const MACHINE_CONFIG_URL = "http://10.20.13.140:8088/talos/controlplane.yaml";
/** Where the serial log of a failed run is kept (gitignored). */
const ARTIFACTS = resolve(import.meta.dirname, "../../test-artifacts/qemu-netboot");

// The host emulates x86, so this node is x86_64 (amd64 assets) on x86 instance types; the matchbox
// port differs from the default so a hard-coded 8080 anywhere in the chain shows.
const config = siteConfig({
  architecture: "x86_64",
  network: { natInstance: { instanceType: "t3.nano" } },
  bastion: { instanceType: "t3.small" },
  talos: { nodeInstanceType: "t3.small", machineConfigUrl: MACHINE_CONFIG_URL },
  services: { matchboxPort: 8088 },
});
const nodeIp = config.talos.nodeIps[0]!;

describe("QEMU: iPXE with the rendered script -> matchbox -> kernel", () => {
  let dir: ReturnType<typeof tempDir>;
  let matchbox: RunningProcess | undefined;
  let qemu: RunningProcess | undefined;
  let matchboxPort: number;

  beforeAll(async () => {
    if (!existsSync(IPXE_LKRN)) throw new Error(`${IPXE_LKRN} is missing: install the Debian package ipxe (scripts/apt-packages.txt)`);
    dir = tempDir("qemu-netboot");
    const { kernel, initramfs } = talosAssets(config);
    writeTree(join(dir.path, "data"), {
      ...renderMatchboxFiles(config),
      [`assets/${kernel.path}`]: debianKernel(),
      [`assets/${initramfs.path}`]: cmdlineInitramfs(),
    });
    writeTree(dir.path, { "node.ipxe": renderIpxeScript(config) });
    matchboxPort = await freePort();
    matchbox = await startMatchbox(join(dir.path, "data"), matchboxPort, join(dir.path, "matchbox.log"));
  });

  afterAll(async () => {
    await qemu?.stop();
    await matchbox?.stop();
    dir?.remove();
  });

  it("boots the node's kernel with the rendered command line", async () => {
    const serialLog = join(dir.path, "serial.log");
    onTestFailed(() => {
      mkdirSync(ARTIFACTS, { recursive: true });
      for (const file of ["serial.log", "qemu.log", "matchbox.log", "node.ipxe"]) {
        if (existsSync(join(dir.path, file))) copyFileSync(join(dir.path, file), join(ARTIFACTS, file));
      }
      console.error(`qemu-netboot: logs kept in ${ARTIFACTS}`);
    });

    const { bastion, network, services } = config;
    const netdev = [
      "user,id=net0",
      // No route anywhere: only the guestfwd below reaches the host.
      "restrict=on",
      `net=${network.privateSubnet.cidr}`,
      `dhcpstart=${nodeIp}`,
      `guestfwd=tcp:${bastion.privateIp}:${services.matchboxPort}-cmd:${BUSYBOX} nc 127.0.0.1 ${matchboxPort}`,
    ].join(",");
    qemu = startProcess(
      "qemu-system-x86_64",
      [
        // -nographic also makes SeaBIOS copy the screen to the serial port, so iPXE's messages land in the log.
        ...["-accel", "tcg", "-m", "512", "-smp", "1", "-nodefaults", "-nographic", "-monitor", "none", "-no-reboot"],
        ...["-uuid", NODE_UUID, "-serial", `file:${serialLog}`],
        ...["-kernel", IPXE_LKRN, "-initrd", join(dir.path, "node.ipxe")],
        // romfile= skips the NIC's own iPXE option ROM: the iPXE under test is the -kernel one.
        ...["-netdev", netdev, "-device", `virtio-net-pci,netdev=net0,mac=${NODE_MAC},romfile=`],
      ],
      { name: "qemu", logFile: join(dir.path, "qemu.log") },
    );
    const serial = () => (existsSync(serialLog) ? readFileSync(serialLog, "utf8") : "");
    // matchbox is up before the guest starts, so the script's retry message means a broken link.
    const retried = () => serial().includes("not reachable yet");
    await waitUntil("the guest to power off", () => qemu!.hasExited() || retried(), { timeoutMs: GUEST_TIMEOUT_MS }).catch((error: Error) => {
      throw new Error(`${error.message}\nserial console:\n${tail(serial())}`);
    });
    expect(retried(), `iPXE could not reach matchbox:\n${tail(serial())}`).toBe(false);
    expect(await qemu.exited, `qemu failed:\n${qemu.log()}`).toBe(0);

    const cmdline = guestCmdline(serial());
    expect(cmdline, `no command line on the serial console:\n${tail(serial())}`).toBeDefined();
    expect(cmdline!.split(" ")).toEqual([...TALOS_METAL_ARGS, `talos.config=${MACHINE_CONFIG_URL}`]);
    // matchbox saw the node's own labels: the address DHCP gave it, its MAC and SMBIOS UUID.
    expect(matchbox!.log()).toContain(`GET /ipxe?ip=${nodeIp}&mac=${NODE_MAC.replace(/:/g, "-")}&uuid=${NODE_UUID}`);
  });
});
