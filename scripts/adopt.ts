/**
 * `npm run adopt -- <path/to/terraform.tfstate>`: takes over what an existing hand-written setup
 * made. Matches the state's resources to the stack's own by type and identifying attributes and
 * writes the decisions to the config's `existing.adoptFile`, which the stack turns into
 *   - `moved` blocks when the state is the stack's own state file (config `state.path`), or
 *   - `import` blocks when it is another state (the objects exist only in AWS as far as the stack knows),
 * then prints matched, ambiguous and unmatched resources. The state file is only ever read.
 */
import { App } from "cdktf";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import type { AdoptFile } from "../config/adopt-file.js";
import { loadSiteConfig } from "../config/load.js";
import type { SiteConfig } from "../config/schema.js";
import { DeathStarStack } from "../stacks/deathstar.js";
import { importId, matchResources, type MatchResult, type OurResources } from "./adopt/match.js";
import { readState, StateError, type ExistingState } from "./adopt/state.js";
import { CommandError, runCommand } from "./cli.js";

const USAGE = "usage: npm run adopt -- <path/to/terraform.tfstate>";

function main(argv: readonly string[]): void {
  if (argv.length !== 1 || argv[0]!.startsWith("-")) throw new CommandError(USAGE);
  const projectRoot = process.cwd();
  const statePath = resolve(argv[0]!);
  const config = loadSiteConfig();
  if (!config.existing.adoptFile) {
    throw new CommandError('set existing.adoptFile in the site config (e.g. "adopt.json"): the stack includes that file at synth');
  }
  const state = readState(statePath);
  const keptModules = new Set(config.existing.modules.map((m) => `module.${m.name}`));
  // Resources of modules kept in module mode stay where they are.
  const candidates = state.instances.filter((instance) => !keptModules.has(instance.module.replace(/\[.*$/, "")));
  const result = matchResources(ourResources(config, projectRoot), candidates);
  const sameState = config.state.backend === "local" && resolve(projectRoot, config.state.path) === statePath;

  const adoptFile = resolve(projectRoot, config.existing.adoptFile);
  writeAtomically(adoptFile, `${JSON.stringify(decisions(result, relative(projectRoot, statePath), sameState), null, 2)}\n`);
  process.stdout.write(report(result, state, sameState, relative(projectRoot, adoptFile)));
}

/** The stack as the config describes it, without any previous adopt file (it may be stale). */
function ourResources(config: Readonly<SiteConfig>, projectRoot: string): OurResources {
  const outdir = mkdtempSync(join(tmpdir(), "deathstar-adopt-"));
  try {
    const app = new App({ outdir, skipValidation: true });
    const stack = new DeathStarStack(app, { ...config, existing: { ...config.existing, adoptFile: undefined } }, { projectRoot });
    const json = JSON.parse(JSON.stringify(stack.toTerraform())) as { resource?: OurResources };
    return json.resource ?? {};
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function decisions(result: MatchResult, state: string, sameState: boolean): AdoptFile {
  return {
    version: 1,
    state,
    // An object already at our address needs no moved block.
    moved: sameState ? result.matched.filter((m) => m.existing.address !== m.ours).map((m) => ({ from: m.existing.address, to: m.ours })) : [],
    import: sameState ? [] : result.matched.map((m) => ({ to: m.ours, id: importId(m.existing) })),
    keep: result.matched.flatMap((m) => m.keep.map(({ attribute, value }) => ({ address: m.ours, attribute, value }))),
  };
}

function report(result: MatchResult, state: ExistingState, sameState: boolean, adoptFile: string): string {
  const rows: string[][] = [["STATUS", "EXISTING", "OURS", "BY / WHY"]];
  for (const m of result.matched) {
    const kept = m.keep.length > 0 ? ` (kept: ${m.keep.map((k) => k.attribute).join(", ")})` : "";
    const status = !sameState ? "import" : m.existing.address === m.ours ? "in place" : "moved";
    rows.push([status, m.existing.address, m.ours, `${m.by}${kept}`]);
  }
  for (const a of result.ambiguous) rows.push(["AMBIGUOUS", a.candidates.join(", "), a.ours, a.by]);
  for (const u of result.unmatchedOurs) rows.push(["new", "-", u.ours, u.reason]);
  const leftBehind = sameState ? "DESTROYED by the next apply (not in the stack)" : "left alone (stays in its own state)";
  for (const e of result.unmatchedExisting) rows.push(["unmatched", e.address, "-", leftBehind]);
  for (const f of state.foreign) rows.push(["foreign", f, "-", "not a hashicorp/aws resource; left alone"]);

  const widths = rows[0]!.map((_, column) => Math.min(60, Math.max(...rows.map((row) => row[column]!.length))));
  const table = rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ").trimEnd());
  const summary =
    `${result.matched.length} matched (${sameState ? "moved blocks" : "import blocks"}), ${result.ambiguous.length} ambiguous, ` +
    `${result.unmatchedOurs.length} new, ${result.unmatchedExisting.length} unmatched existing. Wrote ${adoptFile}; run the synth, then \`tofu plan\`.`;
  const ambiguity = result.ambiguous.length > 0 ? "\nAmbiguous resources were left out: give the existing objects distinct names or tags and run again." : "";
  return `${table.join("\n")}\n\n${summary}${ambiguity}\n`;
}

function writeAtomically(path: string, text: string): void {
  const scratch = `${path}.partial-${process.pid}`;
  writeFileSync(scratch, text);
  renameSync(scratch, path);
}

runCommand({ name: "adopt", usage: USAGE, untouched: "Nothing was written; the state file was not modified.", failureExitCode: 2, expected: [StateError] }, main);
