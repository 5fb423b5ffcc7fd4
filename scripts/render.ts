/**
 * `npm run render -- --site home [--out DIR] [--force]`: writes the netboot bundle of a site
 * (compose.yaml, dnsmasq, matchbox, registry and Pi-hole configs, the Talos asset script) and
 * nothing else: no AWS resources, no secrets. The bundle is what the AWS bastion runs; at home
 * it is copied to the fileserver and started with `docker compose up -d`.
 *
 * Every path is checked to stay inside --out before anything is written; the files go to a
 * scratch dir beside --out that is swapped into place, so a failure never leaves half a bundle.
 * A non-empty --out is replaced only with --force.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSiteConfig } from "../config/load.js";
import { replaceDirAtomically } from "../lib/replace-dir.js";
import { SITES, type SiteName } from "../config/sites.js";
import { isBundleScript, renderBastionBundle } from "../templates/bundle.js";
import { CommandError, parseCommandLine, parseSite, runCommand, type CommandSpec } from "./cli.js";

/** A problem with the command line or the target dir; reported without a stack trace. */
export class RenderError extends CommandError {
  override readonly name = "RenderError";
}

export interface RenderOptions {
  readonly site: SiteName;
  /** Absolute path of the bundle dir. */
  readonly out: string;
  /** Replace a non-empty --out. */
  readonly force: boolean;
}

const USAGE = `usage: npm run render -- --site <${Object.keys(SITES).join("|")}> [--out <dir>] [--force]
  --site   built-in site to render (DEATHSTAR_CONFIG may name an override file, as for synth)
  --out    bundle dir (default: bundle/<site>); must be empty or absent unless --force
  --force  replace a non-empty --out as a whole`;

const COMMAND: CommandSpec = { name: "render", usage: USAGE };

/** The options of a command line (`--help` is the runner's). */
export function parseRenderArgs(argv: readonly string[], cwd: string): RenderOptions {
  const { values } = parseCommandLine(COMMAND, argv, { site: { type: "string" }, out: { type: "string" }, force: { type: "boolean", default: false } });
  const site = parseSite(values.site, USAGE);
  if (values.out === "") throw new RenderError(`--out must not be empty\n${USAGE}`);
  return { site, out: resolve(cwd, values.out ?? join("bundle", site)), force: values.force ?? false };
}

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Whether `dir` is `other` or one of its ancestors. */
function holds(dir: string, other: string): boolean {
  return other === dir || other.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);
}

/** Where `path` lands under `root`; fails for absolute paths and paths that climb out of it. */
function targetInside(root: string, path: string): string {
  const target = resolve(root, path);
  const rel = relative(root, target);
  if (isAbsolute(path) || rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new RenderError(`refusing to write "${path}": it is not inside ${root}`);
  }
  return target;
}

/** Writes `files` as the complete contents of `out`, all at once or not at all. */
export function writeBundle(files: Readonly<Record<string, string>>, out: string, force: boolean): void {
  for (const path of Object.keys(files)) targetInside(out, path);
  // --force replaces --out as a whole: never a dir that holds the working dir, the repo or the home dir.
  const kept = [process.cwd(), REPO, homedir()].find((dir) => holds(out, dir));
  if (kept !== undefined) throw new RenderError(`refusing to use ${out} as --out: it holds ${kept}; pick a dedicated dir such as bundle/<site>`);
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new RenderError(`${out} exists and is not a directory`);
    if (readdirSync(out).length > 0 && !force) throw new RenderError(`${out} is not empty; pass --force to replace it, or pick another --out`);
  }
  replaceDirAtomically(out, (scratch) => {
    mkdirSync(scratch, { mode: 0o755 });
    for (const [path, text] of Object.entries(files)) {
      const target = targetInside(scratch, path);
      mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
      writeFileSync(target, text, { mode: 0o644 });
      // Explicit chmod: the mode given to writeFileSync is filtered by the umask.
      chmodSync(target, isBundleScript(path) ? 0o755 : 0o644);
    }
  });
}

function main(argv: readonly string[]): void {
  const options = parseRenderArgs(argv, process.cwd());
  const config = loadSiteConfig({ site: options.site });
  const files = renderBastionBundle(config);
  writeBundle(files, options.out, options.force);
  process.stdout.write(
    `wrote the ${config.site.name} bundle (${Object.keys(files).length} files) to ${options.out}\n` +
      'next: copy it to the netboot host and follow docs/bastion.md, "At home" (Pi-hole password, arm64 iPXE, Talos assets, docker compose up -d)\n',
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) runCommand(COMMAND, main);
