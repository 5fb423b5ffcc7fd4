/**
 * vitest global setup: builds dist/ once before any test, so tests run each command's bundle as
 * `npm run <command>` does after its build (scripts/build.mjs), without building it again per run.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

export default function setup(): void {
  // What `npm run build` runs, without npm's own start-up.
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: join(import.meta.dirname, "..", ".."), stdio: "inherit" });
}

/** The bundle `npm run` executes for a source entry point, e.g. "scripts/cost.ts" → <repo>/dist/scripts/cost.cjs. */
export function bundled(entry: string): string {
  return join(import.meta.dirname, "..", "..", "dist", entry.replace(/\.ts$/, ".cjs"));
}
