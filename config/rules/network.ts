/**
 * Cross-field rules about the lab's addresses: the VPC and its subnets as AWS allows them, and
 * every fixed host address inside its subnet and clear of the addresses AWS reserves.
 */
import { awsReservedAddresses, cidrContainsCidr, cidrContainsIp, cidrsOverlap, intToIpv4, isIpv4, nthAddress, parseIpv4Cidr, type Ipv4Cidr } from "../../lib/net.js";
import type { SiteConfig } from "../schema.js";
import type { Problem } from "./problem.js";

/** Rule subnetsFitVpc: a /16-/28 VPC holding two disjoint subnets of at most /28 (AWS limits). */
export function subnetsFitVpc(c: SiteConfig): Problem[] {
  const problems: Problem[] = [];
  const vpc = parseIpv4Cidr(c.network.vpcCidr);
  const pub = parseIpv4Cidr(c.network.publicSubnet.cidr);
  const priv = parseIpv4Cidr(c.network.privateSubnet.cidr);
  if (vpc && (vpc.prefix < 16 || vpc.prefix > 28)) problems.push({ path: ["network", "vpcCidr"], message: "VPC prefix must be between /16 and /28 (AWS limit)" });
  for (const [key, subnet] of [["publicSubnet", pub], ["privateSubnet", priv]] as const) {
    if (!vpc || !subnet) continue;
    if (!cidrContainsCidr(vpc, subnet)) problems.push({ path: ["network", key, "cidr"], message: `must lie inside the VPC ${c.network.vpcCidr}` });
    if (subnet.prefix > 28) problems.push({ path: ["network", key, "cidr"], message: "subnet prefix must be /28 or larger (AWS limit)" });
  }
  if (pub && priv && cidrsOverlap(pub, priv)) {
    // The example is the first block of the private subnet's size after the public one, if the VPC holds it.
    const next = Math.ceil((pub.network + pub.size) / priv.size) * priv.size;
    const example = vpc && next + priv.size <= vpc.network + vpc.size ? `, e.g. ${intToIpv4(next)}/${priv.prefix}` : "";
    problems.push({ path: ["network", "privateSubnet", "cidr"], message: `overlaps the public subnet ${c.network.publicSubnet.cidr}; pick a disjoint block${example}` });
  }
  return problems;
}

/** A fixed host address, its field, its subnet and the host number it usually takes (bastion .140, nodes .11-.13, ...). */
interface FixedHost {
  readonly path: (string | number)[];
  readonly ip: string;
  readonly subnet: "public" | "private";
  readonly example: number;
}

function fixedHosts(c: SiteConfig): FixedHost[] {
  const { dnsmasq } = c.bastion;
  const dhcpHosts = dnsmasq.dhcp
    ? (["rangeStart", "rangeEnd", "router"] as const).flatMap((key): FixedHost[] => {
        const ip = dnsmasq[key];
        return ip ? [{ path: ["bastion", "dnsmasq", key], ip, subnet: "private", example: { rangeStart: 160, rangeEnd: 239, router: 249 }[key] }] : [];
      })
    : [];
  return [
    { path: ["bastion", "privateIp"], ip: c.bastion.privateIp, subnet: "private", example: 140 },
    { path: ["network", "natInstance", "eniAddress"], ip: c.network.natInstance.eniAddress, subnet: "public", example: 10 },
    ...c.talos.nodeIps.map((ip, i): FixedHost => ({ path: ["talos", "nodeIps", i], ip, subnet: "private", example: 11 + i })),
    ...dhcpHosts,
  ];
}

/** Rule hostsInSubnets: every fixed address lies in its subnet and is not one of the five AWS reserves. */
export function hostsInSubnets(c: SiteConfig): Problem[] {
  const subnets: Record<FixedHost["subnet"], [Ipv4Cidr | undefined, string]> = {
    public: [parseIpv4Cidr(c.network.publicSubnet.cidr), c.network.publicSubnet.cidr],
    private: [parseIpv4Cidr(c.network.privateSubnet.cidr), c.network.privateSubnet.cidr],
  };
  return fixedHosts(c).flatMap(({ path, ip, subnet: name, example }): Problem[] => {
    const [subnet, cidr] = subnets[name];
    if (!subnet || !isIpv4(ip)) return [];
    if (!cidrContainsIp(subnet, ip)) return [{ path, message: `${ip} is outside the ${name} subnet ${cidr}` }];
    if (!awsReservedAddresses(subnet).includes(ip)) return [];
    const host = nthAddress(subnet, example < subnet.size - 1 ? example : 4 + (example % (subnet.size - 5)));
    return [{ path, message: `${ip} is reserved by AWS (first four and last address of ${cidr}); use a host such as ${host}` }];
  });
}

/** Rule nodeIpsDistinct: each node has an address of its own, not the bastion's and not another node's. */
export function nodeIpsDistinct(c: SiteConfig): Problem[] {
  return c.talos.nodeIps.flatMap((ip, i): Problem[] => [
    ...(ip === c.bastion.privateIp ? [{ path: ["talos", "nodeIps", i], message: `${ip} is the bastion's address` }] : []),
    ...(c.talos.nodeIps.indexOf(ip) !== i ? [{ path: ["talos", "nodeIps", i], message: `${ip} is listed twice` }] : []),
  ]);
}

/** Rule dhcpSettingsComplete: a DHCP server needs its pool and the router it hands out. */
export function dhcpSettingsComplete(c: SiteConfig): Problem[] {
  if (!c.bastion.dnsmasq.dhcp) return [];
  return (["rangeStart", "rangeEnd", "router"] as const)
    .filter((key) => !c.bastion.dnsmasq[key])
    .map((key) => ({ path: ["bastion", "dnsmasq", key], message: "is required when bastion.dnsmasq.dhcp is true" }));
}
