/**
 * The Raspberry Pi part of the home bundle, rendered by the command the operator runs
 * (`DEATHSTAR_CONFIG=examples/home-pi.yaml npm run render -- --site home`): dnsmasq answers the
 * boot ROM, the fetch step provides bootcode.bin and each Pi's TFTP dir, config.txt starts U-Boot
 * in 64-bit mode, matchbox boots each Pi's MAC into the rpi_generic Talos on the UART; and a site
 * without Pis renders exactly what it did before.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { loadSiteConfig } from "../config/load.js";
import { PI_MODELS, RPI_GENERIC_SCHEMATIC_ID } from "../config/raspberry-pi.js";
import { renderBastionBundle } from "../templates/bundle.js";
import { TFTP_ROOT } from "../templates/dnsmasq.js";
import { FETCH_PI_FIRMWARE_SCRIPT } from "../templates/fetch-pi-firmware.js";
import { PI_CONSOLE, PI_DEBS, PI_PROFILE_ID, piTftpFiles } from "../templates/raspberry-pi.js";
import { bundled } from "./helpers/build.js";
import { blockCommands, docBlock } from "./helpers/docs.js";
import { scratchDir } from "./helpers/processes.js";
import { siteConfig } from "./helpers/synth.js";

const REPO = join(import.meta.dirname, "..");
const EXAMPLE = join(REPO, "examples/home-pi.yaml");
const config = loadSiteConfig({ site: "home", configFile: EXAMPLE });

/**
 * The bundle docs/raspberry-pi.md's render command writes, relative path -> text: its config file
 * (from the repository) and its arguments, run by the script `npm run render` runs, in a scratch dir.
 */
