/**
 * The app that `npm run synth` (scripts/synth-cli.cjs) and `cdktf synth` run: validate the site
 * config, then write the stack (stacks/synthesize.ts: scratch directory, budget check, atomic swap
 * keeping `tofu init`'s work),
 * so a bad config, a failed synth or a blown budget never leaves a partial cdktf.out and never
 * touches a previous good one.
 */
import { ConfigError, loadSiteConfig } from "./config/load.js";
import { currentWorkspace } from "./config/workspace.js";
import { SecurityRuleError } from "./analysis/rules/aspect.js";
import { runCommand } from "./scripts/cli.js";
import { writeStackOutput } from "./stacks/synthesize.js";

function main(): void {
  const config = loadSiteConfig();
  if (config.site.kind !== "aws") {
    throw new ConfigError([`site.kind: "${config.site.kind}" has no AWS resources; render its bundle with "npm run render"`], "synth");
  }
  const { outdir, root } = currentWorkspace();
  writeStackOutput(config, outdir, root);
}

runCommand(
  {
    name: "synth",
    usage:
      "usage: npm run synth   (DEATHSTAR_CONFIG=<file.json|file.yaml> overrides the built-in aws site; writes cdktf.out, as cdktf synth does; node dist/main.cjs alone honours CDKTF_OUTDIR)",
    expected: [SecurityRuleError],
  },
  main,
);
