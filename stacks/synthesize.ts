import { App } from "cdktf";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SiteConfig } from "../config/schema.js";
import type { TerraformJson } from "../cost/resources.js";
import { DeathStarStack, STACK_NAME } from "./deathstar.js";

/** Where cdktf writes the stack inside an output directory. */
export function stackJsonPath(outdir: string): string {
  return join(outdir, "stacks", STACK_NAME, "cdk.tf.json");
}

/** Synthesizes the stack for `config` into `outdir` and returns the cdk.tf.json it wrote, parsed. */
export function synthesizeStack(outdir: string, config: Readonly<SiteConfig>): TerraformJson {
  const app = new App({ outdir, skipValidation: false });
  new DeathStarStack(app, config);
  app.synth();
  return JSON.parse(readFileSync(stackJsonPath(outdir), "utf8")) as TerraformJson;
}
