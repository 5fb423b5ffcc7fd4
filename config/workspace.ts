/**
 * Checks of a valid config against the project on disk: where the synth writes, which files make
 * up the project, which module directories exist. They run in the loader, so every command that
 * reads the config (synth, cost, render, teardown, adopt) refuses the same configs, before
 * anything is written.
 */
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { JSON_SCHEMA_FILE } from "./json-schema.js";
import type { SiteConfig } from "./schema.js";

export interface Workspace {
  /** Project root: the config's paths (state.path, existing.*) are relative to it. */
  readonly root: string;
  /** The synth output dir (cdktf.out, or CDKTF_OUTDIR), replaced whole by every synth. */
  readonly outdir: string;
}

/** Where the app writes: CDKTF_OUTDIR (npm run synth and cdktf synth set it to cdktf.json's output), or cdktf.out in the working directory. */
export function synthOutputDir(): string {
  return resolve(process.env.CDKTF_OUTDIR ?? "cdktf.out");
}

export function currentWorkspace(): Workspace {
  return { root: process.cwd(), outdir: synthOutputDir() };
}

interface Problem {
  readonly path: (string | number)[];
  readonly message: string;
}

/** The project's own files, for copies without git metadata (git ls-files adds the rest when there is a checkout). */
export const PROJECT_FILES = [
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "cdktf.json",
  "main.ts",
  "vitest.config.ts",
  JSON_SCHEMA_FILE,
  "README.md",
  "SECURITY.md",
  ".gitignore",
] as const;
/** Directories tools replace or own: `npm ci` deletes node_modules, git owns .git. */
const TOOL_DIRS = ["node_modules", ".git"] as const;

const tracked = new Map<string, ReadonlySet<string>>();

/** Files git tracks under `root`, relative with "/" separators; empty outside a git checkout. Asked once per process. */
function trackedFiles(root: string): ReadonlySet<string> {
  let files = tracked.get(root);
  if (files === undefined) {
    files = new Set();
    if (existsSync(join(root, ".git"))) {
      try {
        const out = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "ignore"], maxBuffer: 16 * 1024 * 1024 });
        files = new Set(out.split("\0").filter((f) => f !== ""));
      } catch {
        // Not a checkout git can read: PROJECT_FILES still applies.
      }
    }
    tracked.set(root, files);
  }
  return files;
}

/** The index file of the git checkout at `root`: `.git/index`, or the one a linked worktree's `.git` file points to. */
function gitIndexPath(root: string): string | undefined {
  const dotGit = join(root, ".git");
  try {
    if (statSync(dotGit).isDirectory()) return join(dotGit, "index");
    const gitdir = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, "utf8"))?.[1];
    return gitdir === undefined ? undefined : join(resolve(root, gitdir.trim()), "index");
  } catch {
    return undefined;
  }
}

/**
 * True when git's index shows, without running git, that `rel` is not tracked: an index of version
 * 2 or 3 (git's default) stores every tracked path whole, followed by a NUL byte, so a path whose
 * bytes do not occur there is not tracked. False (ask git) whenever the index cannot settle it: it
 * holds those bytes, it is missing or unreadable, it is version 4 (paths prefix-compressed), split
 * ("link") or sparse ("sdir"), or the environment points git at another one.
 */
export function untrackedByIndex(root: string, rel: string): boolean {
  if (["GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_COMMON_DIR"].some((name) => process.env[name] !== undefined)) return false;
  const indexPath = gitIndexPath(root);
  if (indexPath === undefined) return false;
  let index: Buffer;
  try {
    index = readFileSync(indexPath);
  } catch {
    return false;
  }
  if (index.length < 12 || index.toString("latin1", 0, 4) !== "DIRC" || ![2, 3].includes(index.readUInt32BE(4))) return false;
  if (index.includes("link") || index.includes("sdir")) return false;
  return !index.includes(Buffer.from(`${rel}\0`, "utf8"));
}

/** Whether git tracks `rel` (relative to `root`, "/" separators): the index answers most paths, `git ls-files` the rest. */
function isTracked(root: string, rel: string): boolean {
  return !untrackedByIndex(root, rel) && trackedFiles(root).has(rel);
}

/** Whether `path` is `dir` or below it. */
function within(dir: string, path: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);
}

/** `path` with symlinks resolved as far as it exists: a link into cdktf.out is inside cdktf.out. */
function realPath(path: string): string {
  let existing = path;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    return join(realpathSync(existing), relative(existing, path));
  } catch {
    return path;
  }
}

/** Whether the first 4 KiB of `path` match `pattern` (an empty file counts as a match). */
function headMatches(path: string, pattern: RegExp): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(4096);
    const length = readSync(fd, head, 0, head.length, 0);
    return length === 0 || pattern.test(head.subarray(0, length).toString("utf8"));
  } finally {
    closeSync(fd);
  }
}
/** An OpenTofu/Terraform state names its format in its first keys. */
const STATE_HEAD = /"(lineage|terraform_version)"\s*:/;
/** An adopt file, as `npm run adopt` writes it. */
const ADOPT_HEAD = /"(moved|import|keep)"\s*:/;

