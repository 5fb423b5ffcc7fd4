/**
 * One error path for every command the operator runs: `--help` answers with the usage and exit 0;
 * a bad config, a stale adopt file or a missing module directory is one line per problem with the
 * field path and the fix, exit 1, no stack trace, nothing written. Run as `npm run` runs them
 * (the command's bundle, built once for the suite), warm in the bundle host: bundle-host.test.ts
 * holds its answers against cold runs of each command.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scratchDir } from "./helpers/processes.js";
import { bundleHost } from "./helpers/bundles.js";

const REPO = join(import.meta.dirname, "..");
const HOSTILE = join(import.meta.dirname, "fixtures/hostile");
const work = scratchDir("cli-errors");
const STACK_TRACE = /^\s+at .+[(:]\d+/m;
const host = bundleHost();

/** npm script → the file it runs. */
const SCRIPTS = {
  synth: "main.ts",
  render: "scripts/render.ts",
  "render:talos": "scripts/render-talos.ts",
  cost: "scripts/cost.ts",
  teardown: "scripts/teardown.ts",
  adopt: "scripts/adopt.ts",
} as const;
type Name = keyof typeof SCRIPTS;
/** Arguments each command needs to get as far as reading the config. */
const ARGS: Record<Name, string[]> = {
  synth: [],
  render: ["--site", "home", "--out", join(work, "bundle")],
  "render:talos": ["--out", join(work, "talos")],
  cost: [],
  teardown: ["pause", "--dry-run"],
  adopt: [join(work, "terraform.tfstate")],
};

let runs = 0;

/** Runs a command with its own output dir; `written` lists what it left there (the synth output dir and its scratch siblings). */
async function run(name: Name, args: readonly string[], env: Record<string, string> = {}) {
  const site = join(work, `run-${++runs}`);
  mkdirSync(site);
  const result = await host.run(SCRIPTS[name], args, { cwd: REPO, env: { ...process.env, CDKTF_OUTDIR: join(site, "cdktf.out"), DEATHSTAR_CONFIG: "", ...env } });
  expect(result.crashed, result.stderr).toBe(false);
  return { ...result, written: readdirSync(site) };
}

function configFile(name: string, override: unknown): string {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(override));
  return path;
}

const names = Object.keys(SCRIPTS) as Name[];

describe.concurrent("every command", () => {
  it.each(names)("%s answers --help with its usage and exit 0", async (name) => {
    const result = await run(name, ["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^usage: npm run ${name}\\b`));
  }, 90_000);

  it.each(names)("%s refuses a bad config with the field path, exit 1 (adopt: 2), no stack trace, nothing written", async (name) => {
    const result = await run(name, ARGS[name], { DEATHSTAR_CONFIG: join(HOSTILE, "zone-outside-region.json") });
    expect(result.code).toBe(name === "adopt" ? 2 : 1);
    expect(result.stderr).toMatch(new RegExp(`^${name}: invalid site config`));
    expect(result.stderr).toContain("aws.availabilityZone: eu-west-2a is not in aws.region eu-west-1");
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(result.written).toEqual([]);
    for (const out of ["bundle", "talos"]) expect(existsSync(join(work, out))).toBe(false);
  }, 90_000);

  it.each([["render"], ["render:talos"]] as const)("%s --site takes only a built-in site (not \"constructor\")", async (name) => {
    const result = await run(name, ["--site", "constructor"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unknown site "constructor"; the built-in sites are aws, home/);
    expect(result.stderr).not.toMatch(STACK_TRACE);
  }, 90_000);
});

/** The commands that do not render a site: the same runner, the same error path. */
const OTHERS = {
  bench: { argv: ["scripts/bench.ts"], usage: /^usage: npm run bench\b/m, mistakes: [["--runs"], ["--runs", "0"], ["--runs", "many"], ["--fast"]] },
  session: { argv: ["scripts/session.ts"], usage: /^usage: npm run start \| npm run stop\b/m, mistakes: [[], ["restart"], ["start", "stop"], ["start", "--now"]] },
  schema: { argv: ["scripts/schema.ts"], usage: /^usage: npm run schema\b/m, mistakes: [["--out", "x"], ["extra"]] },
  "test:timings": { argv: ["scripts/timings.ts"], usage: /^usage: npm run test:timings\b/m, mistakes: [["--top", "many"], ["extra"]] },
} as const;

describe.concurrent("commands beside the site renderers", () => {
  const runOther = (name: keyof typeof OTHERS, args: readonly string[]) => host.run(OTHERS[name].argv[0], args, { cwd: REPO, env: { ...process.env, DEATHSTAR_CONFIG: "" } });

  it.each(Object.keys(OTHERS) as (keyof typeof OTHERS)[])("%s answers --help with its usage and exit 0", async (name) => {
    const result = await runOther(name, ["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(OTHERS[name].usage);
  }, 90_000);

  it.each(Object.entries(OTHERS).flatMap(([name, { mistakes }]) => mistakes.map((argv) => [name as keyof typeof OTHERS, argv] as const)))(
    "%s %j: a usage mistake is named with the usage, exit 1, no stack trace",
    async (name, argv) => {
      const result = await runOther(name, argv);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^${name}: `));
      expect(result.stderr).toMatch(OTHERS[name].usage);
      expect(result.stderr).not.toMatch(STACK_TRACE);
    },
    90_000,
  );
});

describe.concurrent("config errors found while synthesizing", () => {
  const stale = configFile("stale-adopt.json", { existing: { modules: [], adoptFile: "__tests__/fixtures/adopt/stale.json" } });

  it.each([["synth"], ["cost"]] as const)("%s: a stale adopt-file address names existing.adoptFile and the entry", async (name) => {
    const result = await run(name, [], { DEATHSTAR_CONFIG: stale });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('existing.adoptFile: moved.0.to of');
    expect(result.stderr).toContain('aws_vpc.gone is not a resource of this stack; run "npm run adopt" again');
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(result.written).toEqual([]);
  }, 90_000);

  it.each([["synth"], ["cost"]] as const)("%s: a missing module directory names existing.modules.0.source", async (name) => {
    const result = await run(name, [], { DEATHSTAR_CONFIG: join(HOSTILE, "missing-module-source.json") });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('existing.modules.0.source: "legacy/modules/vpc" is not a directory');
    expect(result.stderr).not.toMatch(STACK_TRACE);
  }, 90_000);
});
