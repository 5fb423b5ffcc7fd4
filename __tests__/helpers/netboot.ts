/**
 * Pieces of a netboot chain for tests: a matchbox data dir written from the rendered files, matchbox
 * itself (built by scripts/toolchain.sh), a Debian kernel and a tiny busybox initramfs that prints
 * the kernel command line it was booted with and powers off.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { startProcess, waitForHttp, type RunningProcess } from "./processes.js";
import { toolchain } from "./toolchain.js";

/** The line the test initramfs prints, followed by /proc/cmdline. */
export const CMDLINE_MARKER = "deathstar-guest-cmdline:";

/** Debian's static busybox (package busybox-static). */
export const BUSYBOX = "/bin/busybox";

/** Writes `files` (relative path -> content) under `root`, refusing paths that leave it. */
export function writeTree(root: string, files: Readonly<Record<string, string | Buffer>>): void {
  for (const [path, content] of Object.entries(files)) {
    const target = resolve(root, path);
    const rel = relative(root, target);
    if (rel === "" || rel === ".." || rel.startsWith("../") || isAbsolute(rel)) throw new Error(`${path} is not inside ${root}`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

export function matchboxBinary(): string {
  const { matchbox } = toolchain();
  if (!matchbox) throw new Error('the cached toolchain has no matchbox: run "bash scripts/setup.sh" (npm test does)');
  return matchbox;
}

/** Starts matchbox on 127.0.0.1:`port` serving `dataDir` (profiles/, groups/, assets/). */
export async function startMatchbox(dataDir: string, port: number, logFile: string): Promise<RunningProcess> {
  const proc = startProcess(
    matchboxBinary(),
    [`-address=127.0.0.1:${port}`, `-data-path=${dataDir}`, `-assets-path=${join(dataDir, "assets")}`, "-log-level=debug"],
    { name: "matchbox", logFile },
  );
  await waitForHttp(`http://127.0.0.1:${port}/`, proc);
  return proc;
}

/** The newest Debian kernel image in /boot (package linux-image-cloud-amd64). */
export function debianKernel(): Buffer {
  const images = readdirSync("/boot")
    .filter((name) => name.startsWith("vmlinuz-"))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const newest = images.at(-1);
  if (!newest) throw new Error("no /boot/vmlinuz-*: install linux-image-cloud-amd64 (scripts/apt-packages.txt)");
  return readFileSync(join("/boot", newest));
}

interface CpioEntry {
  readonly path: string;
  readonly mode: number;
  readonly data?: Buffer;
  /** Device number of a character device node. */
  readonly rdev?: readonly [major: number, minor: number];
}

/** A cpio archive in the "newc" format the kernel unpacks as initramfs. */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const pad4 = (length: number) => Buffer.alloc((4 - (length % 4)) % 4);
  const hex = (value: number) => value.toString(16).padStart(8, "0");
  const parts: Buffer[] = [];
  const add = (entry: CpioEntry, ino: number) => {
    const data = entry.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${entry.path}\0`);
    const [rdevMajor, rdevMinor] = entry.rdev ?? [0, 0];
    const fields = [ino, entry.mode, 0, 0, 1, 0, data.length, 0, 0, rdevMajor, rdevMinor, name.length, 0];
    const header = Buffer.from(`070701${fields.map(hex).join("")}`);
    parts.push(header, name, pad4(header.length + name.length), data, pad4(data.length));
  };
  entries.forEach((entry, i) => add(entry, i + 1));
  add({ path: "TRAILER!!!", mode: 0 }, 0);
  return Buffer.concat(parts);
}

/** xz with the CRC32 check, the only one the kernel's initramfs decompressor accepts. */
function xzForKernel(data: Buffer): Buffer {
  return execFileSync("xz", ["--format=xz", "--check=crc32", "--stdout"], { input: data, maxBuffer: 64 * 1024 * 1024 });
}

/**
 * An initramfs whose /init prints CMDLINE_MARKER and /proc/cmdline on the console, then powers off;
 * `busybox` is a static busybox of the guest's architecture (default: the host's).
 */
export function cmdlineInitramfs(busybox: Buffer = readFileSync(BUSYBOX)): Buffer {
  const init = `#!${BUSYBOX} sh
${BUSYBOX} mount -t proc proc /proc
echo "${CMDLINE_MARKER}$(${BUSYBOX} cat /proc/cmdline)"
${BUSYBOX} poweroff -f
`;
  return xzForKernel(
    cpioNewc([
      { path: "bin", mode: 0o040755 },
      { path: "bin/busybox", mode: 0o100755, data: busybox },
      { path: "dev", mode: 0o040755 },
      { path: "dev/console", mode: 0o020600, rdev: [5, 1] },
      { path: "proc", mode: 0o040755 },
      { path: "init", mode: 0o100755, data: Buffer.from(init) },
    ]),
  );
}

/** The command line the guest printed, from its serial log; undefined until it did. */
export function guestCmdline(serialLog: string): string | undefined {
  const line = serialLog
    .replace(/\r/g, "")
    .split("\n")
    .find((l) => l.startsWith(CMDLINE_MARKER));
  return line?.slice(CMDLINE_MARKER.length).trim();
}

/**
 * Expands the iPXE settings a node's chain URL uses, as iPXE would on that node
 * (`${net0/ip}`, `${mac:hexhyp}`, `${uuid}`); fails on any other setting so a new one is noticed.
 */
export function expandIpxeSettings(url: string, node: { readonly ip: string; readonly mac: string; readonly uuid: string }): string {
  const values: Record<string, string> = { "net0/ip": node.ip, "mac:hexhyp": node.mac.replace(/:/g, "-"), uuid: node.uuid };
  return url.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`the chain URL uses the iPXE setting \${${name}}, which this test does not know`);
    return value;
  });
}
