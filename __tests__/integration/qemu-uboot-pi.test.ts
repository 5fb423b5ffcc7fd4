/**
 * A Raspberry Pi's netboot from U-Boot on, emulated: Debian's U-Boot 2023.01 for QEMU's arm64
 * "virt" machine (package u-boot-qemu; the same release and distro boot commands as the Pis'
 * u-boot-rpi rpi_arm64 build, with an emulated e1000 NIC in place of the Pi's LAN951x) boots with
 * the NIC at a Pi's MAC on a tap device of a network namespace, where dnsmasq runs the rendered
 * dnsmasq.conf of examples/home-pi.yaml and matchbox its rendered profiles and groups, both on the
 * fileserver's address. Finding no disk, distro boot's DHCP step asks as an arm64 EFI client
 * (architecture 11), loads the boot file dnsmasq names over TFTP and starts it with `bootefi`.
 * The boot file is Debian's GRUB network EFI image standing in for the arm64 iPXE build (Debian has
 * none), with a grub.cfg doing what iPXE's chain to matchbox does: ask matchbox for this MAC's boot
 * (matchbox renders the same profile for GRUB as for iPXE). matchbox picks the Pi's group, and the
 * guest boots the Pi profile's kernel (Debian's arm64 kernel standing in for Talos') with its
 * arguments; the initramfs prints the command line on the PL011 UART, which the Pi profile names
 * (ttyAMA0) and QEMU's virt machine has.
 * Not emulated: the boot ROM, bootcode.bin and start.elf (they run on the Pi's VideoCore GPU,
 * which QEMU does not model), the LAN951x USB Ethernet chip, the arm64 iPXE build, Talos itself
 * (docs/raspberry-pi.md).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSiteConfig } from "../../config/load.js";
import { parseIpv4Cidr } from "../../lib/net.js";
import { siteView } from "../../config/site-view.js";
import { ARM64_IPXE_TFTP_PATH } from "../../templates/dnsmasq.js";
import { renderBastionBundle } from "../../templates/bundle.js";
import { piMatchboxProfile, piTalosAssets } from "../../templates/raspberry-pi.js";
import { deleteNamespaces, ip, startHomeDnsmasq, uniqueName } from "../helpers/home-dnsmasq.js";
import { cmdlineInitramfs, guestCmdline, matchboxBinary, writeTree } from "../helpers/netboot.js";
import { startProcess, tail, tempDir, waitUntil, type RunningProcess } from "../helpers/processes.js";
import { ARM64_GUEST_DEBS, debFile, debTree, GRUB_ARM64_DEB } from "../helpers/raspberry-pi.js";

const REPO = join(import.meta.dirname, "../..");
/** Debian's U-Boot for QEMU's arm64 virt machine (package u-boot-qemu). */
const U_BOOT_QEMU = "/usr/lib/u-boot/qemu_arm64/u-boot.bin";
/** Distro boot tries every disk type first, GRUB fetches a 33 MB kernel over HTTP; TCG on a loaded machine is slow. */
const GUEST_TIMEOUT_MS = 420_000;
/** Where the logs of a failed run are kept (gitignored). */
const ARTIFACTS = resolve(REPO, "test-artifacts/qemu-uboot-pi");

const config = loadSiteConfig({ site: "home", configFile: join(REPO, "examples/home-pi.yaml") });
const pi = config.raspberryPi.nodes[0]!;

/**
 * What the stand-in for iPXE runs: GRUB's equivalent of boot.ipxe's chain, matchbox's GRUB config
 * for this machine's MAC, read over HTTP from the fileserver (matchbox's /grub, same group selection).
 */
function grubConfig(): string {
  const { host } = new URL(siteView(config).matchboxUrl);
  return [`set root=(http,${host})`, "configfile /grub?mac=${net_default_mac}", ""].join("\n");
}

