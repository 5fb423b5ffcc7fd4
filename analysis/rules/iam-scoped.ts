import { parsePolicy, policyDocumentStatements, type PolicyStatement } from "./policy-document.js";
import type { SecurityRule } from "./rule.js";
import { nestedBlocks, type SynthesizedBlock } from "../synthesized.js";

/**
 * Actions AWS offers no resource-level permissions for: they only work with "Resource": "*".
 * Each entry is an exact action or a prefix ending in "*"; keep this list short and sourced from
 * the Service Authorization Reference ("Resource types" column empty).
 */
export const UNSCOPABLE_ACTIONS: readonly { readonly action: string; readonly reason: string }[] = [
  { action: "ec2:Describe*", reason: "EC2 Describe* calls have no resource types; they filter by request parameters instead" },
  { action: "autoscaling:Describe*", reason: "Auto Scaling Describe* calls have no resource types" },
  { action: "ssm:DescribeParameters", reason: "lists parameter metadata only and has no resource types (values need ssm:GetParameter, which is scoped)" },
  { action: "ssmmessages:*", reason: "Session Manager channels (Create/OpenControlChannel, Create/OpenDataChannel) have no resource types" },
  { action: "ec2messages:*", reason: "the SSM agent's message channel has no resource types" },
  { action: "sts:GetCallerIdentity", reason: "needs no permission at all and has no resource type; listed so a policy may name it" },
];

export function isUnscopableAction(action: string): boolean {
  const wanted = action.toLowerCase();
  return UNSCOPABLE_ACTIONS.some(({ action: allowed }) => {
    const entry = allowed.toLowerCase();
    if (wanted === entry) return true;
    if (!entry.endsWith("*")) return false;
    // A wildcard in the policy ("ec2:*", "ec2:Describe*Attr*") must not slip through a narrower entry.
    const prefix = entry.slice(0, -1);
    return wanted.startsWith(prefix) && !wanted.slice(prefix.length).includes("*");
  });
}

/** "*" and ARNs with a wildcard service ("arn:aws:*:...") name no resource in particular. */
function isUnscoped(resource: string): boolean {
  return resource.trim() === "*" || /^arn:[^:]*:\*:/.test(resource);
}

function statementProblems(statement: PolicyStatement, where: string): string[] {
  if (statement.effect.toLowerCase() !== "allow") return [];
  const problems: string[] = [];
  if (statement.notActions.length > 0) problems.push(`${where} statement ${statement.label} allows NotAction (every action but a few)`);
  if (statement.notResources.length > 0) problems.push(`${where} statement ${statement.label} allows NotResource (every resource but a few)`);
  if (statement.resources.some(isUnscoped)) {
    const unscopable = statement.actions.filter((action) => !isUnscopableAction(action));
    if (unscopable.length > 0) problems.push(`${where} statement ${statement.label} allows ${unscopable.join(", ")} on "*"`);
  }
  return problems;
}

/** [where, policy attribute value] of every permission policy a block carries (trust policies excluded). */
function policies(block: SynthesizedBlock): [string, unknown][] {
  const a = block.attributes;
  switch (block.type) {
    case "aws_iam_policy":
    case "aws_iam_role_policy":
    case "aws_iam_user_policy":
    case "aws_iam_group_policy":
      return [["policy", a.policy]];
    case "aws_iam_role":
      return nestedBlocks(a.inline_policy).map((inline, i) => [`inline_policy.${i}.policy`, inline.policy] as [string, unknown]);
    default:
      return [];
  }
}

export const iamScoped: SecurityRule = {
  id: "DS-IAM-SCOPED",
  explanation: 'Every Allow statement names its resources: "*" only for actions AWS cannot scope (UNSCOPABLE_ACTIONS, each with its reason), no NotAction/NotResource.',
  fix: "Scope the statement to ARNs (constructs/arns.ts builds them) or a tag condition; if AWS really has no resource type for the action, add it to UNSCOPABLE_ACTIONS in analysis/rules/iam-scoped.ts with the reason.",
  check(block) {
    if (block.kind === "data" && block.type === "aws_iam_policy_document") {
      return policyDocumentStatements(block.attributes).flatMap((statement) => statementProblems(statement, "policy document"));
    }
    if (block.kind !== "resource") return [];
    return policies(block).flatMap(([where, value]) => {
      const parsed = parsePolicy(value);
      if (parsed.kind === "delegated") return [];
      if (parsed.kind === "unreadable") return [`${where} cannot be analyzed (${parsed.reason}); write it as JSON text (JSON.stringify of the policy, as ScheduledInstance does) or build it with aws_iam_policy_document`];
      return parsed.statements.flatMap((statement) => statementProblems(statement, where));
    });
  },
};
