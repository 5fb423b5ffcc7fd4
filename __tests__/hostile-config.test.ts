/**
 * The hostile-config corpus: every file in fixtures/hostile must be refused with a message naming
 * the field (cases.json maps file → expected "field: message" prefix; "{file}" stands for the
 * file's path), without a stack trace, without echoing control characters or secrets, with one
 * message per field, and, through the real synth entry point, without writing anything.
 * Every file in fixtures/unusual is legitimate, if unusual, and must synthesize.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scratchDir } from "./helpers/processes.js";
import { configRefusal } from "./helpers/synth.js";
import { bundleHost, runCold, type CommandResult } from "./helpers/bundles.js";

const REPO = join(import.meta.dirname, "..");
const CORPUS = join(import.meta.dirname, "fixtures/hostile");
const UNUSUAL = join(import.meta.dirname, "fixtures/unusual");
const unusual = readdirSync(UNUSUAL).sort();
const cases = JSON.parse(readFileSync(join(CORPUS, "cases.json"), "utf8")) as Record<string, string>;
const files = readdirSync(CORPUS).filter((f) => f !== "cases.json").sort();
const expected = (file: string) => cases[file]!.replaceAll("{file}", join(CORPUS, file));
const STACK_TRACE = /^\s+at .+[(:]\d+/m;
/** Control characters other than the newlines between problems, and bidi overrides. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** Fixtures that put a secret into a broken file carry this marker in it. */
const SECRET = "hunter2";

const refusal = (file: string) => configRefusal(join(CORPUS, file));

/**
 * The synth bundle (dist/main.cjs, what `cdktf synth` runs) warm: the corpus runs in a small pool
 * of Node processes that evaluate the bundle anew for each case (helpers/bundles.ts). The controls
 * below run the same bundle cold, as the operator's shell starts it, and hold both side by side.
 */
const host = bundleHost();
const synthEnv = (configFile: string, outdir: string) => ({ ...process.env, DEATHSTAR_CONFIG: configFile, CDKTF_OUTDIR: outdir });
const warmSynth = (configFile: string, outdir: string) => host.run("main.ts", [], { cwd: REPO, env: synthEnv(configFile, outdir) });
const coldSynth = (configFile: string, outdir: string) => runCold("main.ts", [], { cwd: REPO, env: synthEnv(configFile, outdir) });

/** A site holding a previous good output and nothing else; returns its cdktf.out. */
function previousOutput(site: string): string {
  mkdirSync(join(site, "cdktf.out"), { recursive: true });
  writeFileSync(join(site, "cdktf.out", "previous.json"), "{}");
  return join(site, "cdktf.out");
}

/**
 * What a refusal of `file` by the synth must be, as the rules `result` breaks (none for a good
 * refusal): exit 1, the field on stderr, "Nothing was written.", no stack trace, the site exactly as it was.
 */
function refusalBreaches(file: string, result: CommandResult, site: string): string[] {
  const rules: [string, boolean][] = [
    ["exit code 1", result.code === 1],
    [`the field on stderr (${expected(file)})`, result.stderr.includes(expected(file))],
    ["Nothing was written.", result.stderr.includes("Nothing was written.")],
    ["no stack trace", !STACK_TRACE.test(result.stderr)],
    ["the site untouched", JSON.stringify(readdirSync(site, { recursive: true }).sort()) === JSON.stringify(["cdktf.out", join("cdktf.out", "previous.json")])],
  ];
  return rules.filter(([, kept]) => !kept).map(([rule]) => rule);
}

