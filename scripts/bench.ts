/**
 * `npm run bench`: median wall time of synthesizing the full app (main.ts, the same process
 * `cdktf synth` starts, without the CLI wrapper) next to a minimal two-resource cdktf app,
 * each in a fresh Node process, alternating, into temporary directories. Prints numbers; asserts nothing.
 *   npm run bench -- --runs 9
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const repo = join(import.meta.dirname, "..");
const runsFlag = process.argv.indexOf("--runs");
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 7;

function timeSynth(entry: string): number {
  const outdir = mkdtempSync(join(tmpdir(), "deathstar-bench-"));
  const start = performance.now();
  const result = spawnSync(process.execPath, ["--import", "tsx", join(repo, entry)], {
    cwd: repo,
    env: { ...process.env, CDKTF_OUTDIR: join(outdir, "cdktf.out"), DEATHSTAR_CONFIG: "" },
    encoding: "utf8",
  });
  const elapsed = performance.now() - start;
  rmSync(outdir, { recursive: true, force: true });
  if (result.status !== 0) throw new Error(`${entry} failed:\n${result.stderr}`);
  return elapsed / 1000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

// One warm-up each (file system and compile caches), then alternate so load affects both alike.
timeSynth("main.ts");
timeSynth("scripts/bench-minimal.ts");
const full: number[] = [];
const minimal: number[] = [];
for (let i = 0; i < runs; i++) {
  full.push(timeSynth("main.ts"));
  minimal.push(timeSynth("scripts/bench-minimal.ts"));
}
const fmt = (s: number) => `${s.toFixed(3)} s`;
process.stdout.write(
  [
    `runs: ${runs} each (after one warm-up), fresh node process per run`,
    `full app (main.ts)        median ${fmt(median(full))}  min ${fmt(Math.min(...full))}  max ${fmt(Math.max(...full))}`,
    `minimal 2-resource app    median ${fmt(median(minimal))}  min ${fmt(Math.min(...minimal))}  max ${fmt(Math.max(...minimal))}`,
    `ratio full/minimal        ${(median(full) / median(minimal)).toFixed(2)}x`,
    "",
  ].join("\n"),
);
