/**
 * Entry point of `cdktf synth` / `npm run synth`: validate the site config, then synthesize into a
 * scratch directory and swap it into place, so a bad config or a failed synth never leaves a
 * partial cdktf.out and never touches a previous good one.
 */
import { App } from "cdktf";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError, loadSiteConfig } from "./config/load.js";
import { SecurityRuleError } from "./constructs/rules/aspect.js";
import { DeathStarStack } from "./stacks/deathstar.js";

function main(): void {
  const config = loadSiteConfig();
  if (config.site.kind !== "aws") {
    throw new ConfigError([`site.kind: "${config.site.kind}" has no AWS resources; render its bundle with "npm run render"`], "synth");
  }
  const outdir = resolve(process.env.CDKTF_OUTDIR ?? "cdktf.out");
  const scratch = `${outdir}.partial-${process.pid}`;
  mkdirSync(dirname(outdir), { recursive: true });
  rmSync(scratch, { recursive: true, force: true });
  try {
    const app = new App({ outdir: scratch, skipValidation: false });
    new DeathStarStack(app, config);
    app.synth();
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  const previous = `${outdir}.previous-${process.pid}`;
  if (existsSync(outdir)) renameSync(outdir, previous);
  renameSync(scratch, outdir);
  rmSync(previous, { recursive: true, force: true });
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
