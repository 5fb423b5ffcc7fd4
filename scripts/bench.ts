/**
 * `npm run bench`: median wall time of synthesizing the full app (dist/main.cjs, the process
 * `cdktf synth` starts, without the CLI wrapper) next to a minimal two-resource cdktf app, each in a
 * fresh Node process, alternating, into temporary directories. The minimal app is measured twice:
 * built the same way (like for like) and run the stock way of a cdktf TypeScript app (through tsx).
 * Prints numbers; asserts nothing.
 *   npm run bench -- --runs 9
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
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
  readonly args: readonly string[];
}

const FULL: Subject = { label: "full app (dist/main.cjs)", args: ["dist/main.cjs"] };
const MINIMAL_BUILT: Subject = { label: "minimal 2-resource app, built", args: ["dist/scripts/bench-minimal.cjs"] };
const MINIMAL_TSX: Subject = { label: "minimal 2-resource app, tsx", args: ["--import", "tsx", "scripts/bench-minimal.ts"] };

function timeSynth(subject: Subject): number {
  const outdir = mkdtempSync(join(tmpdir(), "deathstar-bench-"));
  const start = performance.now();
  const result = spawnSync(process.execPath, subject.args, {
    cwd: repo,
    env: { ...process.env, CDKTF_OUTDIR: join(outdir, "cdktf.out"), DEATHSTAR_CONFIG: "" },
    encoding: "utf8",
  });
  const elapsed = performance.now() - start;
  rmSync(outdir, { recursive: true, force: true });
  if (result.status !== 0) throw new CommandError(`${subject.label} failed:\n${result.stderr}`);
  return elapsed / 1000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (s: number) => `${s.toFixed(3)} s`;

function main(argv: readonly string[]): void {
  const { values } = parseCommandLine(COMMAND, argv, { runs: { type: "string", default: "7" } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 99) throw new CommandError(`--runs must be a whole number from 1 to 99, got "${values.runs}"\n${COMMAND.usage}`);
  const subjects = [FULL, MINIMAL_BUILT, MINIMAL_TSX];
  // One warm-up each (file system and compile caches), then round-robin so load affects all alike.
  for (const subject of subjects) timeSynth(subject);
  const samples = new Map(subjects.map((s) => [s, [] as number[]]));
  for (let i = 0; i < runs; i++) for (const subject of subjects) samples.get(subject)!.push(timeSynth(subject));

  const medianOf = (subject: Subject) => median(samples.get(subject)!);
  const lines = [`runs: ${runs} each (after one warm-up), fresh node process per run`];
  for (const subject of subjects) {
    const times = samples.get(subject)!;
    lines.push(`${subject.label.padEnd(32)} median ${fmt(medianOf(subject))}  min ${fmt(Math.min(...times))}  max ${fmt(Math.max(...times))}`);
  }
  lines.push(`ratio full / minimal built (like for like)   ${(medianOf(FULL) / medianOf(MINIMAL_BUILT)).toFixed(2)}x`);
  lines.push(`ratio full / minimal through tsx (stock)     ${(medianOf(FULL) / medianOf(MINIMAL_TSX)).toFixed(2)}x`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

runCommand(COMMAND, main);
