/**
 * `npm run bench`: median wall time of synthesizing the full app (dist/main.cjs, the process
 * `cdktf synth` starts) next to `npm run synth` (the same app behind npm and scripts/synth-cli.cjs),
 * npm's own start-up and a minimal two-resource cdktf app, each in a fresh process, alternating, in a throwaway
 * project directory. The minimal app is measured twice: built the same way (like for like) and run
 * the stock way of a cdktf TypeScript app (through tsx). Prints numbers; asserts nothing.
 *   npm run bench -- --runs 9
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

import { CommandError, parseCommandLine, runCommand, type CommandSpec } from "./cli.js";

// npm runs every command in the project root.
const repo = process.cwd();
const COMMAND: CommandSpec = {
  name: "bench",
  usage: `usage: npm run bench [-- --runs N]
  --runs  timed runs of each app after one warm-up (default 7)`,
  untouched: "Nothing was measured.",
};

interface Subject {
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
}

const FULL: Subject = { label: "full app (node dist/main.cjs)", command: process.execPath, args: ["dist/main.cjs"] };
const NPM_SYNTH: Subject = { label: "npm run synth", command: "npm", args: ["run", "--silent", "synth"] };
/** npm's own start-up, which `npm run synth` pays before the app: the floor of its overhead. */
const NPM_ALONE: Subject = { label: "npm start-up (npm --version)", command: "npm", args: ["--version"] };
const MINIMAL_BUILT: Subject = { label: "minimal 2-resource app, built", command: process.execPath, args: ["dist/scripts/bench-minimal.cjs"] };
const MINIMAL_TSX: Subject = { label: "minimal 2-resource app, tsx", command: process.execPath, args: ["--import", "tsx", "scripts/bench-minimal.ts"] };

/**
 * A throwaway project for the runs: the repo's package.json and cdktf.json, its scripts, dist and
 * node_modules linked. `npm run synth` writes cdktf.out and the provider lock's copy in the
 * project it runs in; here that is not the repo's own (nor a `tofu init` kept in it).
 */
function benchProject(): string {
  const project = mkdtempSync(join(tmpdir(), "deathstar-bench-"));
  for (const file of ["package.json", "cdktf.json"]) copyFileSync(join(repo, file), join(project, file));
  for (const dir of ["scripts", "dist", "node_modules"]) symlinkSync(join(repo, dir), join(project, dir));
  return project;
}

function timeSynth(subject: Subject, project: string): number {
  const start = performance.now();
  const result = spawnSync(subject.command, subject.args, {
    cwd: project,
    // The app on its own writes where the CLI would tell it; npm run synth sets the same itself.
    env: { ...process.env, CDKTF_OUTDIR: "cdktf.out", DEATHSTAR_CONFIG: "" },
    encoding: "utf8",
  });
  const elapsed = performance.now() - start;
  rmSync(join(project, "cdktf.out"), { recursive: true, force: true });
  if (result.status !== 0) throw new CommandError(`${subject.label} failed:\n${result.stderr}`);
  return elapsed / 1000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (s: number) => `${s.toFixed(3)} s`;

function main(argv: readonly string[]): void {
  const { values } = parseCommandLine(COMMAND, argv, { runs: { type: "string", default: "7" } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 99) throw new CommandError(`--runs must be a whole number from 1 to 99, got "${values.runs}"\n${COMMAND.usage}`);
  const subjects = [FULL, NPM_SYNTH, NPM_ALONE, MINIMAL_BUILT, MINIMAL_TSX];
  const project = benchProject();
  const samples = new Map(subjects.map((s) => [s, [] as number[]]));
  try {
    // One warm-up each (file system and compile caches), then round-robin so load affects all alike.
    for (const subject of subjects) timeSynth(subject, project);
    for (let i = 0; i < runs; i++) for (const subject of subjects) samples.get(subject)!.push(timeSynth(subject, project));
  } finally {
    rmSync(project, { recursive: true, force: true });
  }

  const medianOf = (subject: Subject) => median(samples.get(subject)!);
  const lines = [`runs: ${runs} each (after one warm-up), fresh node process per run`];
  for (const subject of subjects) {
    const times = samples.get(subject)!;
    lines.push(`${subject.label.padEnd(34)} median ${fmt(medianOf(subject))}  min ${fmt(Math.min(...times))}  max ${fmt(Math.max(...times))}`);
  }
  lines.push(`ratio npm run synth / full app               ${(medianOf(NPM_SYNTH) / medianOf(FULL)).toFixed(2)}x`);
  lines.push(`ratio full / minimal built (like for like)   ${(medianOf(FULL) / medianOf(MINIMAL_BUILT)).toFixed(2)}x`);
  lines.push(`ratio full / minimal through tsx (stock)     ${(medianOf(FULL) / medianOf(MINIMAL_TSX)).toFixed(2)}x`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

runCommand(COMMAND, main);
