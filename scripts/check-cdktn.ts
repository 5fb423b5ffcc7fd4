/**
 * `npm run check:cdktn`: proves this stack builds and synthesizes the same with CDK Terrain (cdktn,
 * the maintained fork of the archived cdktf) as with cdktf, without switching the project.
 *
 *  1. Installs scripts/cdktn/package-lock.json (cdktn, cdktn-cli, @cdktn/provider-aws) into a
 *     scratch directory under the cache (~/.cache/deathstar/cdktn-<versions>-<lock hash>), once per
 *     lock file; never into the project. cdktn and its AWS bindings declare the peer range
 *     constructs >=10.6.0 <10.8.0 and npm refuses the project's 10.8.1 against it, so the scratch
 *     install pins 10.7.2, the newest in range, and the cdktn build loads that one copy.
 *  2. Bundles main.ts again with esbuild and the project's own options (scripts/bundle.cjs),
 *     `cdktf` aliased to `cdktn` and `@cdktf/provider-aws/lib/*` to `@cdktn/provider-aws/lib/*`:
 *     the same source, no copy of it; every other package still resolves from the project. tsc
 *     type-checks the same source against cdktn's declarations.
 *  3. Runs both bundles for the default site, each NAT mode and each Talos boot mode, and compares
 *     the cdk.tf.json files leaf by leaf (analysis/stack-diff.ts); runs `cdktn synth` (cdktn-cli)
 *     once, where this Node.js can run it, and checks it writes what the app wrote.
 * Prints a table of every block per site and every difference; exits 0 only when the only
 * differences are the allowed ones (the provider version constraint and source spelling, the
 * library's version stamp).
 *   npm run check:cdktn
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import bundle from "./bundle.cjs";
import { blockingDifferences, compareStacks, comparisonTable, differenceLines, type StackComparison } from "../analysis/stack-diff.js";
import { CommandError, parseCommandLine, runCommand, type CommandSpec } from "./cli.js";

const repo: string = bundle.ROOT;
const COMMAND: CommandSpec = {
  name: "check:cdktn",
  usage: `usage: npm run check:cdktn
  installs CDK Terrain (scripts/cdktn/package-lock.json) into ~/.cache/deathstar, builds main.ts
  against it and compares its synth with cdktf's for the default site, each NAT mode and boot mode`,
  untouched: "Nothing in the project was changed.",
};

/** The scratch install: its package.json and lock file live in the repo, its node_modules in the cache. */
const LOCK_DIR = join(repo, "scripts", "cdktn");
/** What main.ts imports from cdktf's side, and the package that stands in for it (subpaths follow: @cdktf/provider-aws/lib/vpc). */
const ALIASES = { cdktf: "cdktn", "@cdktf/provider-aws": "@cdktn/provider-aws" } as const;
/** The packages the cdktn bundle loads from the scratch install: the aliased ones and the constructs their peer range allows. */
const SCRATCH_PACKAGES = [...Object.values(ALIASES), "constructs"] as const;

/** One site to synthesize with both libraries: a DEATHSTAR_CONFIG override over the built-in aws site. */
interface Variant {
  readonly label: string;
  readonly override: Readonly<Record<string, unknown>>;
}

/**
 * The default site, then every other NAT mode and boot mode (the defaults are nat "bastion" and
 * boot "talos-ami"). A NAT gateway projects over the default $10 budget, so that site raises it;
 * iPXE boot needs an imported AMI's id.
 */
const VARIANTS: readonly Variant[] = [
  { label: "default", override: {} },
  { label: "nat=gateway", override: { network: { nat: "gateway" }, budget: { monthlyUsd: 50 } } },
  { label: "nat=instance", override: { network: { nat: "instance" } } },
  { label: "boot=ipxe", override: { talos: { boot: "ipxe", ipxeAmiId: "ami-0123456789abcdef0" } } },
];

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;

/** The cache directory of the scratch install: named by the pinned versions and the lock file's hash. */
function scratchDir(): string {
  const manifest = readJson(join(LOCK_DIR, "package.json")) as { dependencies: Record<string, string> };
  const lock = readFileSync(join(LOCK_DIR, "package-lock.json"));
  const deps = manifest.dependencies;
  const name = `cdktn-${deps.cdktn}-aws-${deps["@cdktn/provider-aws"]}-constructs-${deps.constructs}-${createHash("sha256").update(lock).digest("hex").slice(0, 12)}`;
  // As scripts/toolchain.sh: ${XDG_CACHE_HOME:-$HOME/.cache}/deathstar (an empty XDG_CACHE_HOME counts as unset).
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "deathstar", name);
}

