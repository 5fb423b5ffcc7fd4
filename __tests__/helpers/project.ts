/**
 * A throwaway project root for integration tests, laid out like the repository: the site config
 * override, `cdktf.out/stacks/deathstar/` synthesized by the real entry point (main.ts), and the
 * local state next to them where the stack's backend expects it.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { STACK_NAME } from "../../stacks/deathstar.js";
import type { TerraformJson } from "./tofu.js";
import { bundled } from "./build.js";

const execFileAsync = promisify(execFile);
export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

export interface SynthesizedProject {
  /** The directory tofu runs in. */
  readonly stackDir: string;
  readonly json: TerraformJson & { readonly variable?: Record<string, unknown> };
}

/**
 * Writes `config.json` into `root` and runs the synth bundle (dist/main.cjs) with DEATHSTAR_CONFIG and
 * CDKTF_OUTDIR=<root>/cdktf.out, exactly as `npm run synth` would in a checkout at `root`.
 */
export async function synthProject(root: string, config: Readonly<Record<string, unknown>>): Promise<SynthesizedProject> {
  const configFile = join(root, "config.json");
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  await execFileAsync(process.execPath, [bundled("main.ts")], {
    // The working directory is the project root: config paths (state, modules, adopt file) are relative to it.
    cwd: root,
    env: { ...process.env, DEATHSTAR_CONFIG: configFile, CDKTF_OUTDIR: join(root, "cdktf.out"), CHECKPOINT_DISABLE: "1" },
    timeout: 120_000,
  });
  const stackDir = join(root, "cdktf.out", "stacks", STACK_NAME);
  return { stackDir, json: JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")) as SynthesizedProject["json"] };
}
