/**
 * Real Docker for tests: Debian's dockerd started per test inside a namespace of the VPC harness
 * (vfs storage, its own data root, exec root, socket and pidfile under a temp dir), Docker Compose
 * v2 as a CLI plugin (built by scripts/toolchain.sh at the bastion's version), and images made by
 * `docker import` of binaries installed or built on this machine, never pulled from a registry.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { startProcess, waitUntil, type RunningProcess } from "./processes.js";
import { BUSYBOX } from "./netboot.js";

/** Debian's docker.io CLI, the same release as the daemon. */
const DOCKER_CLI = "/usr/bin/docker";

export class Dockerd {
  private constructor(
    private readonly proc: RunningProcess,
    private readonly env: Readonly<Record<string, string>>,
  ) {}

  /**
   * dockerd in the network namespace `netns`, seeing `resolvConf` as /etc/resolv.conf (what the
   * bastion's boot script writes) in a private mount namespace. Only the network namespace is
   * entered: `ip netns exec` would remount /sys and hide the cgroup mounts dockerd needs.
   */
  static async start(netns: string, dir: string, composePlugin: string, resolvConf: string): Promise<Dockerd> {
    const socket = join(dir, "docker.sock");
    const config = join(dir, "docker-config");
    mkdirSync(join(config, "cli-plugins"), { recursive: true });
    symlinkSync(composePlugin, join(config, "cli-plugins", "docker-compose"));
    const daemon = [
      "dockerd",
      "--storage-driver=vfs",
      `--data-root=${join(dir, "data")}`,
      `--exec-root=${join(dir, "exec")}`,
      `-H`,
      `unix://${socket}`,
      `--pidfile=${join(dir, "docker.pid")}`,
    ].join(" ");
    const proc = startProcess(
      "nsenter",
      [`--net=/run/netns/${netns}`, "unshare", "--mount", "--propagation", "private", "sh", "-c", `mount --bind ${resolvConf} /etc/resolv.conf && exec ${daemon}`],
      { name: `dockerd in ${netns}`, logFile: join(dir, "dockerd.log") },
    );
    const docker = new Dockerd(proc, { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: config });
    await waitUntil("dockerd to answer", () => docker.run(["version"]).then(() => true, () => false), { timeoutMs: 60_000, process: proc });
    return docker;
  }

  /** Runs the docker CLI against this daemon; throws with its output on failure. */
  async run(args: readonly string[], options: { input?: Buffer; cwd?: string } = {}): Promise<string> {
    try {
      return execFileSync(DOCKER_CLI, args, { env: { ...process.env, ...this.env }, input: options.input, cwd: options.cwd, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], maxBuffer: 64 << 20 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`docker ${args.join(" ")}: ${e.stderr || e.stdout || e.message}`);
    }
  }

  /** `docker import` of a root filesystem dir, tagged `reference`. */
  async importImage(rootfs: string, reference: string, changes: readonly string[]): Promise<void> {
    const tar = execFileSync("tar", ["-C", rootfs, "--numeric-owner", "-cf", "-", "."], { maxBuffer: 512 << 20 });
    await this.run(["import", ...changes.flatMap((c) => ["--change", c]), "-", reference], { input: tar });
  }

  log(): string {
    return this.proc.log();
  }

  async stop(): Promise<void> {
    await this.proc.stop();
  }
}

/**
 * A minimal root filesystem: the given binaries with the shared libraries `ldd` names, Debian's
 * static busybox as /bin/sh and wget (healthchecks use it), users root and nobody, and `files`.
 */
export function buildRootfs(root: string, binaries: Readonly<Record<string, string>>, files: Readonly<Record<string, string>> = {}): void {
  const copy = (from: string, to: string) => {
    const target = join(root, to);
    if (existsSync(target)) return;
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(from, target);
    chmodSync(target, 0o755);
  };
  for (const [to, from] of Object.entries(binaries)) {
    copy(from, to);
    for (const lib of sharedLibraries(from)) copy(lib, lib);
  }
  copy(BUSYBOX, "/bin/busybox");
  for (const applet of ["sh", "wget"]) if (!existsSync(join(root, "bin", applet))) symlinkSync("busybox", join(root, "bin", applet));
  for (const dir of ["tmp", "run", "var/run", "etc"]) mkdirSync(join(root, dir), { recursive: true });
  const base: Record<string, string> = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    "etc/group": "root:x:0:\nnogroup:x:65534:\n",
    ...files,
  };
  for (const [path, content] of Object.entries(base)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** Absolute paths of the shared libraries (and loader) a binary needs; none for a static one. */
function sharedLibraries(binary: string): string[] {
  let output = "";
  try {
    output = execFileSync("ldd", [binary], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch {
    return []; // "not a dynamic executable"
  }
  // Copied under the names ldd prints (the loader's path is fixed in the binary); symlinks followed.
  return [...output.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
}
