/**
 * The site as templates, constructs and the cost model read it: every address, URL and name that
 * follows from the validated config, derived here once, so no two places compute the same fact.
 */
import type { SiteConfig } from "./schema.js";
import { amazonDnsAddress, nthAddress, parseIpv4Cidr } from "../lib/net.js";

/** Every AWS name and Name tag starts with it, so the lab's resources sort together in the console. */
const NAME_PREFIX = "deathstar";

/** The name of a lab resource: `resourceName("bastion", "cache")` is "deathstar-bastion-cache". */
export function resourceName(...parts: readonly string[]): string {
  return [NAME_PREFIX, ...parts].join("-");
}

/**
 * The registry cache bucket's name up to the account id, e.g. "deathstar-registry-cache-eu-west-1-":
 * the stack appends data.aws_caller_identity's account id, the bastion's boot script the one its
 * instance identity document names. Account and region make it unique without a random suffix.
 */
export function cacheBucketPrefix(region: string): string {
  return `${resourceName("registry-cache", region)}-`;
}

/** `network.dnsServers` entry that stands for the bastion's Pi-hole (`bastion.privateIp`). */
export const BASTION_DNS_SERVER = "bastion";
/** The VPC resolver: DHCP options take this name literally; Pi-hole needs its address (VPC base + 2). */
export const AMAZON_PROVIDED_DNS = "AmazonProvidedDNS";

/** matchbox's selector-less group, of every machine no other group selects. */
export const MATCHBOX_DEFAULT_GROUP = "default";

/** A Talos node's name as Kubernetes and matchbox know it: the first node is the control-plane endpoint. */
export function talosNodeName(index: number): string {
  return `talos-${index + 1}`;
}

/** One Talos node: `talos.nodeIps[index]` and the names derived from its position. */
export interface TalosNodeView {
  readonly index: number;
  /** Hostname, matchbox group and local DNS name, e.g. "talos-1". */
  readonly name: string;
  /** EC2 Name tag, e.g. "deathstar-talos-1". */
  readonly instanceName: string;
  /** Its fixed private address. */
  readonly address: string;
}

/** The derived facts of one site. */
export interface SiteView {
  /** The bastion's fixed address on the private subnet (its persistent ENI): Pi-hole, matchbox, caches. */
  readonly bastionAddress: string;
  /** Amazon-provided DNS, the VPC network address plus two. */
  readonly amazonDns: string;
  /** The VPC router of the public subnet (its first host address). */
  readonly publicSubnetRouter: string;
  /** The VPC router of the private subnet. */
  readonly privateSubnetRouter: string;
  /** `network.dnsServers` for the DHCP option set: the bastion token resolved, AmazonProvidedDNS kept by name. */
  readonly dhcpDnsServers: readonly string[];
  /** Pi-hole's upstream resolvers (`services.dnsUpstreams`) with AmazonProvidedDNS resolved to its address. */
  readonly piholeUpstreams: readonly string[];
  /** matchbox's HTTP base URL on the bastion, as iPXE and dnsmasq hand it out. */
  readonly matchboxUrl: string;
  /** The Talos nodes, in launch order. */
  readonly nodes: readonly TalosNodeView[];
}

const views = new WeakMap<Readonly<SiteConfig>, SiteView>();

/** The derived view of a validated config, computed on first use and kept with the config object. */
export function siteView(config: Readonly<SiteConfig>): SiteView {
  let view = views.get(config);
  if (!view) {
    view = deriveSiteView(config);
    views.set(config, view);
  }
  return view;
}

function deriveSiteView(config: Readonly<SiteConfig>): SiteView {
  const bastionAddress = config.bastion.privateIp;
  const amazonDns = amazonDnsAddress(parseIpv4Cidr(config.network.vpcCidr)!);
  const router = (cidr: string) => nthAddress(parseIpv4Cidr(cidr)!, 1);
  return Object.freeze({
    bastionAddress,
    amazonDns,
    publicSubnetRouter: router(config.network.publicSubnet.cidr),
    privateSubnetRouter: router(config.network.privateSubnet.cidr),
    dhcpDnsServers: Object.freeze(config.network.dnsServers.map((server) => (server === BASTION_DNS_SERVER ? bastionAddress : server))),
    piholeUpstreams: Object.freeze(config.services.dnsUpstreams.map((server) => (server === AMAZON_PROVIDED_DNS ? amazonDns : server))),
    matchboxUrl: `http://${bastionAddress}:${config.services.matchboxPort}`,
    nodes: Object.freeze(
      config.talos.nodeIps.map((address, index) => {
        const name = talosNodeName(index);
        return Object.freeze({ index, name, instanceName: resourceName(name), address });
      }),
    ),
  });
}
