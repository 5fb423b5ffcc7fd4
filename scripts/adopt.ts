/**
 * `npm run adopt -- [<old state file>] [--unmatched forget|destroy]`: takes over what an existing
 * hand-written setup made.
 *
 * 1. When the stack's own local state (config `state.path`) does not exist yet, the old state file
 *    is COPIED there (never moved, never edited), so the stack continues that state.
 * 2. The state's resources (inline routes and rules included) are matched to the stack's own by
 *    type and identifying attributes; the decisions go to the config's `existing.adoptFile`, which
 *    the stack turns into `moved` blocks (same state), `import` blocks (another state, or a route
 *    that was inline), `removed` blocks (old resources nothing matched, `--unmatched forget`) and
 *    kept attributes.
 * 3. Preflight: the stack is synthesized into cdktf.out as `npm run synth` does, and `tofu plan`
 *    must not destroy or replace anything adopted, nor create what already exists.
 * In import mode the `tofu state rm` commands that take the adopted objects out of the old state
 * are printed and written beside the adopt file. The old state file is only ever read.
 */
import { App } from "cdktf";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import type { AdoptFile } from "../config/adopt-file.js";
import { ConfigError, loadSiteConfig } from "../config/load.js";
import { writeFileAtomically } from "../lib/replace-dir.js";
import type { SiteConfig } from "../config/schema.js";
import { SecurityRuleError } from "../analysis/rules/aspect.js";
import { DeathStarStack } from "../stacks/deathstar.js";
import { stackDirPath, writeStackOutput } from "../stacks/synthesize.js";
import { shellQuote } from "../templates/shell.js";
import { importId, inlineInstances, matchResources, type Match, type MatchResult, type OurResources } from "../ops/adopt/match.js";
import { planStack, preflightProblems, PreflightError, summarize } from "../ops/adopt/preflight.js";
import { readState, StateError, type ExistingState, type StateInstance } from "../ops/adopt/state.js";
import { CommandError, parseCommandLine, runCommand } from "./cli.js";
import { siteView } from "../config/site-view.js";

/** The old state a project of this stack kept before its state had the stack's name. */
const DEFAULT_OLD_STATE = "terraform.tfstate";
const UNMATCHED = ["forget", "destroy"] as const;
type Unmatched = (typeof UNMATCHED)[number];

const USAGE = `usage: npm run adopt -- [<old state file>] [--unmatched forget|destroy]

  <old state file>     the hand-written setup's state (default: ${DEFAULT_OLD_STATE}); only read, never changed
  --unmatched forget   old resources nothing matched leave the stack's state and stay in AWS (default)
  --unmatched destroy  old resources nothing matched are destroyed by the next apply

Copies the old state to state.path when that does not exist yet, writes the decisions to
existing.adoptFile, synthesizes the stack and runs "tofu init" and "tofu plan" as a preflight.`;

const COMMAND = {
  name: "adopt",
  usage: USAGE,
  untouched: "Nothing was written; the state file was not modified.",
  failureExitCode: 2,
  expected: [StateError, SecurityRuleError],
} as const;

