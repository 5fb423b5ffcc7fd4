/**
 * The shape of a security rule (cdk-nag style): an id, why it matters, how to fix it, and a pure
 * check over one synthesized block (analysis/synthesized.ts). Blocks are exactly what lands in cdk.tf.json, so a rule sees
 * final attribute values (references already rendered as "${type.name.attr}"), never cdktf tokens.
 */
import { launchTemplateAddresses, nestedBlocks, stringList, type StackView, type SynthesizedBlock } from "../synthesized.js";

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

/** A rule that judges resource blocks only: data sources, outputs, variables and providers pass it. */
export function resourceRule(rule: SecurityRule): SecurityRule {
  return { ...rule, check: (block, stack) => (block.kind === "resource" ? rule.check(block, stack) : []) };
}

/** The launch template block an instance is launched from, when it is one of this stack's. */
export function launchTemplateOf(block: SynthesizedBlock, stack: StackView): SynthesizedBlock | undefined {
  const [address] = launchTemplateAddresses(block.attributes);
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

/** What an IMDS rule requires of one metadata_options attribute. */
export interface ImdsOptionRequirement {
  /** The metadata_options attribute, e.g. "http_tokens". */
  readonly option: string;
  readonly required: unknown;
  /** What an unset attribute means, e.g. "the provider default allows IMDSv1". */
  readonly unset: string;
}

/**
 * A rule that every instance and launch template of the stack sets one metadata_options attribute
 * to one value (instances that take their options from one of the stack's launch templates are
 * judged there; disabled IMDS passes).
 */
export function imdsOptionRule(rule: Omit<SecurityRule, "check">, { option, required, unset }: ImdsOptionRequirement): SecurityRule {
  return {
    ...rule,
    check(block, stack) {
      const options = imdsOptionsToCheck(block, stack);
      if (!options || options[option] === required) return [];
      return [`metadata_options.${option} is ${options[option] === undefined ? `unset (${unset})` : JSON.stringify(options[option])}`];
    },
  };
}

/**
 * One address-based ingress source a block defines: where it is written (e.g. "ingress.0.cidr_blocks.1",
 * "cidr_ipv4") and what it admits. Sources that name another security group are not listed.
 */
export interface IngressSource {
  readonly path: string;
  readonly kind: "ipv4" | "ipv6" | "prefix-list";
  readonly value: string;
}

/** Source attributes of a group's inline ingress and of an aws_security_group_rule. */
const RULE_SOURCE_KEYS = [["cidr_blocks", "ipv4"], ["ipv6_cidr_blocks", "ipv6"], ["prefix_list_ids", "prefix-list"]] as const;
/** Source attributes of an aws_vpc_security_group_ingress_rule. */
const VPC_RULE_SOURCE_KEYS = [["cidr_ipv4", "ipv4"], ["cidr_ipv6", "ipv6"], ["prefix_list_id", "prefix-list"]] as const;

/** The ingress sources one block defines: a group's inline rules, or an ingress rule resource; none for anything else. */
export function ingressSources(block: SynthesizedBlock): IngressSource[] {
  const a = block.attributes;
  const sourcesOf = (prefix: string, rule: Record<string, unknown>, keys: typeof RULE_SOURCE_KEYS | typeof VPC_RULE_SOURCE_KEYS) =>
    keys.flatMap(([key, kind]) => stringList(rule[key]).map((value, i) => ({ path: `${prefix}${key}${Array.isArray(rule[key]) ? `.${i}` : ""}`, kind, value })));
  switch (block.type) {
    case "aws_security_group":
    case "aws_default_security_group":
      return nestedBlocks(a.ingress).flatMap((rule, i) => sourcesOf(`ingress.${i}.`, rule, RULE_SOURCE_KEYS));
    case "aws_vpc_security_group_ingress_rule":
      return sourcesOf("", a, VPC_RULE_SOURCE_KEYS);
    case "aws_security_group_rule":
      return a.type === "ingress" ? sourcesOf("", a, RULE_SOURCE_KEYS) : [];
    default:
      return [];
  }
}
