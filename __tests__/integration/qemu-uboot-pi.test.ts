/**
 * U-Boot's half of a Raspberry Pi's netboot, emulated: Debian's U-Boot 2023.01 for QEMU's arm64
 * "virt" machine (package u-boot-qemu; the same release and distro boot commands as the Pis'
 * u-boot-rpi rpi_arm64 build, with an emulated e1000 NIC in place of the Pi's LAN951x) boots with the NIC at
 * a Pi's MAC on a tap device of a network namespace, where dnsmasq runs the rendered dnsmasq.conf of
 * examples/home-pi.yaml. Finding no disk, distro boot's DHCP step asks as an arm64 EFI client
 * (architecture 11), loads the boot file dnsmasq names over TFTP and starts it with `bootefi`.
 * The boot file is Debian's GRUB network EFI image standing in for the arm64 iPXE build (Debian
 * has none): it proves U-Boot ran the EFI application it fetched; the iPXE → matchbox leg is
 * __tests__/integration/qemu-netboot.test.ts's.
 * Not emulated: the boot ROM, bootcode.bin and start.elf (they run on the Pi's VideoCore GPU,
 * which QEMU does not model) and the LAN951x USB Ethernet chip (docs/raspberry-pi.md).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSiteConfig } from "../../config/load.js";
import { parseIpv4Cidr } from "../../lib/net.js";
import { ARM64_IPXE_TFTP_PATH } from "../../templates/dnsmasq.js";
import { deleteNamespaces, ip, startHomeDnsmasq, uniqueName } from "../helpers/home-dnsmasq.js";
import { writeTree } from "../helpers/netboot.js";
import { startProcess, tail, tempDir, waitUntil, type RunningProcess } from "../helpers/processes.js";
import { debFile, GRUB_ARM64_DEB } from "../helpers/raspberry-pi.js";

const REPO = join(import.meta.dirname, "../..");
/** Debian's U-Boot for QEMU's arm64 virt machine (package u-boot-qemu). */
const U_BOOT_QEMU = "/usr/lib/u-boot/qemu_arm64/u-boot.bin";
/** Distro boot tries every disk type first; TCG on a loaded machine is slow. */
const GUEST_TIMEOUT_MS = 300_000;
/** Where the logs of a failed run are kept (gitignored). */
const ARTIFACTS = resolve(REPO, "test-artifacts/qemu-uboot-pi");

const config = loadSiteConfig({ site: "home", configFile: join(REPO, "examples/home-pi.yaml") });
const pi = config.raspberryPi.nodes[0]!;

describe("QEMU: U-Boot on a Pi's MAC -> the rendered dnsmasq -> its arm64 EFI boot file", () => {
  it("asks DHCP as an arm64 EFI client, fetches arm64/ipxe.efi over TFTP from the fileserver and runs it", async () => {
    if (!existsSync(U_BOOT_QEMU)) throw new Error(`${U_BOOT_QEMU} is missing: install the Debian package u-boot-qemu (scripts/apt-packages.txt)`);
    const dir = tempDir("qemu-uboot-pi");
    const ns = uniqueName("deathstar-uboot-");
    const tap = uniqueName("dsu");
    let dnsmasq: RunningProcess | undefined;
    let qemu: RunningProcess | undefined;
    const serialLog = join(dir.path, "serial.log");
    const serial = () => (existsSync(serialLog) ? readFileSync(serialLog, "utf8").replace(/\r/g, "") : "");
    try {
      // The fileserver's address on the tap device QEMU attaches to: one link, dnsmasq on one end.
      ip("netns", "add", ns);
      ip("-n", ns, "link", "set", "lo", "up");
      ip("-n", ns, "tuntap", "add", "dev", tap, "mode", "tap");
      ip("-n", ns, "addr", "add", `${config.bastion.privateIp}/${parseIpv4Cidr(config.network.privateSubnet.cidr)!.prefix}`, "dev", tap);
      ip("-n", ns, "link", "set", tap, "up");
      const efi = debFile(GRUB_ARM64_DEB, "grubnetaa64.efi");
      writeTree(join(dir.path, "tftpboot"), { [ARM64_IPXE_TFTP_PATH]: efi });
      dnsmasq = await startHomeDnsmasq(config, ns, dir.path, join(dir.path, "tftpboot"));

      qemu = startProcess(
        "ip",
        [
          ...["netns", "exec", ns, "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a53", "-m", "512", "-smp", "1", "-accel", "tcg"],
          ...["-nodefaults", "-nographic", "-monitor", "none", "-no-reboot", "-serial", `file:${serialLog}`, "-bios", U_BOOT_QEMU],
          ...["-netdev", `tap,id=net0,ifname=${tap},script=no,downscript=no`, "-device", `e1000,netdev=net0,mac=${pi.mac},romfile=`],
        ],
        { name: "qemu", logFile: join(dir.path, "qemu.log") },
      );
      // GRUB's prompt, or its own network boot after it started: either way U-Boot's bootefi ran it.
      const efiRan = () => /GNU GRUB|grub>|Welcome to GRUB/.test(serial());
      await waitUntil("U-Boot to start the EFI boot file", efiRan, { timeoutMs: GUEST_TIMEOUT_MS, process: qemu }).catch((error: Error) => {
        throw new Error(`${error.message}\nserial console:\n${tail(serial())}\ndnsmasq:\n${tail(dnsmasq!.log())}`);
      });

      const log = serial();
      // U-Boot's DHCP as distro boot's EFI step sends it: architecture 11 and a PXE vendor class.
      expect(dnsmasq.log()).toContain("vendor class: PXEClient:Arch:00011:UNDI:003000");
      expect(dnsmasq.log()).toMatch(new RegExp(`DHCPACK\\(${tap}\\) [0-9.]+ ${pi.mac}`));
      // Tagged a Pi (its MAC) and arm64 EFI: the Pis' PXE service is for architecture 0 only.
      expect(dnsmasq.log()).toMatch(/tags: (?=[^\n]*\befi-arm64\b)(?=[^\n]*\brpi\b)/);
      expect(dnsmasq.log()).toContain(`sent ${join(dir.path, "tftpboot", ARM64_IPXE_TFTP_PATH)} to `);
      // ...and what U-Boot made of the answer: the fileserver as TFTP server, the boot file, every byte.
      expect(log).toContain(`TFTP from server ${config.bastion.privateIp}`);
      expect(log).toContain(`Filename '${ARM64_IPXE_TFTP_PATH}'`);
      expect(log).toContain(`Bytes transferred = ${efi.length} `);
      // The Pi's boot ROM PXE menu is for architecture 0 only: U-Boot on a Pi gets none.
      expect(log).not.toContain("Raspberry Pi Boot");
    } catch (error) {
      const kept = join(ARTIFACTS, "uboot");
      mkdirSync(kept, { recursive: true });
      for (const file of ["serial.log", "qemu.log", "dnsmasq.log", "dnsmasq.conf"]) {
        if (existsSync(join(dir.path, file))) copyFileSync(join(dir.path, file), join(kept, file));
      }
      console.error(`qemu-uboot-pi: serial console and logs kept in ${kept}`);
      throw error;
    } finally {
      await qemu?.stop();
      await dnsmasq?.stop();
      deleteNamespaces(ns);
      dir.remove();
    }
  });
});
