/**
 * Field shapes of the site config: one zod type per kind of value (addresses, ports, cron, image
 * references, names), each with the message that says what a valid value looks like. The tree
 * (config/schema.ts) is built from these; cross-field rules live in config/rules/.
 */
import { z } from "zod";
import { cronProblems, timeZoneProblem } from "../lib/cron.js";
import { isIpv4, isIpv6HostCidr, parseIpv4Cidr } from "../lib/net.js";

/** One DNS label: 1-63 lowercase letters, digits and inner dashes. */
const DNS_LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";

export const ipv4 = z.string().max(15).refine(isIpv4, { message: 'must be a dotted IPv4 address, e.g. "10.20.13.140"' });
export const ipv4Cidr = z
  .string()
  .max(18)
  .refine((v) => parseIpv4Cidr(v) !== undefined, {
    message: 'must be an IPv4 CIDR with no host bits set, e.g. "10.20.13.0/24"',
  });
export const port = z.number().int().min(1024, "must be 1024 or higher (ports below 1024 are reserved for DNS, DHCP, TFTP and SSH)").max(65535);
export const cron = z
  .string()
  .max(100)
  .superRefine((value, ctx) => {
    for (const problem of cronProblems(value)) ctx.addIssue({ code: "custom", message: `cron ${problem}` });
  });
export const timeZone = z
  .string()
  .max(64)
  .superRefine((value, ctx) => {
    const problem = timeZoneProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
/** Container image reference, pinned by tag or digest; `latest` and untagged references are rejected. */
export const imageRef = z
  .string()
  .max(255)
  .regex(
    /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/,
    'must be an image reference such as "registry:2.8.3" or "quay.io/poseidon/matchbox:v0.11.0"',
  )
  .refine((v) => /(:[A-Za-z0-9_][A-Za-z0-9_.-]*|@sha256:[a-f0-9]{64})$/.test(v.replace(/^[^/]*:\d+\//, "")), {
    message: "must be pinned by a tag or digest (add :<tag>)",
  })
  .refine((v) => !/:latest$/.test(v), { message: 'must not use the moving "latest" tag; pin a version' });
export const ssmParameterName = z
  .string()
  .max(1011)
  .regex(/^\/[A-Za-z0-9_.\-/]+$/, 'must be an SSM parameter name starting with "/", e.g. "/deathstar/pihole/web-password"')
  .refine((v) => !v.split("/").includes(".."), { message: 'must not contain ".." path segments' });
export const dnsName = z
  .string()
  .max(253)
  .regex(new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`), 'must be a lowercase DNS name, e.g. "lab.internal"');
export const label = z.string().min(1).max(63).regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be lowercase letters, digits and inner dashes");
/** A MAC address as dnsmasq and matchbox spell it: six lowercase hex pairs separated by colons. */
export const macAddress = z.string().max(17).regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, 'must be a MAC address of six lowercase hex pairs separated by colons, e.g. "b8:27:eb:12:34:56"');
export const instanceType = z.string().max(32).regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type such as "t4g.small"');
/** Characters AWS allows in tags across services: letters and digits of any script, spaces, _ . : / = + - @. */
export const TAG_TEXT = /^[\p{L}\p{M}\p{N} _.:/=+@-]*$/u;
export const amiId = z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id such as "ami-0123456789abcdef0"');

/**
 * Pi-hole's major version from its image tag: date tags before 2025 ("2024.07.0") are v5, the
 * 2025.02.0 release and later are v6. Undefined for a digest or any other tag form.
 */
export function piholeImageMajorVersion(image: string): number | undefined {
  const year = /:(\d{4})\.\d{2}\.\d+$/.exec(image)?.[1];
  if (year === undefined) return undefined;
  return Number(year) >= 2025 ? 6 : 5;
}

/** A single IPv6 host as "<address>/128" (operator and router sources). */
export const ipv6Host = z.string().max(43).refine(isIpv6HostCidr, { message: 'must be a single IPv6 host as "<address>/128", e.g. "2001:db8::10/128"' });

/** Upstream URL a registry cache proxies: https, a host name or IPv4 address, an optional port, no path. */
export const httpsUpstream = z
  .string()
  .max(255)
  .regex(/^https:\/\/[a-z0-9.-]+(:\d+)?$/, 'must be an https:// URL with no path, e.g. "https://quay.io"')
  .superRefine((value, ctx) => {
    const [, host = "", port] = /^https:\/\/([^:]*)(?::(.*))?$/.exec(value) ?? [];
    if (!isHostName(host) && !isIpv4(host)) {
      ctx.addIssue({ code: "custom", message: 'host must be a DNS host name (lowercase labels of letters, digits and inner dashes) or an IPv4 address, e.g. "https://quay.io"' });
    }
    if (port !== undefined && !(/^[1-9]\d{0,4}$/.test(port) && Number(port) <= 65535)) {
      ctx.addIssue({ code: "custom", message: "port must be a number from 1 to 65535 (or left out for 443)" });
    }
  });

/** A DNS host name: dot-separated labels of 1-63 lowercase letters, digits and inner dashes, at most 253 characters. */
function isHostName(host: string): boolean {
  return host.length <= 253 && host.split(".").every((l) => new RegExp(`^${DNS_LABEL}$`).test(l)) && !/^\d+$/.test(host.split(".").at(-1)!);
}

/**
 * Why AWS would refuse `name` as a general purpose bucket name, beyond the length (3-63) and the
 * characters the schema checks first, or undefined
 * (docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
 */
export function s3BucketNameProblem(name: string): string | undefined {
  if (name.includes("..")) return "must not contain two adjacent dots";
  if (/(\.-|-\.)/.test(name)) return "must not have a dash next to a dot";
  if (isIpv4(name) || /^\d+\.\d+\.\d+\.\d+$/.test(name)) return "must not be formatted as an IP address";
  const prefix = ["xn--", "sthree-", "amzn-s3-demo-"].find((p) => name.startsWith(p));
  if (prefix) return `must not start with "${prefix}" (reserved by AWS)`;
  const suffix = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"].find((p) => name.endsWith(p));
  if (suffix) return `must not end with "${suffix}" (reserved by AWS)`;
  return undefined;
}

/** A name OpenTofu accepts for a module, output or variable. */
export const hclIdentifier = z.string().max(64).regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'must be an OpenTofu identifier (letters, digits, "_" and "-", not starting with a digit)');
/** A path below the project root: relative, plain characters, no ".." segments. */
export const projectPath = z
  .string()
  .max(255)
  .regex(/^[A-Za-z0-9_.\-/]+$/, "must be a relative path of plain characters")
  .refine((v) => !v.startsWith("/") && !v.split("/").includes(".."), { message: 'must stay inside the project: relative, no ".." segments' });
