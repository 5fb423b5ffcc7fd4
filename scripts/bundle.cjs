// The project's esbuild bundle, shared by `node scripts/build.mjs` (always builds), `npm run synth`
// (scripts/synth-cli.cjs: builds only when a source changed since the last build) and
// `npm run check:cdktn` (the same options, with cdktf's packages aliased to CDK Terrain's).
// CommonJS, so the synth preload can load it with require() before the app starts.
"use strict";
const { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = require("node:fs");
const { dirname, join, relative } = require("node:path");

/** The project root: the nearest directory up holding cdktf.json (from scripts/, or from dist/scripts/ once bundled). */
function projectRoot(dir) {
  return existsSync(join(dir, "cdktf.json")) || dirname(dir) === dir ? dir : projectRoot(dirname(dir));
}
const ROOT = projectRoot(__dirname);
/** The entry points: synth, then every `npm run` command and the benchmark's baseline app. */
const ENTRIES = [
  "main.ts",
  ...["adopt", "bench", "bench-minimal", "check-cdktn", "cost", "render", "render-talos", "schema", "session", "teardown", "timings"].map((name) => `scripts/${name}.ts`),
];
/**
 * What the last build read, for `ensureBuilt`: every input file with its size and mtime. Written
 * last, after every output, so a build cut short leaves the previous record (or none) and the next
 * synth builds again.
 */
const INPUTS_RECORD = "dist/.inputs.json";

/** esbuild options for bundling `entryPoints` into `outdir` (absolute or relative to the root). */
function bundleOptions(entryPoints = ENTRIES, outdir = join(ROOT, "dist")) {
  return {
    absWorkingDir: ROOT,
    entryPoints,
    bundle: true,
    platform: "node",
    format: "cjs",
    packages: "external",
    loader: { ".sh": "text" },
    sourcemap: true,
    outExtension: { ".js": ".cjs" },
    outdir,
    logLevel: "warning",
    write: false,
    metafile: true,
  };
}

/**
 * Runs esbuild with `options` and writes each output by a rename, so a command already running
 * from the output dir (or one started while another builds) never reads a half-written file.
 * Returns esbuild's metafile.
 */
function writeBundle(options) {
  // Loaded here: a synth whose bundle is current never pays for esbuild's start-up.
  const { buildSync } = require("esbuild");
  const { outputFiles, metafile } = buildSync(options);
  for (const file of outputFiles) writeAtomically(file.path, file.contents);
  return metafile;
}

function writeAtomically(path, contents) {
  mkdirSync(dirname(path), { recursive: true });
  const scratch = `${path}.${process.pid}.tmp`;
  writeFileSync(scratch, contents);
  renameSync(scratch, path);
}

/** Size and modification time of `path` (relative to the root), or undefined when it is gone. */
function fingerprint(path) {
  try {
    const stats = statSync(join(ROOT, path));
    return [stats.size, stats.mtimeMs];
  } catch {
    return undefined;
  }
}

/** Builds dist/ and records what it read (the sources and this file, which holds the options). */
function build() {
  const metafile = writeBundle(bundleOptions());
  const inputs = [...Object.keys(metafile.inputs), relative(ROOT, __filename)];
  const outputs = Object.keys(metafile.outputs);
  const record = { inputs: Object.fromEntries(inputs.map((path) => [path, fingerprint(path)])), outputs };
  writeAtomically(join(ROOT, INPUTS_RECORD), `${JSON.stringify(record)}\n`);
}

/**
 * Whether dist/ was built from the sources as they are now: every input the last build read has
 * the same size and modification time (any edit, checkout or deletion changes one; a new source
 * file is only reached through an edited import) and every output is still there.
 */
function isCurrent() {
  let record;
  try {
    record = JSON.parse(readFileSync(join(ROOT, INPUTS_RECORD), "utf8"));
  } catch {
    return false;
  }
  const same = (a, b) => a !== undefined && b !== undefined && a[0] === b[0] && a[1] === b[1];
  return (
    Object.entries(record.inputs).every(([path, print]) => same(fingerprint(path), print)) && record.outputs.every((path) => fingerprint(path) !== undefined)
  );
}

/** Builds dist/ unless it is current. */
function ensureBuilt() {
  if (!isCurrent()) build();
}

module.exports = { ROOT, bundleOptions, writeBundle, build, ensureBuilt };
