import { ingressSources, resourceRule, type IngressSource } from "./rule.js";
import { isTrue, literalString, nestedBlocks, referencedAddress, stringList, type StackView, type SynthesizedBlock } from "../synthesized.js";
import { cidrContainsCidr, parseIpv4Cidr } from "../../lib/net.js";

const GROUP_TYPES = new Set(["aws_security_group", "aws_default_security_group"]);

/** The interfaces of a block that carry a public IPv4, each with the security groups it has (references or ids). */
function publicInterfaces(block: SynthesizedBlock, stack: StackView): { readonly what: string; readonly groups: string[] }[] {
  const a = block.attributes;
  const instanceGroups = (attributes: Readonly<Record<string, unknown>>) => [...stringList(attributes.vpc_security_group_ids), ...stringList(attributes.security_groups)];
  switch (block.type) {
    case "aws_launch_template":
      return nestedBlocks(a.network_interfaces).flatMap((ni, i) =>
        isTrue(ni.associate_public_ip_address)
          ? [{ what: `network_interfaces.${i} (public IPv4)`, groups: stringList(ni.security_groups).length > 0 ? stringList(ni.security_groups) : stringList(a.vpc_security_group_ids) }]
          : [],
      );
    case "aws_instance":
      return isTrue(a.associate_public_ip_address) ? [{ what: "its primary interface (public IPv4)", groups: instanceGroups(a) }] : [];
    case "aws_eip": {
      const eni = referencedAddress(a.network_interface);
      const instance = referencedAddress(a.instance);
      if (eni) return [{ what: `${eni} (Elastic IP)`, groups: stringList(stack.block(eni)?.attributes.security_groups) }];
      if (instance) return [{ what: `${instance} (Elastic IP)`, groups: instanceGroups(stack.block(instance)?.attributes ?? {}) }];
      return [];
    }
    default:
      return [];
  }
}

/** Every ingress source of a group: its inline rules and the standalone rule resources attached to it, each path led by its address. */
function groupIngressSources(group: SynthesizedBlock, stack: StackView): IngressSource[] {
  const attached = stack.blocks.filter((b) => b.kind === "resource" && referencedAddress(b.attributes.security_group_id) === group.address);
  return [group, ...attached].flatMap((block) => ingressSources(block).map((source) => ({ ...source, path: `${block.address} ${source.path}` })));
}

/**
 * The IPv4 blocks the stack knows to be inside the VPC `vpcId` (as written: a reference or an id):
 * the VPC's own block, its secondary blocks, and the blocks of its subnets.
 */
function vpcBlocks(vpcId: unknown, stack: StackView): string[] {
  if (typeof vpcId !== "string") return [];
  const vpc = referencedAddress(vpcId);
  const own = vpc?.startsWith("aws_vpc.") ? [stack.block(vpc)?.attributes.cidr_block] : [];
  const inVpc = stack.blocks.filter((b) => b.kind === "resource" && (b.type === "aws_subnet" || b.type === "aws_vpc_ipv4_cidr_block_association") && b.attributes.vpc_id === vpcId);
  return [...own, ...inVpc.map((b) => b.attributes.cidr_block)].flatMap((cidr) => (literalString(cidr) ? [cidr as string] : []));
}

/**
 * RFC 1918's private blocks. When the stack cannot see the VPC's blocks (a VPC from an existing
 * module), a source inside them still cannot be the internet: no internet gateway routes a private
 * source address to an instance.
 */
const PRIVATE_IPV4_BLOCKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;

/** Why a source admits traffic from outside the group's VPC, or undefined when it does not. */
function outsideVpc(source: IngressSource, insideBlocks: readonly string[]): string | undefined {
  switch (source.kind) {
    case "ipv6":
      // A VPC's IPv6 block is Amazon's pick, unknown at synth time: no IPv6 source can be shown to be inside.
      return `admits ${source.value} (IPv6: not provably inside the VPC)`;
    case "prefix-list":
      return `admits prefix list ${source.value} (its entries are not known at synth time)`;
    case "ipv4": {
      const cidr = parseIpv4Cidr(source.value);
      const contains = (block: string) => {
        const outer = parseIpv4Cidr(block);
        return outer !== undefined && cidr !== undefined && cidrContainsCidr(outer, cidr);
      };
      if (insideBlocks.some(contains)) return undefined;
      if (insideBlocks.length === 0) {
        return PRIVATE_IPV4_BLOCKS.some(contains) ? undefined : `admits ${source.value}, outside the private address blocks (the VPC's own are not known to this stack)`;
      }
      return `admits ${source.value}, outside the VPC's blocks (${insideBlocks.join(", ")})`;
    }
  }
}

function problems(block: SynthesizedBlock, stack: StackView): string[] {
  return publicInterfaces(block, stack).flatMap(({ what, groups }) => {
    // No group named: EC2 gives the interface its VPC's default group, judged when this stack manages it.
    const defaults = stack.blocks.filter((b) => b.kind === "resource" && b.type === "aws_default_security_group").map((b) => `\${${b.address}.id}`);
    if (groups.length === 0 && defaults.length === 0) return [`${what} names no security group, so the VPC's default group applies, which this stack does not manage; give it an egress-only group`];
    return (groups.length > 0 ? groups : defaults).flatMap((ref) => {
      const address = referencedAddress(ref);
      const group = address === undefined ? undefined : stack.block(address);
      if (!group || !GROUP_TYPES.has(group.type)) return [`${what} has security group ${ref}, which is not one of this stack's: its ingress cannot be checked`];
      const inside = vpcBlocks(group.attributes.vpc_id, stack);
      return groupIngressSources(group, stack).flatMap((source) => {
        const why = outsideVpc(source, inside);
        return why ? [`${what} has ${group.address}, whose ${source.path} ${why}`] : [];
      });
    });
  });
}

/** What has a public IPv4 is reachable from the whole internet unless its groups admit nothing from outside the VPC. */
export const publicIpNoInternetIngress = resourceRule({
  id: "DS-NET-PUBLIC-IP-NO-INTERNET-INGRESS",
  explanation:
    "An interface with a public IPv4 (launch template, instance, Elastic IP) has only security groups of this stack whose ingress comes from inside its VPC (its blocks, its subnets, other groups; private blocks where the VPC's are not known to the stack): nothing on the internet can open a connection to it.",
  fix: "Give the public interface an egress-only group (replies to its own and masqueraded connections need no ingress rule), and serve the VPC on another interface; admit only VPC blocks or groups.",
  check: problems,
});
