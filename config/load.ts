/**
 * Loads the site config once: built-in site, optional override file (DEATHSTAR_CONFIG, JSON or YAML)
 * merged over it, validated by the schema and by the checks against the project on disk, frozen.
 * Problems come back all at once, each with its field path and a hint, as a ConfigError; nothing
 * is written before this succeeds.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { extname } from "node:path";
import type { z } from "zod";
import { keyPath, ParseError, parseJson, parseYaml, printable } from "./parse.js";
import { siteConfigSchema, type SiteConfig } from "./schema.js";
import { SITES, type SiteName } from "./sites.js";
import { currentWorkspace, workspaceProblems, type Workspace } from "./workspace.js";

/** Override files larger than this are refused, without reading further. */
const MAX_CONFIG_BYTES = 256 * 1024;
/** The schema's deepest field is 5 levels down; anything far deeper is not a config. */
const MAX_DEPTH = 16;
/** Bounds YAML alias expansion ("billion laughs"). */
const MAX_ALIAS_COUNT = 100;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], readonly source: string) {
    // Everything echoed is escaped: a problem may quote a key or a path from a hostile file.
    const shown = problems.map((p) => printable(p, 1000));
    super(`invalid site config (${printable(source)}):\n${shown.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = shown;
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

function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a named pipe (FIFO)";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * The text of a regular file, at most `maxBytes` of it; `field` names the setting that points at
 * it in errors. Pipes, devices and directories are refused before they are opened for reading (a
 * FIFO would block for ever, /dev/zero never ends); the file is opened non-blocking and checked
 * again, in case it was swapped in between.
 */
export function readRegularFile(path: string, maxBytes: number, field = "DEATHSTAR_CONFIG"): string {
  const refuse = (why: string): never => {
    throw new ConfigError([`${field}: ${why}`], path);
  };
  let fd: number | undefined;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) refuse(`${path} is ${fileKind(stats)}; name a regular JSON or YAML file`);
    if (stats.size > maxBytes) refuse(`${path} is ${stats.size} bytes; config files are limited to ${maxBytes}`);
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const opened = fstatSync(fd);
    if (!opened.isFile()) refuse(`${path} is ${fileKind(opened)}; name a regular JSON or YAML file`);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (let n = 1; n > 0 && length <= maxBytes; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > maxBytes) refuse(`${path} grew past ${maxBytes} bytes while it was read; config files are limited to ${maxBytes}`);
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(buffer.subarray(0, length));
    } catch {
      return refuse(`${path} is not UTF-8 text`);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    return refuse(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}); check the path${field === "DEATHSTAR_CONFIG" ? " or unset DEATHSTAR_CONFIG" : ""}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Reads and parses an override file; any failure is a ConfigError naming the file (and the key, when one is at fault). */
export function readOverrideFile(path: string): unknown {
  const text = readRegularFile(path, MAX_CONFIG_BYTES);
  const yaml = [".yaml", ".yml"].includes(extname(path).toLowerCase());
  let parsed: unknown;
  try {
    parsed = yaml ? parseYaml(text, MAX_DEPTH, MAX_ALIAS_COUNT) : parseJson(text, MAX_DEPTH);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    const where = error.at ? ` (line ${error.at.line}, column ${error.at.column})` : "";
    const problem = error.keyPath
      ? `${error.keyPath}: ${error.message} (${path}${where.replace(" (", ", ").replace(")", "")})`
      : `DEATHSTAR_CONFIG: ${path} is not valid ${yaml ? "YAML" : "JSON"}${where}: ${error.message}`;
    throw new ConfigError([problem], path);
  }
  if (!isPlainObject(parsed)) throw new ConfigError([`DEATHSTAR_CONFIG: ${path} must contain a ${yaml ? "YAML mapping" : "JSON object"} at the top level`], path);
  const polluting = prototypeKeys(parsed);
  if (polluting.length > 0) throw new ConfigError(polluting.map((key) => `${key}: "__proto__" is not a config key; remove it`), path);
  return parsed;
}

/** Paths of every "__proto__" key (an own key after parsing; some validators skip it silently). */
function prototypeKeys(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => prototypeKeys(item, keyPath(path, i)));
  if (!isPlainObject(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const here = keyPath(path, key);
    return key === "__proto__" ? [here] : prototypeKeys(child, here);
  });
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) value = isPlainObject(value) || Array.isArray(value) ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `a ${typeof value}`;
}

const EXPECTED: Record<string, string> = { object: "a mapping", array: "a list", string: "a string", number: "a number", int: "a whole number", boolean: "true or false" };

/** zod's message, reworded where it speaks of zod's types rather than of the config. */
function problemMessage(issue: z.core.$ZodIssue, candidate: unknown): string {
  if (issue.code === "unrecognized_keys") {
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${printable(k, 64)}"`).join(", ")}; check the spelling (see config.schema.json)`;
  }
  if (issue.code === "invalid_key") return issue.issues.map((inner) => inner.message).join("; ");
  const value = valueAt(candidate, issue.path);
  if (issue.code === "invalid_type") {
    const expected = EXPECTED[issue.expected] ?? issue.expected;
    // YAML's .inf and .nan, JSON's 1e400, a fraction where a whole number is due: say the number.
    if (typeof value === "number" && ["number", "int"].includes(issue.expected)) return `must be ${Number.isFinite(value) ? expected : "a finite number"}, not ${value}`;
    if (value !== undefined) return `must be ${expected}, not ${describeValue(value)}`;
    // The only variant section: say which variant asks for the field.
    const variant = issue.path[0] === "state" ? valueAt(candidate, ["state", "backend"]) : undefined;
    return `is required${typeof variant === "string" ? ` when state.backend is "${printable(variant, 32)}"` : ""} (${expected})`;
  }
  if (issue.code === "invalid_union" && issue.path.join(".") === "state.backend") return 'must be "local" or "s3"';
  // zod's own "Invalid option: …"; a message the schema sets (why only these values) stays as it is.
  if (issue.code === "invalid_value") return /^Invalid (option|input)/.test(issue.message) ? `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` : issue.message;
  // zod's own "Too big: expected string to have <=64 characters"; messages the schema sets stay as they are.
  if ((issue.code === "too_big" || issue.code === "too_small") && /^Too (big|small):/.test(issue.message)) {
    const limit = Number(issue.code === "too_big" ? issue.maximum : issue.minimum);
    const bound = `${issue.code === "too_big" ? "at most" : "at least"} ${limit}`;
    if (typeof value === "string") return `must be ${bound} characters long (it is ${value.length})`;
    if (Array.isArray(value)) return `must have ${bound} item${limit === 1 ? "" : "s"} (it has ${value.length})`;
    return `must be ${bound}`;
  }
  return issue.message;
}

/**
 * Validates a complete config object against the schema and the project on disk; returns it frozen
 * or throws every problem at once, one per field (the first: a field with a malformed value gets
 * no further, derived complaints).
 */
export function validateSiteConfig(candidate: unknown, source: string, workspace: Workspace = currentWorkspace()): Readonly<SiteConfig> {
  // One parse per process: zod's compiled fast path costs more to generate than it saves here.
  const result = siteConfigSchema.safeParse(candidate, { jitless: true });
  const problems = new Map<string, string>();
  const add = (path: readonly PropertyKey[], message: string) => {
    const key = path.length > 0 ? path.reduce<string>((parent, segment) => keyPath(parent, String(segment)), "") : "(top level)";
    if (!problems.has(key)) problems.set(key, message);
  };
  if (!result.success) {
    // Cross-field rules ran on whatever the fields held: with a malformed field they would add a
    // second, derived (and often wrong) complaint, so they wait until the fields are valid.
    const fieldIssues = result.error.issues.filter((issue) => !(issue.code === "custom" && issue.params?.crossField));
    for (const issue of fieldIssues.length > 0 ? fieldIssues : result.error.issues) add(issue.path, problemMessage(issue, candidate));
  } else {
    for (const problem of workspaceProblems(result.data, workspace)) add(problem.path, problem.message);
  }
  if (problems.size > 0) throw new ConfigError([...problems].map(([path, message]) => `${path}: ${message}`), source);
  return deepFreeze(result.data!);
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
