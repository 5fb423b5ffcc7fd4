/**
 * A user at a shell in a fresh copy of the repository: commands read out of the docs' shell blocks
 * (helpers/docs.ts) run one by one through bash, `cd` carries over between them as in a terminal,
 * and a prompt (`tofu apply` asking "Enter a value:") is answered "yes" as the user would type it.
 */
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { scratchDir, tail, tempDir } from "./processes.js";
import { REPO_ROOT } from "./project.js";
import { MOTO_NO_PROXY, motoTargets, TOFU_GOGC, writeMotoOverride, type TerraformJson } from "./tofu.js";
import { CACHE_DIR, type Toolchain } from "./toolchain.js";

/** One command never runs longer than this (an apply against moto takes about a minute). */
const COMMAND_TIMEOUT_MS = 10 * 60_000;

/**
 * Copies what a clone of the working tree would hold into `to`: the files git tracks and the new
 * ones it does not ignore, as they are on disk (deleted ones left out), without node_modules or
 * outputs.
 */
export function copyRepository(to: string): void {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: REPO_ROOT, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  for (const file of files.split("\0").filter(Boolean)) {
    if (!existsSync(join(REPO_ROOT, file))) continue;
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(join(REPO_ROOT, file), join(to, file));
  }
}

/**
 * {@link copyRepository} into a scratch directory removed after the test, or, inside a concurrent
 * test (where vitest cannot tell which test is current), in `parent`, removed with it. node_modules
 * is a symlink to this checkout's: `npm ci` from the same package-lock.json would install the same
 * 900 MB again, minutes on a shared machine, and nothing the journey checks depends on where the
 * packages sit.
 */
export function freshCopy(prefix: string, parent?: string): string {
  const root = parent === undefined ? scratchDir(prefix) : tempDir(prefix, parent).path;
  copyRepository(root);
  symlinkSync(join(REPO_ROOT, "node_modules"), join(root, "node_modules"));
  return root;
}

/**
 * The user's environment, pointed at the test's tools and at moto: the account is moto, with dummy
 * keys, no profile and no region (the docs name theirs). The user has OpenTofu and no `terraform`:
 * a `terraform` first on PATH fails as a missing command would, so a step that calls it fails here
 * too, even on a machine that has one.
 */
export function userEnv(toolchain: Toolchain, endpoint: string): NodeJS.ProcessEnv {
  const { AWS_PROFILE: _profile, AWS_SESSION_TOKEN: _token, AWS_REGION: _region, AWS_DEFAULT_REGION: _defaultRegion, DEATHSTAR_CONFIG: _config, CDKTF_OUTDIR: _outdir, ...inherited } =
    process.env;
  return {
    ...inherited,
    PATH: `${userBin(toolchain)}:${process.env.PATH ?? ""}`,
    TF_CLI_CONFIG_FILE: toolchain.cliConfigFile,
    TF_PLUGIN_CACHE_DIR: join(CACHE_DIR, "plugin-cache"),
    CHECKPOINT_DISABLE: "1",
    // The tests' collector setting for tofu and its provider (TOFU_GOGC in tofu.ts).
    GOGC: TOFU_GOGC,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_ENDPOINT_URL: endpoint,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
  };
}

const userBins = new Map<string, string>();

/**
 * The user's commands that the test stands in for, one directory per test worker and OpenTofu
 * binary (concurrent tests share it; vitest cannot tell which of them is current), removed when the
 * worker exits:
 * - `terraform` answers as an absent command does (exit 127);
 * - `tofu` is the toolchain's, with moto as its HTTP proxy: the provider reads the cache bucket's
 *   tags through S3 Control at "<account>.127.0.0.1", a name no resolver knows, which Go hands to
 *   the proxy unresolved (motoProxyEnv in tofu.ts); every other endpoint is on loopback and goes
 *   direct. Only tofu gets the proxy: npm and the aws CLI in the same shell must not.
 */
function userBin(toolchain: Toolchain): string {
  let dir = userBins.get(toolchain.tofu);
  if (dir === undefined) {
    const made = tempDir("user-bin");
    process.once("exit", made.remove);
    writeFileSync(join(made.path, "terraform"), '#!/bin/sh\necho "terraform: not found (this user has OpenTofu only)" >&2\nexit 127\n', { mode: 0o755 });
    writeFileSync(join(made.path, "tofu"), `#!/bin/sh\nHTTP_PROXY="$AWS_ENDPOINT_URL" NO_PROXY=${MOTO_NO_PROXY} exec '${toolchain.tofu}' "$@"\n`, { mode: 0o755 });
    userBins.set(toolchain.tofu, made.path);
    dir = made.path;
  }
  return dir;
}

/** The user's `tofu` (see userBin): the toolchain's, with moto as its proxy for S3 Control. */
export function userTofu(toolchain: Toolchain): string {
  return join(userBin(toolchain), "tofu");
}

/** The test-only override, for the stack as it was just synthesized. */
export function overrideForMoto(stackDir: string, endpoint: string, toolchain: Toolchain): void {
  const json = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")) as TerraformJson;
  writeMotoOverride(stackDir, endpoint, toolchain.awsProviderVersion, motoTargets(json));
}

export interface CommandResult {
  readonly command: string;
  readonly code: number | null;
  readonly output: string;
}

export class UserShell {
  /** Where the next command runs; `cd` moves it. */
  cwd: string;

  constructor(
    readonly root: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.cwd = root;
  }

  /**
   * Runs one command line. As in an interactive shell, `cd <dir>` (alone or before `&&`) changes
   * the directory and `export NAME=value` the environment of the commands after it.
   */
  async run(command: string): Promise<CommandResult> {
    const exported = /^export\s+([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/.exec(command);
    if (exported) {
      this.env[exported[1]!] = exported[2]!;
      return { command, code: 0, output: "" };
    }
    const cd = /^cd\s+(\S+)\s*(?:&&\s*(.*))?$/s.exec(command);
    if (cd) {
      this.cwd = resolve(this.cwd, cd[1]!);
      if (!cd[2]) return { command, code: 0, output: "" };
      return this.run(cd[2]);
    }
    return new Promise((done, fail) => {
      const child = spawn("bash", ["-c", command], { cwd: this.cwd, env: this.env, stdio: ["pipe", "pipe", "pipe"] });
      let output = "";
      const keep = (chunk: Buffer) => (output += chunk.toString("utf8"));
      child.stdout.on("data", keep);
      child.stderr.on("data", keep);
      // What the user types at any confirmation prompt.
      child.stdin.end("yes\n");
      const timer = setTimeout(() => child.kill("SIGKILL"), COMMAND_TIMEOUT_MS);
      child.on("error", fail);
      child.on("close", (code) => {
        clearTimeout(timer);
        done({ command, code, output });
      });
    });
  }

  /** Runs a command that must succeed; the failure message carries its output. */
  async ok(command: string): Promise<string> {
    const result = await this.run(command);
    if (result.code !== 0) throw new Error(`"${command}" exited ${result.code} in ${this.cwd}:\n${tail(result.output, 60)}`);
    return result.output;
  }
}