/** Installs the lock file into the scratch directory unless a finished install is there; a cut-short install leaves nothing. */
function ensureInstalled(dir: string): void {
  if (existsSync(join(dir, "node_modules", "cdktn", "package.json"))) return;
  mkdirSync(dirname(dir), { recursive: true });
  const work = mkdtempSync(`${dir}.partial-`);
  try {
    for (const file of ["package.json", "package-lock.json"]) writeFileSync(join(work, file), readFileSync(join(LOCK_DIR, file)));
    const { dependencies } = readJson(join(LOCK_DIR, "package.json")) as { dependencies: Record<string, string> };
    process.stdout.write(`installing ${Object.entries(dependencies).map(([name, version]) => `${name}@${version}`).join(" ")} into ${dir}\n`);
    // No install scripts: the packages are read and run as a library and a CLI, nothing is compiled.
    execFileSync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: work, stdio: ["ignore", "inherit", "inherit"] });
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Bundles main.ts into dist/cdktn/ with the project's esbuild options and cdktf's packages aliased
 * to cdktn's. dist/cdktn/node_modules links cdktn, @cdktn/provider-aws and constructs to the
 * scratch install, so the bundle (and cdktn itself) load that one constructs; every other package
 * (zod, yaml) resolves further up, from the project's node_modules, as for the cdktf bundle, and
 * not from the scratch install's (which holds other versions of some).
 */
function buildWithCdktn(dir: string): string {
  const outdir = join(repo, "dist", "cdktn");
  bundle.writeBundle({ ...bundle.bundleOptions(["main.ts"], outdir), alias: ALIASES });
  for (const name of SCRATCH_PACKAGES) {
    const link = join(outdir, "node_modules", name);
    rmSync(link, { recursive: true, force: true });
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(dir, "node_modules", name), link);
  }
  return join(outdir, "main.cjs");
}

/**
 * Type-checks main.ts and everything it imports against cdktn's and @cdktn/provider-aws's own
 * declarations (tsc with the project's tsconfig, cdktf's module names mapped to the scratch
 * install): esbuild only strips types, so this is what shows an API the stack uses changed.
 */
function typeCheckWithCdktn(dir: string, outdir: string): void {
  const modules = join(dir, "node_modules");
  const tsconfig = join(outdir, "tsconfig.json");
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: relative(outdir, join(repo, "tsconfig.json")),
      compilerOptions: {
        noEmit: true,
        paths: {
          cdktf: [join(modules, "cdktn")],
          "@cdktf/provider-aws/lib/*": [join(modules, "@cdktn", "provider-aws", "lib", "*")],
          constructs: [join(modules, "constructs")],
        },
      },
      // The ambient declarations the project's own tsconfig picks up by folder (templates/*.sh as text).
      include: [relative(outdir, join(repo, "main.ts")), relative(outdir, join(repo, "templates", "shell-sources.d.ts"))],
    }),
  );
  const run = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc", { paths: [repo] }), "-p", tsconfig], { cwd: repo, encoding: "utf8", timeout: 300_000 });
  if (run.status !== 0) throw new CommandError(`main.ts does not type-check against cdktn:\n${run.stdout}${run.stderr}`);
}

/** Runs one app bundle for `variant` into a fresh output dir under `work`; returns its cdk.tf.json. */
function synthesize(app: string, variant: Variant, work: string, side: string): Record<string, unknown> {
  const dir = join(work, `${variant.label}-${side}`);
  mkdirSync(dir);
  const configFile = join(dir, "site.json");
  writeFileSync(configFile, JSON.stringify(variant.override));
  const outdir = join(dir, "cdktf.out");
  const run = spawnSync(process.execPath, [app], { cwd: repo, env: { ...process.env, CDKTF_OUTDIR: outdir, DEATHSTAR_CONFIG: configFile }, encoding: "utf8", timeout: 120_000 });
  if (run.status !== 0) throw new CommandError(`${side} synth of ${variant.label} failed (exit ${run.status ?? run.signal}):\n${run.stderr}`);
  return readJson(join(outdir, "stacks", "deathstar", "cdk.tf.json"));
}

/** The lowest Node.js a package declares (engines.node ">=x.y.z"), or undefined. */
function requiredNode(name: string, from: string): string | undefined {
  const manifest = readJson(require.resolve(`${name}/package.json`, { paths: [from] })) as { engines?: { node?: string } };
  return /^>=?\s*(\d+\.\d+\.\d+)$/.exec(manifest.engines?.node?.trim() ?? "")?.[1];
}

/** Whether version `a` ("x.y.z") is at least `b`. */
function versionAtLeast(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  for (let i = 0; i < 3; i++) if (x![i] !== y![i]) return x![i]! > y![i]!;
  return true;
}

