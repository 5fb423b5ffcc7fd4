/**
 * The hostile-config corpus: every file in fixtures/hostile must be refused with a message naming
 * the field (cases.json maps file → expected "field: message" prefix), without a stack trace and
 * without writing anything.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadSiteConfig } from "../config/load.js";

const REPO = join(import.meta.dirname, "..");
const CORPUS = join(import.meta.dirname, "fixtures/hostile");
const cases = JSON.parse(readFileSync(join(CORPUS, "cases.json"), "utf8")) as Record<string, string>;
const files = readdirSync(CORPUS).filter((f) => f !== "cases.json").sort();
/** A spread of failure kinds for the end-to-end runs (each costs a tsx start-up). */
const END_TO_END = ["command-substitution-in-image.json", "yaml-alias-bomb.yaml", "four-nodes.json", "prototype-pollution.json", "state-path-traversal.json"];
const STACK_TRACE = /^\s+at .+[(:]\d+/m;

function refusal(file: string): ConfigError {
  try {
    loadSiteConfig({ configFile: join(CORPUS, file) });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw new Error(`${file}: expected a ConfigError, got ${String(error)}`);
  }
  throw new Error(`${file} was accepted`);
}

describe("hostile-config corpus", () => {
  it("has at least 40 cases, each with an expectation and each expectation with a file", () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
    expect(Object.keys(cases).sort()).toEqual(files);
  });

  it.each(files)("refuses %s, naming the field", (file) => {
    const error = refusal(file);
    expect(error.problems.some((problem) => problem.startsWith(cases[file]!)), `${error.message}\nexpected a problem starting with: ${cases[file]}`).toBe(true);
    expect(error.message).not.toMatch(STACK_TRACE);
    expect(error.message.length).toBeLessThan(4000);
  });

  describe("through the real synth entry point", () => {
    const work = mkdtempSync(join(tmpdir(), "deathstar-hostile-"));
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    it.each(END_TO_END)("exits 1 on %s with the field on stderr, no stack trace, nothing written", async (file) => {
      const outdir = join(work, file, "cdktf.out");
      const run = promisify(execFile)("npx", ["tsx", "main.ts"], {
        cwd: REPO,
        env: { ...process.env, DEATHSTAR_CONFIG: join(CORPUS, file), CDKTF_OUTDIR: outdir },
        timeout: 60_000,
      });
      const failure = await run.then(
        () => undefined,
        (error: { code?: number; stderr?: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toContain(cases[file]);
      expect(failure?.stderr).toContain("Nothing was written.");
      expect(failure?.stderr).not.toMatch(STACK_TRACE);
      expect(existsSync(join(work, file))).toBe(false);
    }, 90_000);
  });
});
