/**
 * Running a command's bundle (dist/*.cjs, what `npm run <command>` and `cdktf synth` execute):
 * cold, one fresh `node` per run exactly as the operator's shell starts it (runCold), or warm, many
 * runs in a small pool of long-lived Node processes that evaluate the bundle anew for each run
 * (bundleHost, bundle-host.cjs): a corpus of a hundred configs then pays Node's start and the
 * loading of cdktf and the provider classes once per host instead of once per case. Both answer
 * the same code, stdout and stderr; __tests__/bundle-host.test.ts holds them side by side.
 */
import { execFile, fork, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { isAbsolute, join } from "node:path";
import { afterAll } from "vitest";
import { bundled } from "./build.js";

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface HostedResult extends CommandResult {
  /** An error escaped the bundle: Node would have printed its stack and exited 1, as the result says. */
  readonly crashed: boolean;
}

export interface RunOptions {
  /** The working directory (config paths are relative to it). */
  readonly cwd: string;
  /** The whole environment of the run. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const HOST = join(import.meta.dirname, "bundle-host.cjs");
/** How long a closing host gets to exit before SIGKILL. */
const CLOSE_GRACE_MS = 5_000;

/** The script a run executes: a source entry point's bundle ("main.ts" → dist/main.cjs), or a script's absolute path. */
const script = (entry: string) => (isAbsolute(entry) ? entry : bundled(entry));

/** `node dist/<entry>.cjs args…`, a fresh process: the exit code and both streams. */
export function runCold(entry: string, args: readonly string[], options: RunOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script(entry), ...args],
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        // A non-zero exit carries its code; no number means the process never ran or was killed.
        if (error && typeof error.code !== "number") reject(new Error(`${entry} ${args.join(" ")}: ${error.message}\n${stderr}`));
        else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

interface Answer extends HostedResult {
  readonly id: number;
  readonly leftPending: readonly string[];
  readonly hostError?: string;
}

interface Waiter {
  readonly resolve: (answer: Answer) => void;
  readonly reject: (error: Error) => void;
}

/** One long-lived host process and the runs it owes answers for. */
class Host {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, Waiter>();
  private log = "";
  private nextId = 0;
  readonly exited: Promise<void>;
  gone = false;

  constructor() {
    // No execArgv: the host is a plain `node`, as the cold run is, not a copy of the test worker.
    this.child = fork(HOST, [], { execArgv: [], stdio: ["ignore", "pipe", "pipe", "ipc"], serialization: "advanced" });
    const keep = (chunk: Buffer) => (this.log = `${this.log}${chunk.toString("utf8")}`.slice(-20_000));
    this.child.stdout!.on("data", keep);
    this.child.stderr!.on("data", keep);
    this.child.on("message", (answer: Answer) => {
      const waiter = this.waiting.get(answer.id);
      this.waiting.delete(answer.id);
      waiter?.resolve(answer);
    });
    this.exited = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.gone = true;
        this.failAll(new Error(`the bundle host exited (${code ?? signal}) with runs unanswered:\n${this.log}`));
        resolve();
      });
    });
  }

  get load(): number {
    return this.waiting.size;
  }

  run(entry: string, args: readonly string[], options: RunOptions): Promise<Answer> {
    const id = ++this.nextId;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => {
        // The host is stuck in this run: nothing else it holds can be trusted either.
        this.failAll(new Error(`${entry} ${args.join(" ")}: no answer within ${timeoutMs} ms`));
        this.child.kill("SIGKILL");
      }, timeoutMs);
      const done = <T>(settle: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        settle(value);
      };
      this.waiting.set(id, { resolve: done(resolve), reject: done(reject) });
      this.child.send({ id, entry: script(entry), args: [...args], cwd: options.cwd, env: { ...options.env } });
    });
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    if (this.gone) return;
    this.child.disconnect();
    const killer = setTimeout(() => this.child.kill("SIGKILL"), CLOSE_GRACE_MS);
    await this.exited;
    clearTimeout(killer);
  }
}

export interface BundleHost {
  /** Runs `dist/<entry>.cjs args…` in one of the hosts; refuses a run the host cannot judge (work left pending). */
  run(entry: string, args: readonly string[], options: RunOptions): Promise<HostedResult>;
  close(): Promise<void>;
}

/**
 * A pool of `size` hosts (default: one per core, at most 2), started on the first run; the least
 * busy one takes each run. Made in a describe block's or the file's body, vitest closes it after
 * that block's tests (afterAll).
 */
export function bundleHost(size = Math.min(2, availableParallelism())): BundleHost {
  let hosts: Host[] = [];
  const pool: BundleHost = {
    async run(entry, args, options) {
      hosts = hosts.filter((host) => !host.gone);
      while (hosts.length < size) hosts.push(new Host());
      const host = hosts.reduce((idlest, candidate) => (candidate.load < idlest.load ? candidate : idlest));
      const { id: _id, leftPending, hostError, ...result } = await host.run(entry, args, options);
      if (hostError !== undefined) throw new Error(`the bundle host failed to run ${entry}: ${hostError}`);
      if (leftPending.length > 0) throw new Error(`${entry} ${args.join(" ")} left ${leftPending.join(", ")} pending: a warm run cannot judge it; use runCold`);
      return result;
    },
    async close() {
      await Promise.all(hosts.map((host) => host.close()));
      hosts = [];
    },
  };
  afterAll(() => pool.close());
  return pool;
}