/**
 * Rule stateOutsideSynthOutput: a local state file inside the synth output dir is deleted by the
 * next synth, which replaces that dir whole. The stack's backend path is relative to the stack
 * dir (three levels below the output dir's parent), so both that place and the project-root
 * reading of state.path are checked.
 */
export function stateOutsideSynthOutput(config: SiteConfig, workspace: Workspace): Problem[] {
  if (config.state.backend !== "local") return [];
  const places = [resolve(workspace.root, config.state.path), resolve(dirname(workspace.outdir), config.state.path)];
  const outdirs = [workspace.outdir, realPath(workspace.outdir)];
  const inside = places.some((place) => outdirs.some((outdir) => within(outdir, place) || within(outdir, realPath(place))));
  if (!inside) return [];
  return [
    {
      path: ["state", "path"],
      message:
        `"${config.state.path}" lies inside the synth output dir ${workspace.outdir}, which every synth replaces whole: the state would be deleted. ` +
        `Keep the state file outside ${basename(workspace.outdir)}, e.g. in the project root`,
    },
  ];
}

/**
 * Why writing the file at `path` (relative to the root) would harm the project, or undefined.
 * An existing file whose first bytes match `ownHead` is the file being replaced, tracked or not.
 */
function projectFileHarm(path: string, workspace: Workspace, tracked: (rel: string) => boolean, ownHead: RegExp): string | undefined {
  const target = resolve(workspace.root, path);
  const rel = relative(workspace.root, target).split(sep).join("/");
  const toolDir = TOOL_DIRS.find((dir) => within(resolve(workspace.root, dir), target));
  if (toolDir) return `lies inside ${toolDir}/, which ${toolDir === "node_modules" ? "`npm ci` deletes" : "belongs to git"}`;
  const projectFile = `is ${rel}, a file of the project itself: it would be overwritten`;
  if ((PROJECT_FILES as readonly string[]).includes(rel)) return projectFile;
  if (existsSync(target)) {
    const stats = statSync(target);
    if (stats.isDirectory()) return "is a directory";
    if (!stats.isFile()) return "is not a regular file";
    return headMatches(target, ownHead) ? undefined : `is an existing file of another kind (${rel}): it would be overwritten`;
  }
  return tracked(rel) ? projectFile : undefined;
}

/**
 * Rule stateNotOnProjectFile: a local state path must not land on a file of the project
 * (package.json, a tracked source file), on a directory or other non-state file, or inside a
 * directory a tool replaces (node_modules). An existing state file is fine, tracked or not.
 */
export function stateNotOnProjectFile(config: SiteConfig, workspace: Workspace): Problem[] {
  if (config.state.backend !== "local") return [];
  const harm = projectFileHarm(config.state.path, workspace, (rel) => isTracked(workspace.root, rel), STATE_HEAD);
  return harm ? [{ path: ["state", "path"], message: `"${config.state.path}" ${harm}; choose a dedicated state file name such as "deathstar.tfstate"` }] : [];
}

/**
 * Rule adoptFileNotProjectFile: `npm run adopt` writes existing.adoptFile, so it must not be one of
 * the project's own files or lie in the synth output dir. (A tracked adopt file is fine: it is
 * meant to be committed.)
 */
export function adoptFileNotProjectFile(config: SiteConfig, workspace: Workspace): Problem[] {
  const file = config.existing.adoptFile;
  if (file === undefined) return [];
  const target = resolve(workspace.root, file);
  if (within(workspace.outdir, target)) {
    return [{ path: ["existing", "adoptFile"], message: `"${file}" lies inside the synth output dir ${workspace.outdir}, which every synth replaces; keep it in the project, e.g. "adopt.json"` }];
  }
  const harm = projectFileHarm(file, workspace, () => false, ADOPT_HEAD);
  return harm ? [{ path: ["existing", "adoptFile"], message: `"${file}" ${harm}; name a file of its own, e.g. "adopt.json"` }] : [];
}

/** Rule moduleSourcesExist: every existing.modules[].source is a directory under the project root. */
export function moduleSourcesExist(config: SiteConfig, workspace: Workspace): Problem[] {
  return config.existing.modules.flatMap((module, i) => {
    const directory = resolve(workspace.root, module.source);
    if (existsSync(directory) && statSync(directory).isDirectory()) return [];
    return [
      {
        path: ["existing", "modules", i, "source"],
        message: `"${module.source}" is not a directory under ${workspace.root}; give the module's directory relative to the project root`,
      },
    ];
  });
}

/** Every rule that needs the project on disk, by name. */
export const WORKSPACE_RULES = { stateOutsideSynthOutput, stateNotOnProjectFile, adoptFileNotProjectFile, moduleSourcesExist } as const;

export function workspaceProblems(config: SiteConfig, workspace: Workspace): Problem[] {
  return Object.values(WORKSPACE_RULES).flatMap((rule) => rule(config, workspace));
}
