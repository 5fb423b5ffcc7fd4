/**
 * The hostile-config corpus: every file in fixtures/hostile must be refused with a message naming
 * the field (cases.json maps file → expected "field: message" prefix; "{file}" stands for the
 * file's path), without a stack trace, without echoing control characters or secrets, with one
 * message per field, and, through the real synth entry point, without writing anything.
 * Every file in fixtures/unusual is legitimate, if unusual, and must synthesize.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { scratchDir } from "./helpers/processes.js";
import { configRefusal } from "./helpers/synth.js";
import { bundled } from "./helpers/build.js";

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

/** Runs the synth bundle with `configFile`; resolves to the failure, or undefined on success. */
function synth(configFile: string, outdir: string) {
  return promisify(execFile)(process.execPath, [bundled("main.ts")], {
    cwd: REPO,
    env: { ...process.env, DEATHSTAR_CONFIG: configFile, CDKTF_OUTDIR: outdir },
    timeout: 60_000,
  }).then(
    () => undefined,
    (error: { code?: number; stderr?: string }) => error,
  );
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
      // A previous good output and nothing else: after a refusal the directory must be exactly as it was.
      const site = join(work, file);
      mkdirSync(join(site, "cdktf.out"), { recursive: true });
      writeFileSync(join(site, "cdktf.out", "previous.json"), "{}");
      const failure = await synth(join(CORPUS, file), join(site, "cdktf.out"));
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toContain(expected(file));
      expect(failure?.stderr).toContain("Nothing was written.");
      expect(failure?.stderr).not.toMatch(STACK_TRACE);
      expect(readdirSync(site, { recursive: true }).sort()).toEqual(["cdktf.out", join("cdktf.out", "previous.json")]);
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
    const failure = await synth(join(UNUSUAL, file), outdir);
    expect(failure?.stderr ?? "").toBe("");
    expect(readdirSync(join(outdir, "stacks", "deathstar"))).toContain("cdk.tf.json");
  }, 90_000);
});
