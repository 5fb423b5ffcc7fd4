/**
 * The Raspberry Pi packages the bundle's fetch step pins, for tests: downloaded once with apt from
 * Debian's bookworm arm64 lists (an arm64 source list of its own in the cache, so the host's apt
 * setup stays untouched), kept in the toolchain cache under their versioned file names and
 * checked against the pins, and served as a file:// mirror the fetch step reads like deb.debian.org.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { PI_DEBS, type PinnedDeb } from "../../templates/raspberry-pi.js";
import { CACHE_DIR } from "./toolchain.js";

/** The packages' cache: the .deb files under their pool names (package_version_arch.deb), and apt's own state. */
const DEB_DIR = join(CACHE_DIR, "debian-arm64");
const APT_DIR = join(DEB_DIR, "apt");
/** bookworm's arm64 lists; raspi-firmware is in non-free-firmware. */
const SOURCES = "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main non-free-firmware\n";

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** apt-get with the cache's own arm64 source list, lists and archives: nothing of the host's configuration. */
function aptGet(args: readonly string[], cwd: string): void {
  const options = {
    "Dir::Etc::SourceList": join(APT_DIR, "sources.list"),
    "Dir::Etc::SourceParts": "/dev/null",
    "Dir::Etc::Preferences": "/dev/null",
    "Dir::Etc::PreferencesParts": "/dev/null",
    "Dir::State::Lists": join(APT_DIR, "lists"),
    "Dir::State::Status": "/dev/null",
    "Dir::Cache": join(APT_DIR, "cache"),
    "APT::Architecture": "arm64",
    "APT::Architectures::": "arm64",
  };
  // One apt at a time on the cache's lists: integration files run side by side, and apt-get takes
  // its lists' lock without waiting (a second update fails with "Could not get lock").
  execFileSync("flock", [join(APT_DIR, ".lock"), "apt-get", ...Object.entries(options).flatMap(([key, value]) => ["-o", `${key}=${value}`]), "-q", ...args], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 600_000,
  });
}

/** The cached .deb of `deb`, downloaded with apt when missing; fails when it does not match the pin. */
export function cachedDeb(deb: PinnedDeb): string {
  const file = join(DEB_DIR, basename(deb.pool));
  if (!existsSync(file)) {
    for (const dir of ["lists/partial", "cache/archives/partial"]) mkdirSync(join(APT_DIR, dir), { recursive: true });
    writeFileSync(join(APT_DIR, "sources.list"), SOURCES);
    aptGet(["update"], DEB_DIR);
    // apt-get download writes <package>_<version>_<arch>.deb into the working dir (an epoch's colon as %3a).
    // A download directory of this process's own; the finished file takes its place by a rename.
    const scratch = mkdtempSync(join(DEB_DIR, "download-"));
    try {
      aptGet(["download", `${deb.package}=${deb.version}`], scratch);
      renameSync(join(scratch, `${deb.package}_${deb.version.replace(":", "%3a")}_${basename(deb.pool).split("_").at(-1)}`), file);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  const actual = sha256(file);
  if (actual !== deb.sha256) throw new Error(`${file} has sha256 ${actual}, not the pinned ${deb.sha256} (templates/raspberry-pi.ts)`);
  return file;
}

/** A Debian mirror under `root` holding the pinned packages at their pool paths; returns its file:// URL. */
export function piDebMirror(root: string): string {
  for (const deb of Object.values(PI_DEBS)) {
    const target = join(root, deb.pool);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(cachedDeb(deb), target);
  }
  return `file://${root}`;
}

/** Every file under `dir` of a pinned package (relative path -> bytes), read from the cached .deb with dpkg-deb. */
export function debTree(deb: PinnedDeb, dir: string, scratch: string): Record<string, Buffer> {
  const tar = execFileSync("dpkg-deb", ["--fsys-tarfile", cachedDeb(deb)], { maxBuffer: 512 * 1024 * 1024 });
  mkdirSync(scratch, { recursive: true });
  execFileSync("tar", ["-x", "-C", scratch, `./${dir}`], { input: tar });
  const root = join(scratch, dir);
  return Object.fromEntries(
    readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => [relative(root, join(entry.parentPath, entry.name)), readFileSync(join(entry.parentPath, entry.name))]),
  );
}

/** One file of a pinned package, read from the cached .deb with dpkg-deb (not the fetch step's own ar | tar). */
export function debFile(deb: PinnedDeb, name: string): Buffer {
  const tar = execFileSync("dpkg-deb", ["--fsys-tarfile", cachedDeb(deb)], { maxBuffer: 512 * 1024 * 1024 });
  return execFileSync("tar", ["-xO", `./${deb.dir}/${name}`], { input: tar, maxBuffer: 64 * 1024 * 1024 });
}

/**
 * Debian's GRUB for arm64 EFI: its network image stands in for an arm64 iPXE build in the U-Boot
 * test (Debian ships no arm64 iPXE). Test-only; the bundle never fetches it.
 */
export const GRUB_ARM64_DEB: PinnedDeb = {
  package: "grub-efi-arm64-bin",
  version: "2.06-13+deb12u2",
  pool: "pool/main/g/grub2/grub-efi-arm64-bin_2.06-13+deb12u2_arm64.deb",
  sha256: "04e469e0221a357bfe0a1f0fc558f08a92edf99ef13c321aa9ea1e04951a2914",
  dir: "usr/lib/grub/arm64-efi/monolithic",
};

/** Debian's arm64 kernel and static busybox: the guest the U-Boot test boots from matchbox in place of Talos. Test-only. */
export const ARM64_GUEST_DEBS = {
  // The same package the fetch step takes the Pi device trees from: its Image has the EFI stub.
  kernel: { ...PI_DEBS.deviceTrees, dir: "boot" },
  busybox: {
    package: "busybox-static",
    version: "1:1.35.0-4+deb12u1+b1",
    pool: "pool/main/b/busybox/busybox-static_1.35.0-4+deb12u1+b1_arm64.deb",
    sha256: "732c9135564fc71337e0e05fb4da4d11e6c28c1834bce3e405e575afef2a52f5",
    dir: "bin",
  },
} as const satisfies Record<string, PinnedDeb>;