describe("QEMU: U-Boot on a Pi's MAC -> the rendered dnsmasq -> an arm64 EFI boot file -> matchbox -> the Pi profile", () => {
  it("asks DHCP as an arm64 EFI client, runs arm64/ipxe.efi from the fileserver's TFTP and boots the Pi profile from matchbox", async () => {
    if (!existsSync(U_BOOT_QEMU)) throw new Error(`${U_BOOT_QEMU} is missing: install the Debian package u-boot-qemu (scripts/apt-packages.txt)`);
    const dir = tempDir("qemu-uboot-pi");
    const ns = uniqueName("deathstar-uboot-");
    const tap = uniqueName("dsu");
    let dnsmasq: RunningProcess | undefined;
    let matchbox: RunningProcess | undefined;
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
      // GRUB's network image reads its config and the modules it lacks (http) from grub/ in the TFTP root.
      const modules = debTree(GRUB_ARM64_DEB, "usr/lib/grub/arm64-efi", join(dir.path, "grub-deb"));
      writeTree(join(dir.path, "tftpboot"), {
        [ARM64_IPXE_TFTP_PATH]: efi,
        "grub/grub.cfg": grubConfig(),
        ...Object.fromEntries(Object.entries(modules).map(([path, bytes]) => [`grub/arm64-efi/${path}`, bytes])),
      });
      dnsmasq = await startHomeDnsmasq(config, ns, dir.path, join(dir.path, "tftpboot"));

      // matchbox with the bundle's profiles and groups, the Pi profile's assets: an arm64 kernel and the printing initramfs.
      const { kernel: kernelDeb, busybox: busyboxDeb } = ARM64_GUEST_DEBS;
      const { kernel, initramfs } = piTalosAssets(config);
      const bundle = Object.entries(renderBastionBundle(config)).filter(([path]) => path.startsWith("matchbox/"));
      writeTree(join(dir.path, "matchbox"), {
        ...Object.fromEntries(bundle.map(([path, text]) => [path.slice("matchbox/".length), text])),
        [`assets/${kernel.path}`]: debFile(kernelDeb, `vmlinuz-${kernelDeb.package.replace("linux-image-", "")}`),
        [`assets/${initramfs.path}`]: cmdlineInitramfs(debFile(busyboxDeb, "busybox")),
      });
      const { host } = new URL(siteView(config).matchboxUrl);
      const data = join(dir.path, "matchbox");
      matchbox = startProcess(
        "ip",
        ["netns", "exec", ns, matchboxBinary(), `-address=${host}`, `-data-path=${data}`, `-assets-path=${join(data, "assets")}`, "-log-level=debug"],
        { name: "matchbox", logFile: join(dir.path, "matchbox.log") },
      );
      await waitUntil("matchbox to listen", () => matchbox!.log().includes("Starting matchbox HTTP server"), { timeoutMs: 30_000, process: matchbox });

      qemu = startProcess(
        "ip",
        [
          ...["netns", "exec", ns, "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a53", "-m", "512", "-smp", "1", "-accel", "tcg"],
          ...["-nodefaults", "-nographic", "-monitor", "none", "-no-reboot", "-serial", `file:${serialLog}`, "-bios", U_BOOT_QEMU],
          ...["-netdev", `tap,id=net0,ifname=${tap},script=no,downscript=no`, "-device", `e1000,netdev=net0,mac=${pi.mac},romfile=`],
        ],
        { name: "qemu", logFile: join(dir.path, "qemu.log") },
      );
      await waitUntil("the guest to print its command line", () => guestCmdline(serial()) !== undefined, { timeoutMs: GUEST_TIMEOUT_MS, process: qemu }).catch(
        (error: Error) => {
          // The guest powers off right after printing: QEMU may exit between two looks at the log.
          if (guestCmdline(serial()) !== undefined) return;
          throw new Error(`${error.message}\nserial console:\n${tail(serial())}\ndnsmasq:\n${tail(dnsmasq!.log())}\nmatchbox:\n${tail(matchbox!.log())}`);
        },
      );

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
      // U-Boot's bootefi ran the boot file; it asked matchbox with the Pi's MAC, which picked the Pi's group.
      expect(log).toContain("Welcome to GRUB!");
      expect(matchbox.log()).toContain(`mac=${pi.mac}`);
      // The guest booted the Pi profile's kernel (GRUB names it first, as BOOT_IMAGE) with the
      // profile's arguments: the rpi_generic Talos on ttyAMA0.
      const [bootImage, ...args] = guestCmdline(log)!.split(" ");
      expect(bootImage).toBe(`BOOT_IMAGE=/assets/${kernel.path}`);
      expect(args).toEqual(piMatchboxProfile(config).boot.args);
    } catch (error) {
      const kept = join(ARTIFACTS, "uboot");
      mkdirSync(kept, { recursive: true });
      for (const file of ["serial.log", "qemu.log", "dnsmasq.log", "dnsmasq.conf", "matchbox.log"]) {
        if (existsSync(join(dir.path, file))) copyFileSync(join(dir.path, file), join(kept, file));
      }
      console.error(`qemu-uboot-pi: serial console and logs kept in ${kept}`);
      throw error;
    } finally {
      await qemu?.stop();
      await matchbox?.stop();
      await dnsmasq?.stop();
      deleteNamespaces(ns);
      dir.remove();
    }
  });
});
