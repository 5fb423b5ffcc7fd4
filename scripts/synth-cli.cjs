// `npm run synth`: node -r ./scripts/synth-cli.cjs dist/main.cjs
//
// Does for the app what `cdktf synth` (cdktf-cli 0.21) does, in the app's own process and without
// the CLI's waits (its start-up, `terraform version` run three times, `terraform -v` and
// `node --version` before the app). Loaded with -r, before dist/main.cjs, so node still runs the
// bundle as its main module, exactly as the CLI's child process does.
//
// Before the app, as the CLI's checks, @cdktf/cli-core's SynthStack.synth (src/lib/synth-stack.ts)
// and the CLI's config reader (readConfigSync in @cdktf/commons) do:
//  - a ./terraform.tfstate stops the synth, exit 1, nothing written: the CLI refuses to run beside
//    one (state of a single-stack project; this stack's is terraform.deathstar.tfstate, and
//    `npm run adopt` copies an old one into place). Its other checks only warn (a newer CLI, a
//    Terraform older than 1.2, which it finds by running `terraform version`) and are left out;
//  - the bundle is rebuilt when a source changed (cdktf.json's app runs `node scripts/build.mjs`
//    first; an unchanged tree needs no new bundle);
//  - CDKTF_OUTDIR is cdktf.json's "output", or "cdktf.out": the CLI sets it whatever the
//    environment says (its --output option defaults to that);
//  - CDKTF_CONTEXT_JSON is cdktf.json's "context" plus cdktfRelativeModules, the
//    terraformModules whose source is a relative path;
//  - CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS=true and SYNTH_HCL_OUTPUT=false;
//  - TF_VAR_* variables are removed (they are for tofu, never for synth);
//  - the CLI's NODE_OPTIONS=--max-old-space-size=4096 is on the command line in package.json.
// After the app, when it exited 0 and wrote a new manifest, as the CLI does: each stack's
// annotations are printed (`WARN [path]: message`; an ERROR annotation fails the synth, exit 1),
// then "Generated Terraform code for the stacks: <names>". The CLI also deletes stack directories
// the app no longer writes; this app replaces the whole output dir (stacks/synthesize.ts), so
// none are left. On failure the app's own stderr and exit code stand; the CLI would repeat that
// stderr inside its "cdktf encountered an error while synthesizing" frame.
"use strict";
const { existsSync, readFileSync, statSync } = require("node:fs");
const { join, resolve } = require("node:path");
const { ensureBuilt } = require("./bundle.cjs");

/** The CLI's defaults for what cdktf.json leaves out (@cdktf/commons, config.ts). */
const DEFAULT_OUTPUT = "cdktf.out";
/** cdktf's manifest file name (cdktf/lib/manifest.ts, Manifest.fileName). */
const MANIFEST = "manifest.json";
/** cdktf's annotation levels (cdktf/lib/annotations.ts, AnnotationMetadataEntryType) and the CLI's labels. */
const LEVELS = { "@cdktf/info": "INFO", "@cdktf/warn": "WARN", "@cdktf/error": "ERROR" };

function readProjectConfig() {
  let config;
  try {
    config = JSON.parse(readFileSync("cdktf.json", "utf8"));
  } catch (error) {
    process.stderr.write(`synth: cannot read cdktf.json in ${process.cwd()} (${error.message}); run npm run synth from the project root\n`);
    process.exit(1);
  }
  return config;
}

/** The CLI's cdktfRelativeModules: terraformModules given by a relative path. */
function relativeModules(config) {
  const isRelative = (source) => source.startsWith("./") || source.startsWith("../");
  return (config.terraformModules ?? []).filter((module) => isRelative(typeof module === "string" ? module : module.source));
}

/** Identity of the manifest file, or undefined: the app replaces it on every synth. */
function manifestStamp(outdir) {
  try {
    const stats = statSync(join(outdir, MANIFEST));
    return `${stats.ino}:${stats.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/** Prints the manifest's annotations and stacks as the CLI does; returns false on an ERROR annotation. */
function reportStacks(outdir) {
  const manifest = JSON.parse(readFileSync(join(outdir, MANIFEST), "utf8"));
  const stacks = Object.values(manifest.stacks);
  let failed = false;
  for (const stack of stacks) {
    for (const annotation of stack.annotations ?? []) {
      const level = LEVELS[annotation.level] ?? annotation.level;
      process.stdout.write(`${level} [${annotation.constructPath}]: ${annotation.message}\n`);
      if (level === "ERROR") {
        failed = true;
        if (annotation.stacktrace) process.stdout.write(`${annotation.stacktrace.join("\n")}\n`);
      }
    }
  }
  if (failed) {
    process.stderr.write("synth: while synthesizing one or more error annotations have been encountered; see the output above\n");
    return false;
  }
  if (stacks.length === 0) process.stderr.write("ERROR: No Terraform code synthesized.\n");
  else process.stdout.write(`Generated Terraform code for the stacks: ${stacks.map((stack) => stack.name).join(", ")}\n`);
  return true;
}

/** The CLI's name for a single-stack project's state, beside which it refuses to synth. */
const SINGLE_STACK_STATE = "terraform.tfstate";

if (existsSync(SINGLE_STACK_STATE)) {
  process.stderr.write(
    `synth: ./${SINGLE_STACK_STATE} exists, and cdktf synth refuses to run beside it; this stack's state is terraform.deathstar.tfstate.\n` +
      `If it is an old single-stack state, "npm run adopt" copies it into place (docs/existing-state.md); then move it away, e.g. "mv ${SINGLE_STACK_STATE} ${SINGLE_STACK_STATE}.pre-deathstar".\n` +
      "Nothing was written.\n",
  );
  process.exit(1);
}
ensureBuilt();
const config = readProjectConfig();
const output = config.output ?? DEFAULT_OUTPUT;
for (const name of Object.keys(process.env)) if (name.startsWith("TF_VAR_")) delete process.env[name];
const context = config.context ? config.context : process.env.CDKTF_CONTEXT_JSON ? JSON.parse(process.env.CDKTF_CONTEXT_JSON) : {};
Object.assign(process.env, {
  CDKTF_OUTDIR: output,
  CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS: "true",
  CDKTF_CONTEXT_JSON: JSON.stringify({ ...context, cdktfRelativeModules: relativeModules(config) }),
  SYNTH_HCL_OUTPUT: "false",
});
const outdir = resolve(output);
const before = manifestStamp(outdir);
process.on("exit", (code) => {
  // Only a run that synthesized: not a failure, and not `--help` (the manifest is the old one).
  if (code !== 0 || manifestStamp(outdir) === before) return;
  if (!reportStacks(outdir)) process.exitCode = 1;
});
