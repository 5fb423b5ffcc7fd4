/**
 * Writes config.schema.json (JSON Schema of the site config) so editors complete and check the
 * file named by DEATHSTAR_CONFIG. Semantic rules (nesting, collisions) are enforced at synth only.
 * `npm run schema` regenerates it; a test fails when the committed copy is stale.
 */
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { writeFileAtomically } from "../lib/replace-dir.js";
import { siteConfigSchema } from "../config/schema.js";
import { parseCommandLine, runCommand } from "./cli.js";

export const SCHEMA_FILE = fileURLToPath(new URL("../config.schema.json", import.meta.url));

export function renderJsonSchema(): string {
  // Override files are partial: every field is optional there; the merged result is checked in full.
  const schema = z.toJSONSchema(siteConfigSchema, { target: "draft-2020-12", io: "input", unrepresentable: "any" });
  return `${JSON.stringify({ ...withoutRequired(schema), title: "Third Death Star site config (override file)" }, null, 2)}\n`;
}

function withoutRequired<T>(node: T): T {
  if (Array.isArray(node)) return node.map(withoutRequired) as T;
  if (typeof node !== "object" || node === null) return node;
  return Object.fromEntries(Object.entries(node).filter(([key]) => key !== "required").map(([key, value]) => [key, withoutRequired(value)])) as T;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const command = { name: "schema", usage: "usage: npm run schema   (rewrites config.schema.json from config/schema.ts)" };
  runCommand(command, (argv) => {
    parseCommandLine(command, argv, {});
    writeFileAtomically(SCHEMA_FILE, renderJsonSchema());
    process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
  });
}
