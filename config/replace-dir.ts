/**
 * Replaces a directory as a whole, or not at all: `fill` writes into a scratch dir beside `target`,
 * which is swapped into place only when it returns. On any error the scratch dir is removed and
 * `target` (a previous good output) is left exactly as it was.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";

export function replaceDirAtomically<T>(target: string, fill: (scratch: string) => T): T {
  const scratch = `${target}.partial-${process.pid}`;
  mkdirSync(dirname(target), { recursive: true });
  rmSync(scratch, { recursive: true, force: true });
  let result: T;
  try {
    result = fill(scratch);
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  const previous = `${target}.previous-${process.pid}`;
  if (existsSync(target)) renameSync(target, previous);
  renameSync(scratch, target);
  rmSync(previous, { recursive: true, force: true });
  return result;
}
