import { App } from "cdktf";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ConfigError } from "../config/load.js";
import { replaceDirAtomically, writeFileAtomically } from "../lib/replace-dir.js";
import type { SiteConfig } from "../config/schema.js";
import { estimateMonthlyCost } from "../cost/model.js";
import { budgetProblem, projectionLine } from "../cost/report.js";
import type { TerraformJson } from "../analysis/synthesized.js";
import { DeathStarStack, STACK_NAME } from "./deathstar.js";

/** Where cdktf writes the stack inside an output directory: the directory `tofu` runs in. */
export function stackDirPath(outdir: string): string {
  return join(outdir, "stacks", STACK_NAME);
}

/** Where cdktf writes the stack inside an output directory. */
export function stackJsonPath(outdir: string): string {
  return join(stackDirPath(outdir), "cdk.tf.json");
}

/** The provider lock file OpenTofu reads and writes in the stack directory. */
const STACK_LOCK_FILE = ".terraform.lock.hcl";
/** What `tofu init` makes in the stack directory: every synth carries it into the new output. */
const TOFU_INIT_FILES: readonly string[] = [".terraform", STACK_LOCK_FILE];
/**
 * OpenTofu override files (`override.tf.json`, `*_override.tf.json`, and the .tf forms) an
 * operator put beside cdk.tf.json: never synthesized, so every synth carries them over too.
 */
const OVERRIDE_FILE = /^(.+_)?override\.tf(\.json)?$/;
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
 * `npm run synth`: synthesizes into a scratch directory, prices the result against the budget and
 * only then swaps it into `outdir`, carrying over what `tofu init` made and any override files, so
 * a bad config, a failed synth or a blown budget never leaves a partial output and a good synth
 * never forces a re-init. Prints the cost projection and what happened to the lock file.
 */
export function writeStackOutput(config: Readonly<SiteConfig>, outdir: string, projectRoot: string): TerraformJson {
  const oldStackDir = stackDirPath(outdir);
  const overrides = existsSync(oldStackDir) ? readdirSync(oldStackDir).filter((name) => OVERRIDE_FILE.test(name)) : [];
  const json = replaceDirAtomically(
    outdir,
    (scratch) => {
      const synthesized = synthesizeStack(scratch, config);
      checkBudget(synthesized, config);
      return synthesized;
    },
    { carry: [...TOFU_INIT_FILES, ...overrides].map((file) => relative(outdir, join(oldStackDir, file))) },
  );
  const lockNote = syncLockFile(outdir, projectRoot);
  if (lockNote) process.stdout.write(`${lockNote}\n`);
  return json;
}

/** Prints the projection; throws when it exceeds the budget and the config does not allow that. */
function checkBudget(stack: TerraformJson, config: Readonly<SiteConfig>): void {
  const report = estimateMonthlyCost(stack, config);
  process.stdout.write(`${projectionLine(report, config)}\n`);
  const problem = budgetProblem(report, config.budget);
  if (problem) throw new ConfigError([problem], "cost projection");
}

/**
 * Keeps the stack directory's provider lock and the committed copy at the project root the same:
 * a lock that `tofu init` wrote (or upgraded) is copied to the root, to be committed; a fresh
 * checkout's stack directory gets the committed one, so `tofu init` installs the same providers
 * and checks them against the same hashes. Returns what it did, or undefined when both agree.
 */
function syncLockFile(outdir: string, projectRoot: string): string | undefined {
  const committed = join(projectRoot, LOCK_FILE);
  const working = join(stackDirPath(outdir), STACK_LOCK_FILE);
  const shown = (path: string) => relative(projectRoot, path);
  if (existsSync(working)) {
    if (existsSync(committed) && readFileSync(committed, "utf8") === readFileSync(working, "utf8")) return undefined;
    writeFileAtomically(committed, readFileSync(working));
    return `${LOCK_FILE}: provider lock updated from ${shown(working)} (written by tofu init); commit it.`;
  }
  if (!existsSync(committed)) return undefined;
  writeFileAtomically(working, readFileSync(committed));
  return `${shown(working)}: provider lock copied from ${LOCK_FILE}; tofu init installs exactly those providers.`;
}
