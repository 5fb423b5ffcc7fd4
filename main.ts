/**
 * Entry point of `cdktf synth` / `npm run synth`: validate the site config, synthesize into a
 * scratch directory, price the result against the budget, and only then swap it into place, so a
 * bad config, a failed synth or a blown budget never leaves a partial cdktf.out and never touches
 * a previous good one.
 */
import { ConfigError, loadSiteConfig } from "./config/load.js";
import { replaceDirAtomically } from "./config/replace-dir.js";
import type { SiteConfig } from "./config/schema.js";
import { synthOutputDir } from "./config/workspace.js";
import { SecurityRuleError } from "./constructs/rules/aspect.js";
import { estimateMonthlyCost } from "./cost/model.js";
import { budgetProblem, projectionLine } from "./cost/report.js";
import type { TerraformJson } from "./cost/resources.js";
import { synthesizeStack } from "./stacks/synthesize.js";
import { runCommand } from "./scripts/cli.js";

/** Prints the projection; throws when it exceeds the budget and the config does not allow that. */
function checkBudget(stack: TerraformJson, config: Readonly<SiteConfig>): void {
  const report = estimateMonthlyCost(stack, config);
  process.stdout.write(`${projectionLine(report, config)}\n`);
  const problem = budgetProblem(report, config.budget);
  if (problem) throw new ConfigError([problem], "cost projection");
}

function main(): void {
  const config = loadSiteConfig();
  if (config.site.kind !== "aws") {
    throw new ConfigError([`site.kind: "${config.site.kind}" has no AWS resources; render its bundle with "npm run render"`], "synth");
  }
  replaceDirAtomically(synthOutputDir(), (scratch) => checkBudget(synthesizeStack(scratch, config), config));
}

runCommand(
  {
    name: "synth",
    usage: "usage: npm run synth   (DEATHSTAR_CONFIG=<file.json|file.yaml> overrides the built-in aws site; CDKTF_OUTDIR moves cdktf.out)",
    expected: [SecurityRuleError],
  },
  main,
);
