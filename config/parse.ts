/**
 * Parsing of override files, strictly: JSON with no duplicate keys, YAML with no duplicate keys,
 * tags or values JSON cannot hold, both with a nesting limit. Every failure is a {@link ParseError}
 * with a line, a column and, where a key is at fault, its dotted path. Messages never quote the
 * file's text (it may hold secrets), and {@link printable} escapes anything echoed.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from "yaml";

export class ParseError extends Error {
  constructor(
    message: string,
    /** 1-based line and column of the fault, when the parser knows it. */
    readonly at: { readonly line: number; readonly column: number } | undefined,
    /** Dotted path of the key at fault, when there is one (duplicate keys, values of the wrong kind). */
    readonly keyPath?: string,
  ) {
    super(message);
    this.name = "ParseError";
  }
}

// C0/C1 controls, line/paragraph separators, bidi overrides and isolates, zero-width characters, BOM.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]/g;

/** `text` with control and invisible characters escaped (\n, \u202e, ...), cut to `max` characters. */
export function printable(text: string, max = 200): string {
  const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
  const escaped = text.replace(UNPRINTABLE, (c) => named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return escaped.length > max ? `${escaped.slice(0, max)}… (${escaped.length - max} more characters)` : escaped;
}

/** Dotted path of a key below `parent`, as config errors print it. */
export function keyPath(parent: string, key: string | number): string {
  const segment = printable(String(key), 64);
  return parent === "" ? segment : `${parent}.${segment}`;
}

function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/** Sets an own property even for "__proto__", so it can be found and refused instead of changing a prototype. */
function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/**
 * RFC 8259 JSON, plus a leading UTF-8 byte order mark. Refuses duplicate keys (the later one would
 * silently win) and nesting deeper than `maxDepth`.
 */
export function parseJson(source: string, maxDepth: number): unknown {
  const text = source.startsWith("\ufeff") ? source.slice(1) : source;
  let at = 0;
  const fail = (message: string, offset = at, path?: string): never => {
    throw new ParseError(message, position(text, offset), path);
  };
  const found = () => (at >= text.length ? "the end of the file" : `'${printable(text[at]!)}'`);
  const skipSpace = () => {
    while (at < text.length && " \t\n\r".includes(text[at]!)) at++;
  };
  const expect = (char: string, what: string) => {
    skipSpace();
    if (text[at] !== char) fail(`expected ${what}, found ${found()}`);
    at++;
  };

  const string = (): string => {
    const start = at++;
    let out = "";
    for (;;) {
      if (at >= text.length) fail("unterminated string", start);
      const c = text[at]!;
      if (c === '"') break;
      if (c < " ") fail(`control character ${printable(c)} inside a string; write it as an escape such as \\n`);
      if (c !== "\\") {
        out += c;
        at++;
        continue;
      }
      const e = text[at + 1];
      if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(at + 2, at + 6))) {
        out += String.fromCharCode(parseInt(text.slice(at + 2, at + 6), 16));
        at += 6;
      } else if (e !== undefined && Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e];
        at += 2;
      } else fail("invalid escape sequence in a string");
    }
    at++;
    return out;
  };

  const value = (path: string, depth: number): unknown => {
    skipSpace();
    const c = text[at];
    if (c === "{" || c === "[") {
      if (depth >= maxDepth) fail(`nested more than ${maxDepth} levels deep; the config has no field that deep`);
      return c === "{" ? object(path, depth + 1) : array(path, depth + 1);
    }
    if (c === '"') return string();
    const literal = /^(true|false|null)/.exec(text.slice(at, at + 5))?.[0];
    if (literal) {
      at += literal.length;
      return literal === "null" ? null : literal === "true";
    }
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at, at + 400))?.[0];
    if (number) {
      at += number.length;
      return Number(number);
    }
    return fail(`expected a value (object, array, string, number, true, false or null), found ${found()}`);
  };

  /** The comma-separated items between an opening bracket and `close`, each read by `item`. */
  const items = (close: string, item: () => void) => {
    at++;
    skipSpace();
    if (text[at] === close) {
      at++;
      return;
    }
    for (;;) {
      item();
      skipSpace();
      if (text[at] === close) {
        at++;
        return;
      }
      if (text[at] !== ",") fail(`expected "," or "${close}" after a value, found ${found()}`);
      at++;
    }
  };

  const object = (path: string, depth: number): Record<string, unknown> => {
    const result: Record<string, unknown> = {};
    const seen = new Map<string, number>();
    items("}", () => {
      skipSpace();
      if (text[at] !== '"') fail(`expected a double-quoted key, found ${found()}`);
      const keyAt = at;
      const key = string();
      const here = keyPath(path, key);
      const first = seen.get(key);
      if (first !== undefined) {
        fail(`duplicate key (first at line ${position(text, first).line}); a key may appear once, the later one would silently win: remove one`, keyAt, here);
      }
      seen.set(key, keyAt);
      expect(":", '":" after a key');
      setOwn(result, key, value(here, depth));
    });
    return result;
  };

  const array = (path: string, depth: number): unknown[] => {
    const result: unknown[] = [];
    items("]", () => result.push(value(keyPath(path, result.length), depth)));
    return result;
  };

  const result = value("", 0);
  skipSpace();
  if (at < text.length) fail(`unexpected ${found()} after the top-level value`);
  return result;
}

