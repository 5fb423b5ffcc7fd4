/**
 * The shape of a security rule (cdk-nag style): an id, why it matters, how to fix it, and a pure
 * check over one synthesized block. Blocks are exactly what lands in cdk.tf.json, so a rule sees
 * final attribute values (references already rendered as "${type.name.attr}"), never cdktf tokens.
 */

/** One block of the synthesized stack. */
export interface SynthesizedBlock {
  readonly kind: "resource" | "data" | "output" | "variable" | "provider";
  /** Resource or data source type ("aws_launch_template"), provider name ("aws"), or the kind for outputs/variables. */
  readonly type: string;
  readonly name: string;
  /** Terraform address: "aws_launch_template.bastion", "data.aws_iam_policy_document.x", "output.x", "var.x", "provider.aws". */
  readonly address: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** Read access to the whole synthesized stack, for rules that follow references (subnets, route tables). */
export interface StackView {
  readonly blocks: readonly SynthesizedBlock[];
  /** The block at `address`, if this stack defines it. */
  block(address: string): SynthesizedBlock | undefined;
}

export interface SecurityRule {
  /** Stable id printed with every violation, e.g. "DS-EC2-IMDSV2". */
  readonly id: string;
  /** One sentence: what is enforced and why. */
  readonly explanation: string;
  /** What to change when the rule fails. */
  readonly fix: string;
  /** Problems of one block; empty when it complies or the rule does not apply. */
  check(block: SynthesizedBlock, stack: StackView): string[];
}

export interface Violation {
  readonly ruleId: string;
  readonly address: string;
  readonly problem: string;
  readonly fix: string;
}

// ---- Helpers for reading synthesized attributes ------------------------------------------------------

/** Nested blocks render as an object (max 1) or a list; both read as a list here. */
export function nestedBlocks(value: unknown): Record<string, unknown>[] {
  const items = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return items.filter((item): item is Record<string, unknown> => typeof item === "object" && item !== null && !Array.isArray(item));
}

/** Provider booleans arrive as `true` or as the string "true" (launch template block devices). */
export function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

export function stringList(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** The address a whole-string reference points at: "${aws_subnet.private.id}" → "aws_subnet.private". */
export function referencedAddress(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^\$\{((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+)\.[a-z_]+\}$/.exec(value);
  return match?.[1];
}

/** Every string leaf of a value with its dotted path ("ingress.0.cidr_blocks.1"). */
export function stringLeaves(value: unknown, path = ""): { path: string; value: string }[] {
  if (typeof value === "string") return [{ path, value }];
  const join = (key: string | number) => (path === "" ? String(key) : `${path}.${key}`);
  if (Array.isArray(value)) return value.flatMap((item, i) => stringLeaves(item, join(i)));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => (key === "//" ? [] : stringLeaves(item, join(key))));
  }
  return [];
}

/** The launch template block an instance is launched from, when it is one of this stack's. */
export function launchTemplateOf(block: SynthesizedBlock, stack: StackView): SynthesizedBlock | undefined {
  const [spec] = nestedBlocks(block.attributes.launch_template);
  const address = referencedAddress(spec?.id) ?? referencedAddress(spec?.name);
  return address?.startsWith("aws_launch_template.") ? stack.block(address) : undefined;
}

/** Types whose instances talk to the instance metadata service. */
const INSTANCE_TYPES = new Set(["aws_instance", "aws_launch_template", "aws_launch_configuration", "aws_spot_instance_request"]);

/**
 * The metadata_options an IMDS rule should judge on `block`: undefined when the block is no
 * instance, when IMDS is disabled, or when the instance takes its options from one of the stack's
 * launch templates (checked itself); `{}` when the block sets none (the defaults apply).
 */
export function imdsOptionsToCheck(block: SynthesizedBlock, stack: StackView): Record<string, unknown> | undefined {
  if (block.kind !== "resource" || !INSTANCE_TYPES.has(block.type)) return undefined;
  const [options] = nestedBlocks(block.attributes.metadata_options);
  if (!options && launchTemplateOf(block, stack)) return undefined;
  if (options?.http_endpoint === "disabled") return undefined;
  return options ?? {};
}
