/**
 * The bundle host (helpers/bundles.ts, helpers/bundle-host.cjs) answers what a fresh `node` answers:
 * each command's bundle run warm and cold gives the same exit code and the same bytes on stdout and
 * stderr; a run starts from the bundle's initial state with its own argv, env and working
 * directory; an error that escapes is a crash with its stack, as Node reports it; and a run the host
 * cannot judge (work left pending) is refused instead of cut short.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scratchDir } from "./helpers/processes.js";
import { bundleHost, runCold } from "./helpers/bundles.js";

const REPO = join(import.meta.dirname, "..");
const HOSTILE = join(import.meta.dirname, "fixtures/hostile");
const STACK_TRACE = /^\s+at .+[(:]\d+/m;
const work = scratchDir("bundle-host");
// One host: a second run of a script meets the same process, so state left by the first would show.
const host = bundleHost(1);

describe("every kind of ending of the project's commands, warm as cold", () => {
  const badConfig = join(HOSTILE, "zone-outside-region.json");
  const runs = [
    ["synth --help", "main.ts", ["--help"], {}, 0],
    ["cost refusing a bad config", "scripts/cost.ts", [], { DEATHSTAR_CONFIG: badConfig }, 1],
    ["adopt refusing a bad config (its own exit code)", "scripts/adopt.ts", [join(work, "terraform.tfstate")], { DEATHSTAR_CONFIG: badConfig }, 2],
    ["session with a usage mistake", "scripts/session.ts", ["restart"], {}, 1],
    ["render:talos with an unknown site", "scripts/render-talos.ts", ["--site", "constructor"], {}, 1],
    ["cost printing the default site's month", "scripts/cost.ts", ["--month", "2027-01"], {}, 0],
  ] as const;

  it.concurrent.each(runs)("%s", async (_, entry, args, env, code) => {
    const options = { cwd: REPO, env: { ...process.env, DEATHSTAR_CONFIG: "", CDKTF_OUTDIR: join(work, "never-written"), ...env } };
    const cold = await runCold(entry, args, options);
    const { crashed, ...warm } = await host.run(entry, args, options);
    expect(cold.code, cold.stderr).toBe(code);
    expect(crashed).toBe(false);
    expect(warm).toEqual(cold);
    expect(cold.stderr).not.toMatch(STACK_TRACE);
  }, 90_000);
});

describe("the host's own promises, on scripts written for them", () => {
  const scripts = join(work, "scripts");
  mkdirSync(scripts, { recursive: true });
  const script = (name: string, source: string) => {
    const path = join(scripts, name);
    writeFileSync(path, source);
    return path;
  };

  it("each run starts from the script's initial state, with its own argv, env and working directory", async () => {
    const state = script(
      "state.cjs",
      `let runs = 0;
       runs += 1;
       process.stdout.write(JSON.stringify({ runs, argv: process.argv.slice(2), cwd: process.cwd(), marker: process.env.HOST_MARKER ?? null }));
       process.env.LEFT_BEHIND = "yes";
       process.chdir("/");`,
    );
    const first = await host.run(state, ["one"], { cwd: REPO, env: { ...process.env, HOST_MARKER: "first" } });
    const second = await host.run(state, ["two", "--x"], { cwd: work, env: { ...process.env } });
    expect(JSON.parse(first.stdout)).toEqual({ runs: 1, argv: ["one"], cwd: REPO, marker: "first" });
    expect(JSON.parse(second.stdout)).toEqual({ runs: 1, argv: ["two", "--x"], cwd: work, marker: null });
    const leftovers = script("leftovers.cjs", `process.stdout.write(String(process.env.LEFT_BEHIND ?? "clean"));`);
    expect((await host.run(leftovers, [], { cwd: REPO, env: { ...process.env } })).stdout).toBe("clean");
  });

  it.each([
    ["a throw while the script runs", `process.stdout.write("before\\n"); null.property;`, "TypeError: Cannot read properties of null (reading 'property')"],
    ["a throw in a callback it scheduled", `setImmediate(() => { throw new RangeError("later"); });`, "RangeError: later"],
    ["a rejected promise nobody handles", `Promise.reject(new Error("unhandled"));`, "Error: unhandled"],
  ])("%s is a crash: exit 1 and the stack on stderr, as a cold node reports it", async (what, source, message) => {
    const crashing = script(`crash-${what.replaceAll(" ", "-")}.cjs`, source);
    const options = { cwd: REPO, env: { ...process.env } };
    const [warm, cold] = [await host.run(crashing, [], options), await runCold(crashing, [], options)];
    for (const result of [warm, cold]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toMatch(STACK_TRACE);
    }
    expect(warm.crashed).toBe(true);
    expect(warm.stdout).toBe(cold.stdout);
    // The host is still there for the next run.
    expect((await host.run(script("ok.cjs", `process.stdout.write("ok");`), [], options)).stdout).toBe("ok");
  });

  it("process.exit ends the run with its code, as it ends a process", async () => {
    const exiting = script("exit.cjs", `process.exitCode = 3; process.stdout.write("x"); process.exit(4); process.stdout.write("never");`);
    const options = { cwd: REPO, env: { ...process.env } };
    const { crashed, ...warm } = await host.run(exiting, [], options);
    expect(crashed).toBe(false);
    expect(warm).toEqual({ code: 4, stdout: "x", stderr: "" });
    expect(await runCold(exiting, [], options)).toEqual(warm);
  });

  it("refuses a run that leaves a timer behind: a process would go on running it", async () => {
    const pending = script("pending.cjs", `setTimeout(() => process.stdout.write("late"), 200);`);
    await expect(host.run(pending, [], { cwd: REPO, env: { ...process.env } })).rejects.toThrow(/left Timeout pending: a warm run cannot judge it/);
  });
});
