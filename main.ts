/**
 * Entry point of `cdktf synth` / `npm run synth`: validate the site config, then write the stack
 * (stacks/synthesize.ts: scratch directory, budget check, atomic swap keeping `tofu init`'s work),
 * so a bad config, a failed synth or a blown budget never leaves a partial cdktf.out and never
 * touches a previous good one.
 */
import { resolve } from "node:path";
import { ConfigError, loadSiteConfig } from "./config/load.js";
import { SecurityRuleError } from "./constructs/rules/aspect.js";
import { writeStackOutput } from "./stacks/synthesize.js";

function main(): void {
  const config = loadSiteConfig();
  if (config.site.kind !== "aws") {
    throw new ConfigError([`site.kind: "${config.site.kind}" has no AWS resources; render its bundle with "npm run render"`], "synth");
  }
  writeStackOutput(config, resolve(process.env.CDKTF_OUTDIR ?? "cdktf.out"), process.cwd());
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
