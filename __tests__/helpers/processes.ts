/**
 * Real programs under test: start them with their output in a log file, wait for them to be ready
 * (bounded, failing early with the log when they die), and stop them for sure (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, onTestFinished, TestRunner } from "vitest";

/** How long a stopped process gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 5_000;
const POLL_MS = 100;

export interface RunningProcess {
  readonly name: string;
  readonly logFile: string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** Whether the process has exited. */
  hasExited(): boolean;
  /** Everything the process wrote to stdout and stderr so far. */
  log(): string;
  /** SIGTERM, then SIGKILL after a grace period; safe to call twice or after exit. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Names the process in errors. */
  readonly name: string;
  /** stdout and stderr go here. */
  readonly logFile: string;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export function startProcess(command: string, args: readonly string[], options: StartOptions): RunningProcess {
  const fd = openSync(options.logFile, "w");
  let child: ChildProcess;
  try {
    child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", fd, fd] });
  } finally {
    closeSync(fd);
  }
  let exitedWith: number | string | undefined;
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => resolve((exitedWith = code ?? signal ?? "unknown")));
    child.on("error", (error) => resolve((exitedWith = `spawn failed: ${error.message}`)));
  });
  const log = () => (existsSync(options.logFile) ? readFileSync(options.logFile, "utf8") : "");
  return {
    name: options.name,
    logFile: options.logFile,
    exited,
    hasExited: () => exitedWith !== undefined,
    log,
    async stop() {
      if (exitedWith !== undefined) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Polls `ready` until it returns true; fails after `timeoutMs`, or at once when `process` dies. */
export async function waitUntil(
  what: string,
  ready: () => Promise<boolean> | boolean,
  options: { readonly timeoutMs: number; readonly process?: RunningProcess },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const proc = options.process;
  for (;;) {
    if (proc?.hasExited()) throw new Error(`${proc.name} exited (${await proc.exited}) before ${what}:\n${tail(proc.log())}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${proc ? `:\n${tail(proc.log())}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Waits until `url` answers any HTTP status. */
export function waitForHttp(url: string, proc: RunningProcess, timeoutMs = 20_000): Promise<void> {
  return waitUntil(
    `${url} to answer`,
    () => fetch(url, { signal: AbortSignal.timeout(2_000) }).then(() => true, () => false),
    { timeoutMs, process: proc },
  );
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface TempDir {
  readonly path: string;
  /** Removes the directory and everything in it; safe to call twice. */
  remove(): void;
}

/**
 * A fresh private directory `deathstar-<prefix>-XXXXXX` (in the system temp dir, or in `parent`)
 * and its remover, for an owner that removes it itself: a helper object, a beforeAll/afterAll pair.
 */
export function tempDir(prefix: string, parent = tmpdir()): TempDir {
  const path = mkdtempSync(join(parent, `deathstar-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A {@link tempDir} that vitest removes: made in a test or its beforeEach, after that test; made
 * in a describe block's (or the file's) body, after that block's tests and its own afterAll hooks
 * (hooks run in stack order, so a server stopped in an afterAll written below is stopped first).
 * Not for beforeAll hooks, where vitest takes no new hooks, nor inside concurrent tests (the
 * current test is ambiguous there): use tempDir.
 */
export function scratchDir(prefix: string, parent?: string): string {
  const dir = tempDir(prefix, parent);
  if (TestRunner.getCurrentTest()) onTestFinished(dir.remove);
  else afterAll(dir.remove);
  return dir.path;
}

/**
 * `resource` once `ready(resource)` resolves. When it rejects, `release(resource)` runs before the
 * error goes on, so a half-started server or network never outlives a failed start.
 */
export async function readyOrReleased<T>(resource: T, ready: (resource: T) => Promise<void>, release: (resource: T) => Promise<void>): Promise<T> {
  try {
    await ready(resource);
  } catch (error) {
    await release(resource);
    throw error;
  }
  return resource;
}

/** The last lines of a log, for error messages. */
export function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
