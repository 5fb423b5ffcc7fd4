import { resourceRule } from "./rule.js";
import { isTrue, launchTemplateAddresses, nestedBlocks, referencedAddress, stringList, type StackView, type SynthesizedBlock } from "../synthesized.js";

/** Does this route (aws_route or an inline route block) send traffic to an internet gateway? */
function routesToInternetGateway(route: Record<string, unknown>): boolean {
  return referencedAddress(route.gateway_id)?.startsWith("aws_internet_gateway.") === true;
}

/**
 * A subnet of this stack is public when its route table has a route to an internet gateway;
 * every other subnet (no association, NAT or no default route) is private. Subnets given as
 * literal ids are not ours to judge and count as neither.
 */
export function isPrivateSubnet(stack: StackView, subnetRef: unknown): boolean {
  const subnet = referencedAddress(subnetRef);
  if (!subnet?.startsWith("aws_subnet.") || !stack.block(subnet)) return false;
  const tables = stack.blocks
    .filter((b) => b.type === "aws_route_table_association" && referencedAddress(b.attributes.subnet_id) === subnet)
    .map((b) => referencedAddress(b.attributes.route_table_id));
  const publicTable = (table: string | undefined) =>
    table !== undefined &&
    (nestedBlocks(stack.block(table)?.attributes.route).some(routesToInternetGateway) ||
      stack.blocks.some((b) => b.type === "aws_route" && referencedAddress(b.attributes.route_table_id) === table && routesToInternetGateway(b.attributes)));
  return !tables.some(publicTable);
}

function publicIpProblems(block: SynthesizedBlock, stack: StackView): string[] {
  const a = block.attributes;
  const inPrivate = (ref: unknown) => isPrivateSubnet(stack, ref);
  switch (block.type) {
    case "aws_subnet":
      return isTrue(a.map_public_ip_on_launch) && inPrivate(`\${${block.address}.id}`)
        ? ["map_public_ip_on_launch is true on a private subnet"]
        : [];
    case "aws_instance":
      return isTrue(a.associate_public_ip_address) && inPrivate(a.subnet_id) ? [`associate_public_ip_address is true in private subnet ${a.subnet_id}`] : [];
    case "aws_launch_template":
      return nestedBlocks(a.network_interfaces).flatMap((ni, i) =>
        isTrue(ni.associate_public_ip_address) && inPrivate(ni.subnet_id) ? [`network_interfaces.${i} gets a public IP in private subnet ${ni.subnet_id}`] : [],
      );
    case "aws_autoscaling_group": {
      const privateSubnets = stringList(a.vpc_zone_identifier).filter(inPrivate);
      if (privateSubnets.length === 0) return [];
      return launchTemplateAddresses(block.attributes)
        .filter((template) => nestedBlocks(stack.block(template)?.attributes.network_interfaces).some((ni) => isTrue(ni.associate_public_ip_address)))
        .map((template) => `launches ${template}, which associates a public IP, into private subnet ${privateSubnets.join(", ")}`);
    }
    case "aws_eip": {
      const target = referencedAddress(a.instance) ?? referencedAddress(a.network_interface);
      const subnet = target ? stack.block(target)?.attributes.subnet_id : undefined;
      return target && inPrivate(subnet) ? [`attaches an Elastic IP to ${target} in private subnet ${subnet}`] : [];
    }
    case "aws_nat_gateway":
      return a.connectivity_type !== "private" && inPrivate(a.subnet_id) ? [`is a public NAT gateway placed in private subnet ${a.subnet_id}`] : [];
    default:
      return [];
  }
}

/** The private subnet is reachable only through the bastion, SSM or Tailscale, never directly. */
export const noPublicIpInPrivateSubnet = resourceRule({
  id: "DS-NET-NO-PUBLIC-IP-PRIVATE",
  explanation: "Nothing in a private subnet (one without a route to the internet gateway) gets a public IPv4 or an Elastic IP.",
  fix: "Drop associate_public_ip_address / map_public_ip_on_launch / the Elastic IP, or move the resource to the public subnet; private instances reach the internet through NAT.",
  check: publicIpProblems,
});
