/**
 * `npm run teardown -- [pause|resume|destroy|destroy-all|verify] [--yes] [--dry-run]`
 *
 * Takes the deployed stack back towards $0 (docs/teardown.md): reads the synthesized
 * cdktf.out/stacks/deathstar/cdk.tf.json (the stack that was applied), runs OpenTofu and the AWS
 * CLI step by step, then lists what is left and what the cost model says still bills.
 * --dry-run prints the commands without running them; --yes passes -auto-approve to tofu.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { loadSiteConfig } from "../config/load.js";
import { synthOutputDir } from "../config/workspace.js";
import { PRICES } from "../cost/prices.js";
import { PRICES_REGION } from "../config/instance-types.js";
import { TEARDOWN_ACTIONS, teardownPlan, type Command, type TeardownAction } from "../ops/teardown.js";
import type { TerraformJson } from "../analysis/synthesized.js";
import { stackJsonPath } from "../stacks/synthesize.js";
import { shellQuote } from "../templates/shell.js";
import { CommandError, parseCommandLine, runCommand, type CommandSpec } from "./cli.js";

const COMMAND: CommandSpec = {
  name: "teardown",
  usage: `usage: npm run teardown -- [${TEARDOWN_ACTIONS.join("|")}] [--yes] [--dry-run]
  (default action: pause; docs/teardown.md says what each one removes)
  --yes      pass -auto-approve to tofu
  --dry-run  print the commands without running them`,
  untouched: "Every step is safe to repeat: fix the cause and run it again.",
};

const printable = (argv: readonly string[]) => argv.map((a) => (/^[A-Za-z0-9_./=:,@+-]+$/.test(a) ? a : shellQuote(a))).join(" ");

/** A usage mistake or a failed step, reported in one line. */
class TeardownError extends CommandError {}

function run(command: Command, dryRun: boolean): void {
  process.stdout.write(`\n# ${command.why}\n$ ${printable(command.argv)}\n`);
  if (dryRun) return;
  const result = spawnSync(command.argv[0]!, command.argv.slice(1), { stdio: "inherit" });
  if (result.status !== 0) {
    throw new TeardownError(`"${printable(command.argv)}" failed (${result.error?.message ?? `exit ${result.status}`}); fix the cause and re-run, every step is safe to repeat`);
  }
}

function main(argv: readonly string[]): void {
  const { values, positionals } = parseCommandLine(COMMAND, argv, { yes: { type: "boolean", default: false }, "dry-run": { type: "boolean", default: false } }, true);
  const action = (positionals[0] ?? "pause") as TeardownAction;
  if (!TEARDOWN_ACTIONS.includes(action) || positionals.length > 1) {
    throw new TeardownError(`expected one of ${TEARDOWN_ACTIONS.join(", ")}, got "${positionals.join(" ")}"`);
  }
  const config = loadSiteConfig();
  const jsonPath = stackJsonPath(synthOutputDir());
  if (!existsSync(jsonPath)) throw new TeardownError(`${jsonPath} is missing: run "npm run synth" with the config you applied`);
  const plan = teardownPlan(JSON.parse(readFileSync(jsonPath, "utf8")) as TerraformJson, config, {
    action,
    stackDir: relative(process.cwd(), dirname(jsonPath)) || ".",
    autoApprove: values.yes,
  });
  for (const warning of plan.warnings) process.stdout.write(`WARNING: ${warning}\n`);
  for (const command of plan.commands) run(command, values["dry-run"]);
  process.stdout.write(`\nStill billed after "${action}" (cost model, ${PRICES_REGION} list prices):\n`);
  for (const line of plan.remaining) process.stdout.write(`  ${line.address}  ${line.item}  $${line.monthlyUsd.toFixed(2)}/month\n`);
  process.stdout.write(`  total $${plan.remainingUsd.toFixed(2)}/month, plus any snapshot listed above ($${PRICES.ebsSnapshotGbMonth}/GB-month)\n`);
}

runCommand(COMMAND, main);
