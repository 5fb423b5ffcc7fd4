/** `npm run schema`: rewrites config.schema.json from config/schema.ts; a test fails when the committed copy is stale. */
import { resolve } from "node:path";
import { JSON_SCHEMA_FILE, renderJsonSchema } from "../config/json-schema.js";
import { writeFileAtomically } from "../lib/replace-dir.js";
import { parseCommandLine, runCommand, type CommandSpec } from "./cli.js";

const COMMAND: CommandSpec = { name: "schema", usage: "usage: npm run schema   (rewrites config.schema.json from config/schema.ts)" };

runCommand(COMMAND, (argv) => {
  parseCommandLine(COMMAND, argv, {});
  const file = resolve(JSON_SCHEMA_FILE);
  writeFileAtomically(file, renderJsonSchema());
  process.stdout.write(`wrote ${file}\n`);
});
