/**
 * Entry point of `cdktf synth` / `npm run synth`: validate the site config, synthesize into a
 * scratch directory, price the result against the budget, and only then swap it into place, so a
 * bad config, a failed synth or a blown budget never leaves a partial cdktf.out and never touches
 * a previous good one. What `tofu init` made in the stack directory is carried into the new
 * output, so a synth never forces a re-init.
 */
import { join, relative, resolve } from "node:path";
import { ConfigError, loadSiteConfig } from "./config/load.js";
import { replaceDirAtomically } from "./config/replace-dir.js";
import type { SiteConfig } from "./config/schema.js";
import { SecurityRuleError } from "./constructs/rules/aspect.js";
import { estimateMonthlyCost } from "./cost/model.js";
import { budgetProblem, projectionLine } from "./cost/report.js";
import type { TerraformJson } from "./cost/resources.js";
import { stackDirPath, synthesizeStack, syncLockFile, TOFU_INIT_FILES } from "./stacks/synthesize.js";

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
  const outdir = resolve(process.env.CDKTF_OUTDIR ?? "cdktf.out");
  const stackDir = relative(outdir, stackDirPath(outdir));
  replaceDirAtomically(outdir, (scratch) => checkBudget(synthesizeStack(scratch, config), config), {
    carry: TOFU_INIT_FILES.map((file) => join(stackDir, file)),
  });
  const lockNote = syncLockFile(outdir, process.cwd());
  if (lockNote) process.stdout.write(`${lockNote}\n`);
}

try {
  main();
} catch (error) {
  // Expected failures (bad config, a security rule) print their message alone: no stack trace.
  if (error instanceof ConfigError || error instanceof SecurityRuleError) {
    process.stderr.write(`${error.message}\nNothing was written.\n`);
    process.exit(1);
  }
  throw error;
}
