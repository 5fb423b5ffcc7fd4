import { resourceRule } from "./rule.js";
import { nestedBlocks, stringList, type SynthesizedBlock } from "../synthesized.js";

/** Any CIDR with prefix length 0 ("0.0.0.0/0", "::/0", "0::/0") matches every address. */
export function isOpenCidr(cidr: string): boolean {
  return /\/0+$/.test(cidr.trim());
}

/** [path, cidr] of every ingress source a block defines. */
function ingressSources(block: SynthesizedBlock): [string, string][] {
  const a = block.attributes;
  const cidrsOf = (prefix: string, rule: Record<string, unknown>, keys: readonly string[]) =>
    keys.flatMap((key) => stringList(rule[key]).map((cidr, i) => [`${prefix}${key}${Array.isArray(rule[key]) ? `.${i}` : ""}`, cidr] as [string, string]));
  switch (block.type) {
    case "aws_security_group":
    case "aws_default_security_group":
      return nestedBlocks(a.ingress).flatMap((rule, i) => cidrsOf(`ingress.${i}.`, rule, ["cidr_blocks", "ipv6_cidr_blocks"]));
    case "aws_vpc_security_group_ingress_rule":
      return cidrsOf("", a, ["cidr_ipv4", "cidr_ipv6"]);
    case "aws_security_group_rule":
      return a.type === "ingress" ? cidrsOf("", a, ["cidr_blocks", "ipv6_cidr_blocks"]) : [];
    default:
      return [];
  }
}

/** Nothing in this lab serves the internet: operators come in over SSM, Tailscale or a /128. */
export const noOpenIngress = resourceRule({
  id: "DS-SG-NO-OPEN-INGRESS",
  explanation: "No security group accepts traffic from 0.0.0.0/0 or ::/0; every ingress names its source (a /128, a subnet or another group).",
  fix: "Replace the /0 source with the operator's /128 (access.operatorSshSources), a subnet CIDR or referenced_security_group_id; use SSM Session Manager or Tailscale for remote access.",
  check: (block) =>
    ingressSources(block)
      .filter(([, cidr]) => isOpenCidr(cidr))
      .map(([path, cidr]) => `${path} allows ingress from ${cidr}`),
});
