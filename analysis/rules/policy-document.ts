/**
 * Reads IAM policy statements out of synthesized attributes: the JSON text the constructs write
 * (`JSON.stringify` of the policy, references interpolated as "${aws_network_interface.bastion.arn}",
 * which name a specific resource, which is what "scoped" means) and `aws_iam_policy_document` blocks.
 * Anything else, `Fn.jsonencode(...)` included (an HCL expression inside a string), is unreadable.
 */
import { nestedBlocks, stringList } from "../synthesized.js";

export interface PolicyStatement {
  readonly label: string;
  readonly effect: string;
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  /** ARNs, patterns and interpolated references ("${aws_ebs_volume.cache.arn}"). */
  readonly resources: readonly string[];
  readonly notResources: readonly string[];
}

export type ParsedPolicy =
  | { readonly kind: "statements"; readonly statements: readonly PolicyStatement[] }
  /** The whole policy is another block's output (e.g. data.aws_iam_policy_document.x.json), checked there. */
  | { readonly kind: "delegated"; readonly address: string }
  | { readonly kind: "unreadable"; readonly reason: string };

/** Parses a `policy` attribute value: JSON text, or a whole-string reference to a policy document's JSON. */
export function parsePolicy(value: unknown): ParsedPolicy {
  if (typeof value !== "string") return { kind: "unreadable", reason: `policy is ${typeof value}, not a string` };
  const text = value.trim();
  const delegated = /^\$\{((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+)\.json\}$/.exec(text);
  if (delegated) return { kind: "delegated", address: delegated[1]! };
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return { kind: "unreadable", reason: (error as Error).message };
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    return { kind: "unreadable", reason: "the policy is not an object" };
  }
  const raw = (document as Record<string, unknown>).Statement;
  const statements = (Array.isArray(raw) ? raw : [raw]).filter((s): s is Record<string, unknown> => typeof s === "object" && s !== null);
  return { kind: "statements", statements: statements.map((s, i) => readStatement(s, i, JSON_KEYS, "")) };
}

/** Statements of a `data.aws_iam_policy_document` block. */
export function policyDocumentStatements(attributes: Readonly<Record<string, unknown>>): PolicyStatement[] {
  return nestedBlocks(attributes.statement).map((s, i) => readStatement(s, i, DOCUMENT_KEYS, "Allow"));
}

type StatementKeys = Record<"sid" | "effect" | "actions" | "notActions" | "resources" | "notResources", string>;
/** Keys of a statement in policy JSON, and in an aws_iam_policy_document `statement` block. */
const JSON_KEYS: StatementKeys = { sid: "Sid", effect: "Effect", actions: "Action", notActions: "NotAction", resources: "Resource", notResources: "NotResource" };
const DOCUMENT_KEYS: StatementKeys = { sid: "sid", effect: "effect", actions: "actions", notActions: "not_actions", resources: "resources", notResources: "not_resources" };

function readStatement(s: Record<string, unknown>, index: number, keys: StatementKeys, defaultEffect: string): PolicyStatement {
  const sid = s[keys.sid];
  const effect = s[keys.effect];
  return {
    label: typeof sid === "string" ? sid : `#${index}`,
    effect: typeof effect === "string" ? effect : defaultEffect,
    actions: stringList(s[keys.actions]),
    notActions: stringList(s[keys.notActions]),
    resources: stringList(s[keys.resources]),
    notResources: stringList(s[keys.notResources]),
  };
}
