/**
 * Replaces a directory (or a file, {@link writeFileAtomically}) as a whole, or not at all: `fill` writes into a scratch dir beside `target`,
 * which is swapped into place only when it returns. On any error the scratch dir is removed and
 * `target` (a previous good output) is left exactly as it was.
 */
import { lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Options of {@link replaceDirAtomically}. */
export interface ReplaceDirOptions {
  /**
   * Paths inside `target`, relative to it, that the new directory takes over from the old one
   * when it has none of its own: what other tools made there (`tofu init`'s `.terraform/` and
   * lock file), which a new output must not throw away.
   * @default none
   */
  readonly carry?: readonly string[];
}

export function replaceDirAtomically<T>(target: string, fill: (scratch: string) => T, options: ReplaceDirOptions = {}): T {
  const scratch = `${target}.partial-${process.pid}`;
  mkdirSync(dirname(target), { recursive: true });
  rmSync(scratch, { recursive: true, force: true });
  const previous = `${target}.previous-${process.pid}`;
  const carried: string[] = [];
  try {
    const result = fill(scratch);
    for (const path of options.carry ?? []) {
      if (!exists(join(target, path)) || exists(join(scratch, path))) continue;
      mkdirSync(dirname(join(scratch, path)), { recursive: true });
      renameSync(join(target, path), join(scratch, path));
      carried.push(path);
    }
    if (exists(target)) renameSync(target, previous);
    renameSync(scratch, target);
    rmSync(previous, { recursive: true, force: true });
    return result;
  } catch (error) {
    // Give back the old directory and what was carried out of it, whole again.
    if (!exists(target) && exists(previous)) renameSync(previous, target);
    for (const path of carried) if (exists(join(scratch, path))) renameSync(join(scratch, path), join(target, path));
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
}

/** Writes a file whole or not at all: a scratch file beside it, renamed into place. */
export function writeFileAtomically(path: string, data: string | Uint8Array): void {
  const scratch = `${path}.partial-${process.pid}`;
  try {
    writeFileSync(scratch, data);
    renameSync(scratch, path);
  } catch (error) {
    rmSync(scratch, { force: true });
    throw error;
  }
}

/** Present, even as a dangling symlink (existsSync follows links). */
function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
