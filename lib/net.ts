/**
 * IPv4/IPv6 address arithmetic for config validation and for deriving addresses (Amazon DNS, router).
 * Pure functions, no dependencies: a CIDR is parsed once and compared as integers.
 */

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  readonly prefix: number;
  /** Number of addresses in the block. */
  readonly size: number;
}

const IPV4_PATTERN = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpv4(text: string): boolean {
  return IPV4_PATTERN.test(text);
}

export function ipv4ToInt(text: string): number {
  if (!isIpv4(text)) throw new Error(`not an IPv4 address: ${text}`);
  return text.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function intToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Parses `a.b.c.d/n`; returns undefined when malformed or when host bits are set (AWS rejects those). */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!match || !isIpv4(match[1]!)) return undefined;
  const prefix = Number(match[2]);
  if (prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const network = ipv4ToInt(match[1]!);
  if (network % size !== 0) return undefined;
  return { network, prefix, size };
}

export function cidrContainsIp(cidr: Ipv4Cidr, ip: string): boolean {
  const value = ipv4ToInt(ip);
  return value >= cidr.network && value < cidr.network + cidr.size;
}

export function cidrContainsCidr(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return inner.network >= outer.network && inner.network + inner.size <= outer.network + outer.size;
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.network < b.network + b.size && b.network < a.network + a.size;
}

/** The n-th address of a block (negative n counts from the end: -1 is the broadcast address). */
export function nthAddress(cidr: Ipv4Cidr, n: number): string {
  return intToIpv4(n >= 0 ? cidr.network + n : cidr.network + cidr.size + n);
}

/**
 * AWS reserves the first four addresses and the last one of every subnet
 * (network, VPC router, Amazon DNS, future use, broadcast).
 */
export function awsReservedAddresses(cidr: Ipv4Cidr): string[] {
  return [0, 1, 2, 3, -1].map((n) => nthAddress(cidr, n));
}

/** Amazon-provided DNS: the VPC network address plus two. */
export function amazonDnsAddress(vpc: Ipv4Cidr): string {
  return nthAddress(vpc, 2);
}

/** A single IPv6 host as `addr/128`; accepts compressed forms, rejects IPv4 and any other prefix. */
export function isIpv6HostCidr(text: string): boolean {
  const match = /^([0-9a-fA-F:]+)\/128$/.exec(text);
  if (!match) return false;
  const address = match[1]!;
  const halves = address.split("::");
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === "" ? [] : half.split(":")));
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? groups.length < 8 : groups.length === 8;
}
