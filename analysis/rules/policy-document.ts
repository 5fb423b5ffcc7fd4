/**
 * Reads IAM policy statements out of synthesized attributes. cdktf renders `Fn.jsonencode(...)`
 * as an HCL expression inside a string ("${jsonencode({"Effect" = "Allow", ...})}"), so the
 * statements are parsed from that expression; plain JSON strings and `aws_iam_policy_document`
 * blocks are read directly. References to other resources become {@link Reference} values:
 * they name a specific resource, which is what "scoped" means.
 */
import { nestedBlocks, stringList } from "../synthesized.js";

/** A Terraform expression that is not a literal, e.g. `aws_network_interface.nat_instance.arn`. */
export interface Reference {
  readonly reference: string;
}

export interface PolicyStatement {
  readonly label: string;
  readonly effect: string;
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  /** Literal ARNs/patterns as strings; references as {@link Reference}. */
  readonly resources: readonly (string | Reference)[];
  readonly notResources: readonly (string | Reference)[];
}

export type ParsedPolicy =
  | { readonly kind: "statements"; readonly statements: readonly PolicyStatement[] }
  /** The whole policy is another block's output (e.g. data.aws_iam_policy_document.x.json), checked there. */
  | { readonly kind: "delegated"; readonly address: string }
  | { readonly kind: "unreadable"; readonly reason: string };

export function isReference(value: unknown): value is Reference {
  return typeof value === "object" && value !== null && "reference" in value;
}

/** Parses a `policy` attribute value (JSON text or cdktf's `${jsonencode(...)}`). */
export function parsePolicy(value: unknown): ParsedPolicy {
  if (typeof value !== "string") return { kind: "unreadable", reason: `policy is ${typeof value}, not a string` };
  const text = value.trim();
  const delegated = /^\$\{((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+)\.json\}$/.exec(text);
  if (delegated) return { kind: "delegated", address: delegated[1]! };
  let document: unknown;
  try {
    const encoded = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(text);
    document = encoded ? new HclExpressionParser(encoded[1]!).parse() : JSON.parse(text);
  } catch (error) {
    return { kind: "unreadable", reason: (error as Error).message };
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    return { kind: "unreadable", reason: "the policy is not an object" };
  }
  const raw = (document as Record<string, unknown>).Statement;
  const statements = (Array.isArray(raw) ? raw : [raw]).filter((s): s is Record<string, unknown> => typeof s === "object" && s !== null);
  return {
    kind: "statements",
    statements: statements.map((s, i) => ({
      label: typeof s.Sid === "string" ? s.Sid : `#${i}`,
      effect: typeof s.Effect === "string" ? s.Effect : "",
      actions: stringList(s.Action),
      notActions: stringList(s.NotAction),
      resources: resourceList(s.Resource),
      notResources: resourceList(s.NotResource),
    })),
  };
}

/** Statements of a `data.aws_iam_policy_document` block. */
export function policyDocumentStatements(attributes: Readonly<Record<string, unknown>>): PolicyStatement[] {
  return nestedBlocks(attributes.statement).map((s, i) => ({
    label: typeof s.sid === "string" ? s.sid : `#${i}`,
    effect: typeof s.effect === "string" ? s.effect : "Allow",
    actions: stringList(s.actions),
    notActions: stringList(s.not_actions),
    resources: resourceList(s.resources),
    notResources: resourceList(s.not_resources),
  }));
}

function resourceList(value: unknown): (string | Reference)[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.filter((item): item is string | Reference => typeof item === "string" || isReference(item));
}

/**
 * The subset of HCL expressions cdktf emits for jsonencode arguments: objects (`{"k" = v}`),
 * tuples, quoted templates (kept verbatim, `${...}` included), numbers, booleans, null, and bare
 * expressions (references, function calls), which become {@link Reference}s.
 */
class HclExpressionParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parse(): unknown {
    const value = this.value();
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail("unexpected trailing text");
    return value;
  }

  private value(): unknown {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === "{") return this.object();
    if (c === "[") return this.tuple();
    if (c === '"') return this.template();
    return this.bare();
  }

  private object(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.pos++;
    for (;;) {
      this.skipSpace();
      if (this.eat("}")) return result;
      const key = this.value();
      const name = typeof key === "string" ? key : isReference(key) ? key.reference : this.fail("object key must be a name or a string");
      this.skipSpace();
      if (!this.eat("=") && !this.eat(":")) this.fail('expected "=" after an object key');
      result[name] = this.value();
      this.skipSpace();
      this.eat(",");
    }
  }

  private tuple(): unknown[] {
    const result: unknown[] = [];
    this.pos++;
    for (;;) {
      this.skipSpace();
      if (this.eat("]")) return result;
      result.push(this.value());
      this.skipSpace();
      this.eat(",");
    }
  }

  /** A quoted template; escapes are decoded, interpolations kept as written. */
  private template(): string {
    let out = "";
    this.pos++;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === "\\") {
        out += this.escape();
      } else if ((c === "$" || c === "%") && this.text[this.pos + 1] === "{") {
        const end = this.skipBalanced(this.pos + 1);
        out += this.text.slice(this.pos, end);
        this.pos = end;
      } else {
        out += c;
        this.pos++;
      }
    }
    return this.fail("unterminated string");
  }

  private escape(): string {
    const next = this.text[this.pos + 1];
    const simple: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };
    if (next !== undefined && next in simple) {
      this.pos += 2;
      return simple[next]!;
    }
    const unicode = /^u([0-9a-fA-F]{4})/.exec(this.text.slice(this.pos + 1));
    if (unicode) {
      this.pos += 6;
      return String.fromCharCode(parseInt(unicode[1]!, 16));
    }
    return this.fail(`unknown escape \\${next ?? ""}`);
  }

  /** A literal or a bare expression up to the next top-level separator. */
  private bare(): unknown {
    const start = this.pos;
    while (this.pos < this.text.length && !",}]".includes(this.text[this.pos]!)) {
      const c = this.text[this.pos]!;
      if (c === "(" || c === "[" || c === "{") this.pos = this.skipBalanced(this.pos);
      else if (c === '"') this.template();
      else if (c === "=" || c === ":") break;
      else this.pos++;
    }
    const token = this.text.slice(start, this.pos).trim();
    if (token === "") this.fail("expected a value");
    if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(token)) return Number(token);
    if (token === "true" || token === "false") return token === "true";
    if (token === "null") return null;
    return { reference: token } satisfies Reference;
  }

  /** Index just past the bracket group opening at `open`, skipping quoted strings inside it. */
  private skipBalanced(open: number): number {
    const closing: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
    const stack: string[] = [];
    let i = open;
    while (i < this.text.length) {
      const c = this.text[i]!;
      if (c in closing) stack.push(closing[c]!);
      else if (c === stack[stack.length - 1]) {
        stack.pop();
        if (stack.length === 0) return i + 1;
      } else if (c === '"') {
        i++;
        while (i < this.text.length && this.text[i] !== '"') i += this.text[i] === "\\" ? 2 : 1;
      }
      i++;
    }
    return this.fail("unbalanced brackets");
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private eat(char: string): boolean {
    if (this.text[this.pos] !== char) return false;
    this.pos++;
    return true;
  }

  private fail(message: string): never {
    throw new Error(`${message} at offset ${this.pos} of the jsonencode expression`);
  }
}
