/**
 * Writes a rendered bundle (`npm run render`) to disk: every path is checked to stay inside the
 * target dir before anything is written; the files go to a scratch dir beside it that is swapped
 * into place, so a failure never leaves half a bundle. A non-empty target is replaced only with
 * `force`, and never when it holds the working dir or the home dir.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { CommandError } from "../lib/command-error.js";
import { replaceDirAtomically } from "../lib/replace-dir.js";
import { isBundleScript } from "../templates/bundle.js";

/** A problem with the target dir or a path in the bundle; reported without a stack trace. */
export class RenderError extends CommandError {
  override readonly name = "RenderError";
}

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
  // INIT_CWD: where the user typed `npm run` (npm runs the command in the project root).
  const kept = [process.cwd(), process.env.INIT_CWD, homedir()].find((dir) => dir !== undefined && holds(out, resolve(dir)));
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