function main(argv: readonly string[]): void {
  const { values, positionals } = parseCommandLine(COMMAND, argv, { unmatched: { type: "string", default: "forget" } }, true);
  if (positionals.length > 1) throw new CommandError(`expected at most one state file, got ${positionals.length}\n${USAGE}`);
  const unmatched = values.unmatched as Unmatched;
  if (!UNMATCHED.includes(unmatched)) throw new CommandError(`--unmatched takes ${UNMATCHED.join(" or ")}, got "${values.unmatched}"`);
  const projectRoot = process.cwd();
  const shown = (path: string) => relative(projectRoot, path) || path;
  const config = loadSiteConfig();
  const oldState = resolve(positionals[0] ?? DEFAULT_OLD_STATE);
  const state = readState(oldState);

  const ownState = config.state.backend === "local" ? resolve(projectRoot, config.state.path) : undefined;
  let sameState = ownState === oldState;
  if (ownState && !sameState && !existsSync(ownState)) {
    mkdirSync(dirname(ownState), { recursive: true });
    writeFileAtomically(ownState, readFileSync(oldState));
    sameState = true;
    process.stdout.write(`Copied ${shown(oldState)} to ${shown(ownState)} (state.path), the stack's own state; ${shown(oldState)} is unchanged.\n`);
    if (oldState === resolve(projectRoot, DEFAULT_OLD_STATE)) {
      process.stdout.write(
        `cdktf synth refuses to run while ./${DEFAULT_OLD_STATE} exists: once you have checked the copy, move the old file away,\n` +
          `e.g. "mv ${DEFAULT_OLD_STATE} ${DEFAULT_OLD_STATE}.pre-deathstar", before the next "npm run synth".\n`,
      );
    }
  }
  if (!config.existing.adoptFile) {
    if (sameState) {
      process.stdout.write('existing.adoptFile is not set: nothing else to decide (module mode keeps the module.* addresses). Run "npm run synth".\n');
      return;
    }
    throw new CommandError('set existing.adoptFile in the site config (e.g. "adopt.json"): the stack includes that file at synth');
  }

  const keptModules = new Set(config.existing.modules.map((m) => `module.${m.name}`));
  // Resources of modules kept in module mode stay where they are.
  const candidates = state.instances.filter((instance) => !keptModules.has(instance.module.replace(/\[.*$/, "")));
  const existing = [...candidates, ...inlineInstances(candidates)];
  const result = matchResources(ourResources(config, projectRoot), existing);
  const decided = decisions(result, state, { statePath: shown(sameState ? ownState! : oldState), sameState, unmatched });

  const adoptFile = resolve(projectRoot, config.existing.adoptFile);
  writeFileAtomically(adoptFile, `${JSON.stringify(decided, null, 2)}\n`);
  process.stdout.write(report(result, state, { sameState, unmatched, adoptFile: shown(adoptFile), dnsServers: siteView(config).dhcpDnsServers }));
  if (!sameState) writeStateRm(result, oldState, adoptFile, shown);

  // Preflight: the stack as the next apply sees it.
  const outdir = resolve(process.env.CDKTF_OUTDIR ?? "cdktf.out");
  process.stdout.write(`\nPreflight: synthesizing into ${shown(outdir)} and running "tofu plan"...\n`);
  try {
    writeStackOutput(config, outdir, projectRoot);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof SecurityRuleError) throw new PreflightError(`the synth failed:\n${error.message}`);
    throw error;
  }
  const plan = planStack(stackDirPath(outdir));
  const destroyable = new Set(sameState && unmatched === "destroy" ? result.unmatchedExisting.map(resourceOf) : []);
  const problems = preflightProblems(plan, decided, existing, destroyable);
  const counts = summarize(plan);
  const line = `import ${counts.import}, move ${counts.move}, create ${counts.create}, update ${counts.update}, forget ${counts.forget}, destroy ${counts.destroy}`;
  if (problems.length > 0) {
    throw new PreflightError(
      `the plan (${line}) would not keep what was adopted:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
        `Do not apply it. ${shown(adoptFile)} and ${shown(outdir)} hold these decisions: fix the cause (or remove existing.adoptFile) and run "npm run adopt" again.`,
    );
  }
  process.stdout.write(`Preflight passed: tofu plan would ${line}; nothing adopted is destroyed or replaced. Next: "tofu apply" in ${shown(stackDirPath(outdir))}.\n`);
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

interface Mode {
  readonly sameState: boolean;
  readonly unmatched: Unmatched;
}

/** A resource's address without its instance key: what `removed` and `moved` blocks name. */
const resourceOf = (instance: Pick<StateInstance, "address">) => instance.address.replace(/\[[^\]]*\]$/, "");

function decisions(result: MatchResult, state: ExistingState, mode: Mode & { readonly statePath: string }): AdoptFile {
  const inlineRoute = (m: Match) => m.existing.inlineIn !== undefined && m.existing.type === "aws_route";
  const inlineRule = (m: Match) => m.existing.inlineIn !== undefined && m.existing.type !== "aws_route";
  const standalone = result.matched.filter((m) => m.existing.inlineIn === undefined);
  // Old resources nothing matched, whole (an instance of a partly matched resource cannot be removed alone).
  const matchedResources = new Set(standalone.map((m) => resourceOf(m.existing)));
  const leftOver = [...new Set([...result.unmatchedExisting.filter((e) => !e.inlineIn).map(resourceOf), ...state.foreign])].filter((r) => !matchedResources.has(r));
  return {
    version: 1,
    state: mode.statePath,
    // An object already at our address needs no moved block.
    moved: mode.sameState ? standalone.filter((m) => m.existing.address !== m.ours).map((m) => ({ from: m.existing.address, to: m.ours })) : [],
    import: [...(mode.sameState ? [] : standalone), ...result.matched.filter(inlineRoute)].map((m) => ({ to: m.ours, id: importId(m.existing) })),
    removed: mode.sameState && mode.unmatched === "forget" ? leftOver.map((from) => ({ from })) : [],
    keep: [
      ...result.matched.flatMap((m) => m.keep.map(({ attribute, value }) => ({ address: m.ours, attribute, value }))),
      // An inline rule has no id to import: it stays in its group, and ours is not created beside it.
      ...result.matched.filter(inlineRule).map((m) => ({ address: m.ours, attribute: "count", value: 0 })),
    ],
  };
}

function report(result: MatchResult, state: ExistingState, mode: Mode & { readonly adoptFile: string; readonly dnsServers: readonly string[] }): string {
  const rows: string[][] = [["STATUS", "EXISTING", "OURS", "BY / WHY"]];
  for (const m of result.matched) {
    const kept = m.keep.length > 0 ? ` (kept: ${m.keep.map((k) => k.attribute).join(", ")})` : "";
    const status = m.existing.inlineIn
      ? m.existing.type === "aws_route"
        ? "import"
        : "kept inline"
      : !mode.sameState
        ? "import"
        : m.existing.address === m.ours
          ? "in place"
          : "moved";
    rows.push([status, m.existing.address, m.ours, `${m.by}${kept}`]);
  }
  rows.push(...takeovers(result, mode.dnsServers));
  for (const a of result.ambiguous) rows.push(["AMBIGUOUS", a.candidates.join(", "), a.ours, a.by]);
  for (const u of result.unmatchedOurs) rows.push(["new", "-", u.ours, u.reason]);
  const leftBehind = !mode.sameState
    ? "left alone (stays in its own state)"
    : mode.unmatched === "forget"
      ? "forgotten: leaves the state, stays in AWS (removed block)"
      : "DESTROYED by the next apply (--unmatched destroy)";
  for (const e of result.unmatchedExisting.filter((e) => !e.inlineIn)) rows.push(["unmatched", e.address, "-", leftBehind]);
  for (const f of state.foreign) rows.push(["foreign", f, "-", `not a hashicorp/aws resource; ${mode.sameState ? leftBehind : "left alone"}`]);

  const widths = rows[0]!.map((_, column) => Math.min(60, Math.max(...rows.map((row) => row[column]!.length))));
  const table = rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ").trimEnd());
  const blocks = mode.sameState ? "moved blocks" : "import blocks";
  const summary =
    `${result.matched.length} matched (${blocks}), ${result.ambiguous.length} ambiguous, ` +
    `${result.unmatchedOurs.length} new, ${result.unmatchedExisting.filter((e) => !e.inlineIn).length} unmatched existing. Wrote ${mode.adoptFile}.`;
  const ambiguity = result.ambiguous.length > 0 ? "\nAmbiguous resources were left out: give the existing objects distinct names or tags and run again." : "";
  return `${table.join("\n")}\n\n${summary}${ambiguity}\n`;
}

/**
 * Objects the stack takes over without a match of their own, because they belong to an adopted
 * VPC: its default security group (all rules removed) and its DHCP options (the VPC's DNS).
 */
function takeovers(result: MatchResult, dnsServers: readonly string[]): string[][] {
  const vpc = result.matched.find((m) => m.existing.type === "aws_vpc");
  if (!vpc) return [];
  const rows: string[][] = [];
  const ours = (type: string) => result.unmatchedOurs.find((u) => u.ours.startsWith(`${type}.`))?.ours ?? result.matched.find((m) => m.ours.startsWith(`${type}.`))?.ours;
  const defaultGroup = ours("aws_default_security_group");
  if (defaultGroup) {
    rows.push(["TAKEOVER", `default SG ${String(vpc.existing.attributes.default_security_group_id ?? "of the VPC")}`, defaultGroup, "every rule of the VPC's default security group is removed (instances still in it lose that access)"]);
  }
  const association = ours("aws_vpc_dhcp_options_association");
  if (association) {
    rows.push(["TAKEOVER", `DHCP options ${String(vpc.existing.attributes.dhcp_options_id ?? "of the VPC")}`, association, `the VPC's DNS servers become ${dnsServers.join(", ")} (network.dnsServers) at each instance's next DHCP renewal`]);
  }
  return rows;
}

/** Import mode: the old state must forget what the stack now manages, or its destroy would delete it. */
function writeStateRm(result: MatchResult, oldState: string, adoptFile: string, shown: (path: string) => string): void {
  const addresses = [...new Set(result.matched.filter((m) => !m.existing.inlineIn).map((m) => m.existing.address))];
  if (addresses.length === 0) return;
  const file = adoptFile.replace(/(\.json)?$/, ".state-rm.sh");
  const commands = addresses.map((address) => `tofu state rm -state=${shellQuote(shown(oldState))} ${shellQuote(address)}`);
  const script = [
    "#!/bin/sh",
    `# Written by "npm run adopt": takes the objects the stack adopted out of ${shown(oldState)}, so that`,
    "# a destroy there can no longer delete them. Run it from the project root once the stack has applied.",
    "set -e",
    ...commands,
    "",
  ].join("\n");
  writeFileAtomically(file, script);
  process.stdout.write(
    `\nThe old state still holds the ${addresses.length} adopted objects: a "tofu destroy" there would delete what the stack now manages.\n` +
      `After the stack's first apply, take them out of it (also in ${shown(file)}: "sh ${shown(file)}"):\n${commands.map((c) => `  ${c}`).join("\n")}\n`,
  );
}

runCommand(COMMAND, main);
