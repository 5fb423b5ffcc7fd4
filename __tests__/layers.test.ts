/**
 * The folders are layers (README, "Where things live"): a file imports from its own folder or a
 * folder below it, never from one above, so a helper cannot come to depend on the commands that use it.
 * Type-only imports (`import type`) are erased at build time and create no dependency: a config
 * file may name a type of a folder above it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = join(import.meta.dirname, "..");
/** Higher imports lower; equal ranks may import each other only within one folder. */
const RANK: Readonly<Record<string, number>> = { lib: 0, analysis: 1, config: 2, cost: 3, templates: 4, constructs: 5, ops: 5, stacks: 6, scripts: 7, ".": 8 };

function sourceFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

/** The top folder of a repo-relative path ("." for main.ts). */
const folderOf = (path: string) => (path.includes("/") ? path.split("/")[0]! : ".");

describe("layers", () => {
  const files = [...Object.keys(RANK).filter((folder) => folder !== ".").flatMap(sourceFiles), "main.ts"];

  it("every source folder has a rank", () => {
    const folders = readdirSync(REPO, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && readdirSync(join(REPO, entry.name)).some((name) => name.endsWith(".ts")))
      .map((entry) => entry.name)
      .filter((name) => !["__tests__", "node_modules", "dist"].includes(name));
    expect(folders.filter((folder) => !(folder in RANK))).toEqual([]);
  });

  it("nothing imports upward", () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = folderOf(file);
      for (const [, spec] of readFileSync(join(REPO, file), "utf8").matchAll(/^(?:import|export)(?! type )[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"/gms)) {
        const target = relative(REPO, resolve(dirname(join(REPO, file)), spec!));
        const to = folderOf(target);
        if (to !== from && RANK[to]! >= RANK[from]!) upward.push(`${file} imports ${target} (${from} → ${to})`);
      }
    }
    expect(upward).toEqual([]);
  });
});
