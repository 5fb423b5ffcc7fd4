import { App } from "cdktf";
import { copyFileSync, existsSync, readFileSync, renameSync } from "node:fs";
import { join, relative } from "node:path";
import type { SiteConfig } from "../config/schema.js";
import type { TerraformJson } from "../cost/resources.js";
import { DeathStarStack, STACK_NAME } from "./deathstar.js";

/** Where cdktf writes the stack inside an output directory: the directory `tofu` runs in. */
export function stackDirPath(outdir: string): string {
  return join(outdir, "stacks", STACK_NAME);
}

/** Where cdktf writes the stack inside an output directory. */
export function stackJsonPath(outdir: string): string {
  return join(stackDirPath(outdir), "cdk.tf.json");
}

/** What `tofu init` makes in the stack directory; every synth carries it into the new output. */
export const TOFU_INIT_FILES: readonly string[] = [".terraform", ".terraform.lock.hcl"];
/** The provider lock file OpenTofu reads and writes in the stack directory. */
const STACK_LOCK_FILE = ".terraform.lock.hcl";
/**
 * The committed copy of the provider lock file, at the project root beside the stack's state
 * (cdktf.out is generated and git-ignored, and OpenTofu reads the lock only from the directory it
 * runs in).
 */
export const LOCK_FILE = `terraform.${STACK_NAME}.lock.hcl`;

/** Synthesizes the stack for `config` into `outdir` and returns the cdk.tf.json it wrote, parsed. */
export function synthesizeStack(outdir: string, config: Readonly<SiteConfig>): TerraformJson {
  const app = new App({ outdir, skipValidation: false });
  new DeathStarStack(app, config);
  app.synth();
  return JSON.parse(readFileSync(stackJsonPath(outdir), "utf8")) as TerraformJson;
}

/**
 * Keeps the stack directory's provider lock and the committed copy at the project root the same:
 * a lock that `tofu init` wrote (or upgraded) is copied to the root, to be committed; a fresh
 * checkout's stack directory gets the committed one, so `tofu init` installs the same providers
 * and checks them against the same hashes. Returns what it did, or undefined when both agree.
 */
export function syncLockFile(outdir: string, projectRoot: string): string | undefined {
  const committed = join(projectRoot, LOCK_FILE);
  const working = join(stackDirPath(outdir), STACK_LOCK_FILE);
  const shown = (path: string) => relative(projectRoot, path);
  if (existsSync(working)) {
    if (existsSync(committed) && readFileSync(committed, "utf8") === readFileSync(working, "utf8")) return undefined;
    copyAtomically(working, committed);
    return `${LOCK_FILE}: provider lock updated from ${shown(working)} (written by tofu init); commit it.`;
  }
  if (!existsSync(committed)) return undefined;
  copyAtomically(committed, working);
  return `${shown(working)}: provider lock copied from ${LOCK_FILE}; tofu init installs exactly those providers.`;
}

function copyAtomically(from: string, to: string): void {
  const scratch = `${to}.partial-${process.pid}`;
  copyFileSync(from, scratch);
  renameSync(scratch, to);
}