describe("hostile-config corpus", () => {
  it("has at least 90 cases, each with an expectation and each expectation with a file", () => {
    expect(files.length).toBeGreaterThanOrEqual(90);
    expect(Object.keys(cases).sort()).toEqual(files);
  });

  it.each(files)("refuses %s, naming the field", (file) => {
    const error = refusal(file);
    expect(error.problems.some((problem) => problem.startsWith(expected(file))), `${error.message}\nexpected a problem starting with: ${expected(file)}`).toBe(true);
    expect(error.message).not.toMatch(STACK_TRACE);
    expect(error.message).not.toMatch(RAW_CONTROL);
    expect(error.message).not.toContain(SECRET);
    expect(error.message.length).toBeLessThan(4000);
    const fields = error.problems.map((problem) => problem.slice(0, problem.indexOf(": ")));
    expect(new Set(fields).size, "one message per field").toBe(fields.length);
  });

  describe("through the real synth entry point (the bundle cdktf runs)", () => {
    const work = scratchDir("hostile");

    it.concurrent.each(files)("exits 1 on %s with the field on stderr, no stack trace, a previous output untouched", async (file) => {
      const site = join(work, file);
      const result = await warmSynth(join(CORPUS, file), previousOutput(site));
      expect(result.crashed, result.stderr).toBe(false);
      expect(refusalBreaches(file, result, site), `exit ${result.code}:\n${result.stderr}`).toEqual([]);
    }, 90_000);

    // Every 40th case also cold, as `cdktf synth` starts it: the same code and the same bytes on both streams.
    const controls = files.filter((_, i) => i % 40 === 0);

    it.concurrent.each(controls)("cold start control: %s is refused by a fresh node exactly as by the warm host", async (file) => {
      const site = join(work, `cold-${file}`);
      const outdir = previousOutput(site);
      const cold = await coldSynth(join(CORPUS, file), outdir);
      expect(refusalBreaches(file, cold, site), `exit ${cold.code}:\n${cold.stderr}`).toEqual([]);
      const { crashed, ...warm } = await warmSynth(join(CORPUS, file), outdir);
      expect(crashed).toBe(false);
      expect(warm).toEqual(cold);
    }, 90_000);

    it("crash control: an error escaping the bundled synth fails the corpus's check, warm and cold alike", async () => {
      // A valid config whose output dir lies below a regular file: the synth's own mkdir throws EEXIST,
      // an error no command expects, so it escapes with its stack (exit 1, as Node exits on an uncaught exception).
      const site = join(work, "crash");
      previousOutput(site);
      const blocker = join(site, "cdktf.out", "previous.json");
      const warm = await warmSynth(join(UNUSUAL, unusual[0]!), join(blocker, "cdktf.out"));
      const cold = await coldSynth(join(UNUSUAL, unusual[0]!), join(blocker, "cdktf.out"));
      for (const result of [warm, cold]) {
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(STACK_TRACE);
        expect(result.stderr).toContain(`EEXIST: file already exists, mkdir '${blocker}'`);
        // The corpus's check of every case finds exactly that.
        expect(refusalBreaches(files[0]!, result, site)).toEqual(expect.arrayContaining(["Nothing was written.", "no stack trace"]));
      }
      expect(warm.crashed).toBe(true);
    }, 90_000);
  });
});

describe("legitimate but unusual configs", () => {
  const work = scratchDir("unusual");

  it("has at least 10 cases", () => {
    expect(unusual.length).toBeGreaterThanOrEqual(10);
  });

  it.concurrent.each(unusual)("synthesizes %s", async (file) => {
    const outdir = join(work, file, "cdktf.out");
    const result = await warmSynth(join(UNUSUAL, file), outdir);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(readdirSync(join(outdir, "stacks", "deathstar"))).toContain("cdk.tf.json");
  }, 90_000);

  it("cold start control: a fresh node writes the same stack and prints the same as the warm host", async () => {
    const file = unusual[0]!;
    const [cold, warm] = [join(work, "cold", "cdktf.out"), join(work, "warm", "cdktf.out")];
    const coldResult = await coldSynth(join(UNUSUAL, file), cold);
    const { crashed, ...warmResult } = await warmSynth(join(UNUSUAL, file), warm);
    expect(coldResult).toMatchObject({ code: 0, stderr: "" });
    expect([crashed, warmResult]).toEqual([false, coldResult]);
    const stack = (outdir: string) => readFileSync(join(outdir, "stacks", "deathstar", "cdk.tf.json"), "utf8");
    expect(stack(warm)).toBe(stack(cold));
  }, 90_000);
});