function renderExample(): Record<string, string> {
  const [command, ...rest] = blockCommands(docBlock("docs/raspberry-pi.md", "Steps").text);
  expect(rest).toEqual([]);
  const match = /^DEATHSTAR_CONFIG=(\S+) npm run render -- (.+)$/.exec(command!);
  expect(match, command).not.toBeNull();
  const [, configFile, args] = match!;
  const dir = scratchDir("pi-render");
  const result = spawnSync(process.execPath, [bundled("scripts/render.ts"), ...args!.split(" ")], {
    cwd: dir,
    env: { ...process.env, DEATHSTAR_CONFIG: join(REPO, configFile!) },
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(result.status, result.stderr).toBe(0);
  expect(join(REPO, configFile!)).toBe(EXAMPLE);
  const out = join(dir, args!.split(" ").at(-1)!);
  const files: Record<string, string> = {};
  for (const entry of readdirSync(out, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files[relative(out, join(entry.parentPath, entry.name))] = readFileSync(join(entry.parentPath, entry.name), "utf8");
  }
  return files;
}

describe("examples/home-pi.yaml through npm run render, as docs/raspberry-pi.md runs it", () => {
  const bundle = renderExample();
  const pis = config.raspberryPi.nodes;

  it("lists two CM3 workers", () => {
    expect(pis.map((pi) => [pi.name, pi.model, pi.role])).toEqual([
      ["pi-1", "CM3", "worker"],
      ["pi-2", "CM3+", "worker"],
    ]);
  });

  it('dnsmasq answers a Pi\'s boot ROM with "Raspberry Pi Boot", only for Raspberry Pi MACs, and gives it no PC boot file', () => {
    const conf = bundle["dnsmasq/dnsmasq.conf"]!;
    expect(conf).toContain('pxe-service=tag:rpi,0,"Raspberry Pi Boot   "');
    expect(conf).toContain("dhcp-mac=set:rpi,b8:27:eb:*:*:*");
    expect(conf).toContain("dhcp-boot=tag:!ipxe,tag:!rpi,tag:bios,undionly.kpxe,,10.17.13.140");
    // U-Boot on a Pi asks as arm64 UEFI: the line every arm64 machine gets.
    expect(conf).toContain("dhcp-boot=tag:!ipxe,tag:efi-arm64,arm64/ipxe.efi,,10.17.13.140");
  });

  it("the fetch step provides bootcode.bin and each Pi's start.elf, fixup.dat, U-Boot and device tree from pinned Debian packages", () => {
    const script = bundle[FETCH_PI_FIRMWARE_SCRIPT]!;
    expect(script).toContain("BOOTCODE='bootcode.bin'");
    expect(script).toContain("FIRMWARE_FILES=('start.elf' 'fixup.dat')");
    expect(script).toContain("U_BOOT='u-boot.bin'");
    expect(script).toContain(`PIS=('1a2b3c4d' '${PI_MODELS.CM3.deviceTree}' '5e6f7a8b' '${PI_MODELS["CM3+"].deviceTree}')`);
    for (const deb of Object.values(PI_DEBS)) expect(script).toContain(`('${deb.pool}' '${deb.sha256}' '${deb.dir}')`);
    expect(PI_DEBS.firmware.pool).toContain("raspi-firmware_1.20220830+ds-1_");
    expect(PI_DEBS.uBoot.pool).toContain("u-boot-rpi_2023.01+dfsg-2+deb12u3_arm64");
    // Never the firmware itself: the bundle is text.
    expect(Object.keys(bundle).filter((path) => /\.(bin|elf|dat|dtb)$/.test(path))).toEqual([]);
  });

  it("compose mounts bootcode.bin and each Pi's dir into dnsmasq's TFTP root, where the ROM asks for them", () => {
    const volumes = (parse(bundle["compose.yaml"]!) as { services: { dnsmasq: { volumes: string[] } } }).services.dnsmasq.volumes;
    expect(volumes).toContain(`./data/tftpboot/bootcode.bin:${TFTP_ROOT}/bootcode.bin:ro`);
    for (const pi of pis) expect(volumes).toContain(`./data/tftpboot/${pi.serial}:${TFTP_ROOT}/${pi.serial}:ro`);
    expect(piTftpFiles(pis[0]!)).toEqual(["1a2b3c4d/start.elf", "1a2b3c4d/fixup.dat", "1a2b3c4d/u-boot.bin", "1a2b3c4d/bcm2837-rpi-cm3-io3.dtb", "1a2b3c4d/config.txt"]);
  });

  it("config.txt per serial: 64-bit, U-Boot as the kernel, the UART on, the board's device tree", () => {
    const text = bundle["raspberry-pi/1a2b3c4d/config.txt"]!;
    const settings = text.split("\n").filter((line) => line && !line.startsWith("#"));
    expect(settings).toEqual(["arm_64bit=1", "kernel=u-boot.bin", "enable_uart=1", "device_tree=bcm2837-rpi-cm3-io3.dtb"]);
    expect(bundle["raspberry-pi/5e6f7a8b/config.txt"]).toContain("# pi-2: Raspberry Pi CM3+, serial 5e6f7a8b, b8:27:eb:6f:7a:8b");
  });

  it("matchbox boots each Pi's MAC into the rpi_generic Talos with its console on ttyAMA0", () => {
    const profile = JSON.parse(bundle[`matchbox/profiles/${PI_PROFILE_ID}.json`]!) as { boot: { kernel: string; initrd: string[]; args: string[] } };
    expect(profile.boot.args).toContain(PI_CONSOLE);
    expect(PI_CONSOLE).toBe("console=ttyAMA0,115200");
    expect(profile.boot.args).not.toContain("console=ttyS0");
    expect(profile.boot.args).toContain("talos.platform=metal");
    expect(profile.boot.kernel).toBe("/assets/talos/v1.11.6/raspberry-pi/vmlinuz");
    // The fetch step for Talos downloads that kernel of the rpi_generic schematic.
    expect(bundle["scripts/fetch-talos-assets.sh"]).toContain(`'talos/v1.11.6/raspberry-pi/vmlinuz' 'https://factory.talos.dev/image/${RPI_GENERIC_SCHEMATIC_ID}/v1.11.6/kernel-arm64'`);
    for (const pi of pis) {
      const group = JSON.parse(bundle[`matchbox/groups/${pi.name}.json`]!) as { profile: string; selector: Record<string, string>; metadata: Record<string, string> };
      expect(group.profile).toBe(PI_PROFILE_ID);
      expect(group.selector).toEqual({ mac: pi.mac });
      expect(group.metadata).toMatchObject({
        role: "worker",
        serial: pi.serial,
        installDisk: "/dev/mmcblk0",
        installImage: `factory.talos.dev/metal-installer/${RPI_GENERIC_SCHEMATIC_ID}:v1.11.6`,
      });
    }
  });
});

describe("a home site without Pis", () => {
  it("renders no Pi file, mount or dnsmasq line", () => {
    const bundle = renderBastionBundle(siteConfig({}, "home"));
    expect(Object.keys(bundle).filter((path) => /raspberry|pi-firmware/.test(path))).toEqual([]);
    expect(bundle["dnsmasq/dnsmasq.conf"]).not.toMatch(/rpi|Raspberry/);
    expect(bundle["compose.yaml"]).not.toContain("bootcode.bin");
    expect(bundle["dnsmasq/dnsmasq.conf"]).toContain("dhcp-boot=tag:!ipxe,tag:bios,undionly.kpxe,,10.17.13.140");
  });
});