/** What YAML made of a value JSON cannot hold, or undefined for plain data. */
function nonJsonKind(value: unknown): string | undefined {
  if (value instanceof Date) return "a YAML timestamp";
  if (value instanceof Set) return "a YAML set (!!set)";
  if (value instanceof Map) return "a YAML ordered map (!!omap/!!pairs)";
  if (value instanceof Uint8Array) return "YAML binary data (!!binary)";
  if (typeof value === "bigint") return "an integer too large for a number";
  if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) return "not plain data";
  return undefined;
}

/**
 * YAML 1.2 (core schema, merge keys allowed), with alias expansion bounded by `maxAliasCount`.
 * Refuses duplicate keys, unknown tags, values JSON cannot hold (timestamps, sets, binary) and
 * nesting deeper than `maxDepth`.
 */
export function parseYaml(source: string, maxDepth: number, maxAliasCount: number): unknown {
  const lines = new LineCounter();
  const fail = (message: string, offset: number, path?: string): never => {
    const { line, col } = lines.linePos(offset);
    throw new ParseError(message, { line, column: col }, path);
  };
  let doc;
  try {
    doc = parseDocument(source, { uniqueKeys: false, merge: true, prettyErrors: false, lineCounter: lines });
  } catch (error) {
    if (error instanceof RangeError) throw new ParseError(`nested too deeply to parse; the config has no field deeper than ${maxDepth} levels`, undefined);
    throw error;
  }
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) fail(problem.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""), problem.pos[0]);

  // Walk the syntax tree once, iteratively: duplicate keys and depth, before anything is expanded.
  const stack: { node: unknown; path: string; depth: number }[] = [{ node: doc.contents, path: "", depth: 0 }];
  while (stack.length > 0) {
    const { node, path, depth } = stack.pop()!;
    if (isMap(node) || isSeq(node)) {
      const offset = (node as YamlNode).range?.[0] ?? 0;
      if (depth >= maxDepth) fail(`nested more than ${maxDepth} levels deep; the config has no field that deep`, offset);
    }
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const key = isScalar(item.key) ? String(item.key.value) : undefined;
        if (key === undefined) fail("keys must be plain strings", (item.key as YamlNode | null)?.range?.[0] ?? 0, path);
        if (key === "<<") continue;
        const here = keyPath(path, key!);
        if (seen.has(key!)) fail("duplicate key; a key may appear once, the later one would silently win: remove one", (item.key as YamlNode).range?.[0] ?? 0, here);
        seen.add(key!);
        stack.push({ node: item.value, path: here, depth: depth + 1 });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => stack.push({ node: item, path: keyPath(path, i), depth: depth + 1 }));
    }
  }

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount });
  } catch (error) {
    if (error instanceof RangeError) throw new ParseError(`nested too deeply to expand; the config has no field deeper than ${maxDepth} levels`, undefined);
    throw new ParseError((error as Error).message.split("\n")[0]!, undefined);
  }
  const plainDataProblem = findNonJson(value, "");
  if (plainDataProblem) {
    throw new ParseError(`is ${plainDataProblem.kind}; write the value the schema expects (a mapping for a section, see config.schema.json)`, undefined, plainDataProblem.path || "(top level)");
  }
  return value;
}

/** The first value JSON cannot hold, with its path (aliases may share objects: each is visited once). */
function findNonJson(root: unknown, rootPath: string): { path: string; kind: string } | undefined {
  const seen = new Set<unknown>();
  const stack: { value: unknown; path: string }[] = [{ value: root, path: rootPath }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    const kind = nonJsonKind(value);
    if (kind) return { path, kind };
    if (typeof value !== "object" || value === null || seen.has(value)) continue;
    seen.add(value);
    for (const [key, child] of Object.entries(value)) stack.push({ value: child, path: keyPath(path, Array.isArray(value) ? Number(key) : key) });
  }
  return undefined;
}