/**
 * `cdktn synth` (cdktn-cli) with the cdktn bundle as its app, in a throwaway project holding only
 * cdktf.json: the CLI a switched project would run writes the same cdk.tf.json as the app alone.
 * Returns why it was not run when this Node.js is older than the CLI declares it needs (0.24.0
 * calls util.markAsUncloneable, which Node.js 20 lacks).
 */
function synthWithCli(dir: string, app: string, work: string, expected: Record<string, unknown>): StackComparison | string {
  const needs = requiredNode("cdktn-cli", dir);
  if (needs !== undefined && !versionAtLeast(process.versions.node, needs)) return `cdktn-cli needs Node.js >=${needs} (its engines), this is ${process.versions.node}`;
  const project = join(work, "cli-project");
  mkdirSync(project);
  const config = readJson(join(repo, "cdktf.json"));
  writeFileSync(join(project, "cdktf.json"), JSON.stringify({ ...config, app: `node ${JSON.stringify(app)}` }));
  const cli = join(dir, "node_modules", "cdktn-cli", "bundle", "bin", "cdktn");
  const run = spawnSync(process.execPath, [cli, "synth"], { cwd: project, env: { ...process.env, CHECKPOINT_DISABLE: "1", DEATHSTAR_CONFIG: "" }, encoding: "utf8", timeout: 300_000 });
  if (run.status !== 0) throw new CommandError(`cdktn synth failed (exit ${run.status ?? run.signal}):\n${run.stderr}${run.stdout}`);
  return compareStacks(expected, readJson(join(project, "cdktf.out", "stacks", "deathstar", "cdk.tf.json")));
}

/** "name version (hashicorp/aws x.y.z)" of an installed package, from its package.json. */
function describePackage(name: string, from: string): string {
  const manifest = readJson(require.resolve(`${name}/package.json`, { paths: [from] })) as { version: string; cdktf?: { provider?: { version?: string } } };
  const provider = manifest.cdktf?.provider?.version;
  return `${name} ${manifest.version}${provider ? ` (hashicorp/aws ${provider})` : ""}`;
}

function main(argv: readonly string[]): number {
  parseCommandLine(COMMAND, argv, {});
  const dir = scratchDir();
  ensureInstalled(dir);
  const cdktnApp = buildWithCdktn(dir);
  typeCheckWithCdktn(dir, dirname(cdktnApp));
  const cdktfApp = join(repo, "dist", "main.cjs");
  const work = mkdtempSync(join(tmpdir(), "deathstar-cdktn-"));
  try {
    const comparisons = new Map<string, StackComparison>();
    let defaultStack: Record<string, unknown> | undefined;
    for (const variant of VARIANTS) {
      const [left, right] = [synthesize(cdktfApp, variant, work, "cdktf"), synthesize(cdktnApp, variant, work, "cdktn")];
      comparisons.set(variant.label, compareStacks(left, right));
      defaultStack ??= right;
    }
    const cli = synthWithCli(dir, cdktnApp, work, defaultStack!);

    const lines = [
      "main.ts type-checks against cdktn's and @cdktn/provider-aws's declarations",
      `cdktf side: ${["cdktf", "@cdktf/provider-aws", "constructs"].map((name) => describePackage(name, repo)).join(", ")}`,
      `cdktn side: ${["cdktn", "@cdktn/provider-aws", "constructs"].map((name) => describePackage(name, dir)).join(", ")} (${dir})`,
      "",
      ...comparisonTable(comparisons),
      "",
    ];
    const { allowed, blocking } = differenceLines(comparisons);
    lines.push(allowed.length > 0 ? "allowed differences (what switching libraries changes by design; docs/cdktn.md):" : "allowed differences: none", ...allowed);
    lines.push(blocking.length > 0 ? "DIFFERENCES:" : "differences: none", ...blocking);
    const cliBlocking = typeof cli === "string" ? [] : blockingDifferences(cli);
    if (typeof cli === "string") lines.push(`cdktn synth (cdktn-cli) not run: ${cli}; npm run synth runs the app without a CLI`);
    else if (cliBlocking.length === 0) lines.push("cdktn synth (cdktn-cli, default site): the same cdk.tf.json as the cdktn app run directly");
    else lines.push("cdktn synth (cdktn-cli) wrote another cdk.tf.json than the app run directly:");
    lines.push(...cliBlocking.map((difference) => `  ${difference.path}: app ${JSON.stringify(difference.left)}, cli ${JSON.stringify(difference.right)}`));
    process.stdout.write(`${lines.join("\n")}\n`);
    const ok = blocking.length === 0 && cliBlocking.length === 0;
    process.stdout.write(ok ? `check:cdktn: ${VARIANTS.length} sites synthesize the same with cdktn\n` : "check:cdktn: cdktn synthesizes another stack; see above\n");
    return ok ? 0 : 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

runCommand(COMMAND, main);
