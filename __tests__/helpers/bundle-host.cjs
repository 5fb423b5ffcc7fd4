"use strict";
/**
 * A Node process that runs command bundles (dist/*.cjs, what `npm run <command>` and `cdktf synth`
 * execute) once per request, so a corpus of a hundred cases pays Node's start and the loading of
 * cdktf, the AWS provider classes and zod once instead of once per case. Started by
 * __tests__/helpers/bundles.ts through child_process.fork; each IPC message
 * `{ id, entry, args, cwd, env }` is answered with `{ id, code, stdout, stderr, crashed, leftPending }`.
 *
 * Each run is the bundle's own code path from the top, in a fresh state:
 * - the bundle is evaluated anew (dropped from require's cache before and after), so every module
 *   of the project starts from its initial state; only the external packages the bundle requires
 *   (cdktf, constructs, @cdktf/provider-aws, zod, yaml: no state across Apps) stay loaded;
 * - process.argv, process.env (replaced whole) and the working directory are the request's, and
 *   put back afterwards; process.exitCode starts unset;
 * - whatever the bundle writes to process.stdout and process.stderr (console included) is captured.
 *
 * The exit code is the one Node would give: process.exitCode (or process.exit's argument), 0 when
 * unset. An error the bundle lets escape (thrown while it runs, or an unhandled rejection or
 * uncaught exception in the turn after) is what Node does with an uncaught exception: its stack
 * on stderr and code 1, and `crashed` says so. A run that leaves timers, sockets or children
 * behind cannot be judged here (a real process would go on running them): `leftPending` names
 * them and the caller refuses the result. The commands are synchronous (scripts/cli.ts).
 */
const { inspect } = require("node:util");

/** The host's own exit, kept before any run replaces process.exit. */
const exitHost = process.exit.bind(process);

/** Thrown by the stand-in for process.exit to unwind the bundle, as the real exit would stop it. */
class ExitCalled {
  constructor(code) {
    this.code = code;
  }
}

/** Counts of the process's active resources by type (timers, handles, requests). */
function activeResources() {
  const counts = new Map();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** A stand-in for a stream's write that keeps the text in `sink`. */
function capture(sink) {
  return (chunk, encoding, callback) => {
    sink.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    const done = typeof encoding === "function" ? encoding : callback;
    if (typeof done === "function") process.nextTick(done);
    return true;
  };
}

/** Replaces process.env's contents with `env` (the object stays Node's, which turns values into strings). */
function replaceEnv(env) {
  for (const name of Object.keys(process.env)) if (!Object.hasOwn(env, name)) delete process.env[name];
  for (const [name, value] of Object.entries(env)) if (value !== undefined) process.env[name] = value;
}

/** Forgets the bundle so the next require evaluates it again. */
function forget(entry) {
  const loaded = require.cache[entry];
  delete require.cache[entry];
  const child = loaded ? module.children.indexOf(loaded) : -1;
  if (child >= 0) module.children.splice(child, 1);
}

async function run({ entry, args, cwd, env }) {
  const saved = { env: { ...process.env }, cwd: process.cwd(), argv: process.argv, exit: process.exit };
  const writers = { stdout: process.stdout.write, stderr: process.stderr.write };
  const stdout = [];
  const stderr = [];
  let crash;
  const onCrash = (error) => {
    crash ??= { error };
  };
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  const before = activeResources();
  let exitCode;
  try {
    replaceEnv(env);
    process.chdir(cwd);
    process.argv = [process.execPath, entry, ...args];
    process.exitCode = undefined;
    process.exit = (code) => {
      throw new ExitCalled(code ?? process.exitCode ?? 0);
    };
    process.stdout.write = capture(stdout);
    process.stderr.write = capture(stderr);
    forget(entry);
    try {
      require(entry);
    } catch (error) {
      if (error instanceof ExitCalled) exitCode = error.code;
      else crash ??= { error };
    }
    // One turn of the event loop: a rejection or a throw from a callback the run scheduled shows here.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    forget(entry);
    process.stdout.write = writers.stdout;
    process.stderr.write = writers.stderr;
    process.exit = saved.exit;
    process.argv = saved.argv;
    process.chdir(saved.cwd);
    replaceEnv(saved.env);
    process.off("uncaughtException", onCrash);
    process.off("unhandledRejection", onCrash);
  }
  // A crash ends a real process there and then: what it left pending would never run.
  const after = crash ? before : activeResources();
  const leftPending = [...after].filter(([type, count]) => count > (before.get(type) ?? 0)).map(([type]) => type);
  // Node's own report of an uncaught exception ends in the error's inspection: message, stack, properties.
  if (crash) stderr.push(`${inspect(crash.error)}\n`);
  const code = crash ? 1 : Number(exitCode ?? process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, stdout: stdout.join(""), stderr: stderr.join(""), crashed: crash !== undefined, leftPending };
}

// One request at a time, in order: each run owns the process's env, cwd and streams while it lasts.
let queue = Promise.resolve();
process.on("message", (request) => {
  queue = queue.then(async () => {
    let answer;
    try {
      answer = { id: request.id, ...(await run(request)) };
    } catch (error) {
      answer = { id: request.id, hostError: inspect(error) };
    }
    process.send(answer);
  });
});
process.on("disconnect", () => exitHost(0));
