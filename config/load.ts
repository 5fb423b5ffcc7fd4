/**
 * Loads the site config once: built-in site, optional override file (DEATHSTAR_CONFIG, JSON or YAML)
 * merged over it, validated by the schema, frozen. Problems come back all at once, each with its
 * field path and a hint, as a ConfigError; nothing is written before this succeeds.
 */
import { readFileSync, statSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { siteConfigSchema, type SiteConfig } from "./schema.js";
import { SITES, type SiteName } from "./sites.js";

/** Override files larger than this are refused before parsing. */
const MAX_CONFIG_BYTES = 256 * 1024;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[], readonly source: string) {
    super(`invalid site config (${source}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlainObject(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Keys that select a variant (state.backend): a different value replaces the default object whole. */
const DISCRIMINATORS = ["backend"] as const;

/** Objects merge key by key; arrays and scalars in the override replace the default. */
export function mergeOverride(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  if (DISCRIMINATORS.some((key) => key in override && override[key] !== base[key])) return override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    // defineProperty, not assignment: a "__proto__" key stays an own key, which the schema then
    // rejects as unknown, instead of silently replacing the object's prototype.
    const mergedValue = Object.hasOwn(base, key) ? mergeOverride(base[key], value) : value;
    Object.defineProperty(merged, key, { value: mergedValue, enumerable: true, writable: true, configurable: true });
  }
  return merged;
}

/** Reads and parses an override file; any failure is a ConfigError naming the file. */
export function readOverrideFile(path: string): unknown {
  const fail = (why: string): never => {
    throw new ConfigError([`DEATHSTAR_CONFIG: ${why}`], path);
  };
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_CONFIG_BYTES) fail(`${path} is ${size} bytes; config files are limited to ${MAX_CONFIG_BYTES}`);
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    return fail(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}); check the path or unset DEATHSTAR_CONFIG`);
  }
  const yaml = [".yaml", ".yml"].includes(extname(path).toLowerCase());
  try {
    // maxAliasCount bounds alias expansion ("billion laughs").
    const parsed: unknown = yaml ? parseYaml(text, { maxAliasCount: 100, prettyErrors: false }) : JSON.parse(text);
    if (!isPlainObject(parsed)) fail(`${path} must contain a ${yaml ? "YAML mapping" : "JSON object"} at the top level`);
    const polluting = prototypeKeys(parsed);
    if (polluting.length > 0) throw new ConfigError(polluting.map((key) => `${key}: "__proto__" is not a config key; remove it`), path);
    return parsed;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    return fail(`${path} is not valid ${yaml ? "YAML" : "JSON"}: ${(error as Error).message.split("\n")[0]}`);
  }
}

/** Paths of every "__proto__" key (an own key after JSON/YAML parsing; some validators skip it silently). */
function prototypeKeys(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => prototypeKeys(item, `${path}.${i}`));
  if (!isPlainObject(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const here = path === "" ? key : `${path}.${key}`;
    return key === "__proto__" ? [here] : prototypeKeys(child, here);
  });
}

/** Validates a complete config object; returns it frozen or throws every problem at once. */
export function validateSiteConfig(candidate: unknown, source: string): Readonly<SiteConfig> {
  const result = siteConfigSchema.safeParse(candidate);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
      const message =
        issue.code === "unrecognized_keys"
          ? `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}; check the spelling (see config.schema.json)`
          : issue.code === "invalid_key"
            ? issue.issues.map((inner) => inner.message).join("; ")
            : issue.message;
      return `${path}: ${message}`;
    });
    throw new ConfigError(problems, source);
  }
  return deepFreeze(result.data);
}

export interface LoadOptions {
  readonly site?: SiteName;
  /** Path of an override file; defaults to process.env.DEATHSTAR_CONFIG. */
  readonly configFile?: string;
}

export function loadSiteConfig(options: LoadOptions = {}): Readonly<SiteConfig> {
  const siteName = options.site ?? "aws";
  const file = options.configFile ?? process.env.DEATHSTAR_CONFIG;
  const base = SITES[siteName];
  if (file === undefined || file === "") return validateSiteConfig(base, `built-in site "${siteName}"`);
  return validateSiteConfig(mergeOverride(base, readOverrideFile(file)), file);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
