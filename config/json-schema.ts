/**
 * config.schema.json: the JSON Schema of an override file (DEATHSTAR_CONFIG), so editors complete
 * and check it. Cross-field rules (config/rules.ts) are enforced at load only.
 */
import { z } from "zod";
import { siteConfigSchema } from "./schema.js";

/** The committed schema's name in the project root (`npm run schema` rewrites it). */
export const JSON_SCHEMA_FILE = "config.schema.json";

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
