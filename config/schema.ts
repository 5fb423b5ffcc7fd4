/**
 * The site config: one zod schema for everything a site can set. Types come from the schema;
 * semantic rules (addresses that must nest, ports that must not collide, ...) run in `siteRules`
 * so every problem is reported at once with the path of the field that causes it.
 */
import { z } from "zod";
import { cronProblems, timeZoneProblem } from "./cron.js";
import {
  awsReservedAddresses,
  cidrContainsCidr,
  cidrContainsIp,
  cidrsOverlap,
  intToIpv4,
  isIpv4,
  isIpv6HostCidr,
  nthAddress,
  parseIpv4Cidr,
  type Ipv4Cidr,
} from "./net.js";
import { COZYSTACK_RELEASES } from "./cozystack.js";
import { AMAZON_PROVIDED_DNS, BASTION_DNS_SERVER } from "./site-view.js";
import { SITE_RULES } from "./rules.js";

// ---- Field shapes -------------------------------------------------------------------------------

const ipv4 = z.string().max(15).refine(isIpv4, { message: 'must be a dotted IPv4 address, e.g. "10.20.13.140"' });
const ipv4Cidr = z
  .string()
  .max(18)
  .refine((v) => parseIpv4Cidr(v) !== undefined, {
    message: 'must be an IPv4 CIDR with no host bits set, e.g. "10.20.13.0/24"',
  });
const port = z.number().int().min(1024, "must be 1024 or higher (ports below 1024 are reserved for DNS, DHCP, TFTP and SSH)").max(65535);
const cron = z
  .string()
  .max(100)
  .superRefine((value, ctx) => {
    for (const problem of cronProblems(value)) ctx.addIssue({ code: "custom", message: `cron ${problem}` });
  });
const timeZone = z
  .string()
  .max(64)
  .superRefine((value, ctx) => {
    const problem = timeZoneProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
/** Container image reference, pinned by tag or digest; `latest` and untagged references are rejected. */
const imageRef = z
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
const ssmParameterName = z
  .string()
  .max(1011)
  .regex(/^\/[A-Za-z0-9_.\-/]+$/, 'must be an SSM parameter name starting with "/", e.g. "/deathstar/pihole/web-password"')
  .refine((v) => !v.split("/").includes(".."), { message: 'must not contain ".." path segments' });
const dnsName = z
  .string()
  .max(253)
  .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a lowercase DNS name, e.g. "lab.internal"');
const label = z.string().min(1).max(63).regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be lowercase letters, digits and inner dashes");
const instanceType = z.string().max(32).regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type such as "t4g.small"');
/** Characters AWS allows in tags across services: letters and digits of any script, spaces, _ . : / = + - @. */
const TAG_TEXT = /^[\p{L}\p{M}\p{N} _.:/=+@-]*$/u;
const amiId = z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id such as "ami-0123456789abcdef0"');

/**
 * Pi-hole's major version from its image tag: date tags before 2025 ("2024.07.0") are v5, the
 * 2025.02.0 release and later are v6. Undefined for a digest or any other tag form.
 */
export function piholeImageMajorVersion(image: string): number | undefined {
  const year = /:(\d{4})\.\d{2}\.\d+$/.exec(image)?.[1];
  if (year === undefined) return undefined;
  return Number(year) >= 2025 ? 6 : 5;
}

// ---- Schema ---------------------------------------------------------------------------------------

const schedule = z.strictObject({
  /** 5-field cron in `timeZone`, e.g. "0 18 * * *". */
  start: cron,
  /** 5-field cron in `timeZone`, e.g. "0 23 * * *". */
  stop: cron,
  /** IANA name; "Europe/Dublin" follows daylight saving. */
  timeZone,
});

const registryCache = z.strictObject({
  /** The upstream registry's name as images spell it, e.g. "docker.io". */
  name: dnsName,
  /** Host port of this cache on the bastion, e.g. 5050. */
  port,
  /** Upstream URL the cache proxies, e.g. "https://registry-1.docker.io". */
  upstream: z
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
    }),
});

/** A DNS host name: dot-separated labels of 1-63 lowercase letters, digits and inner dashes, at most 253 characters. */
function isHostName(host: string): boolean {
  return host.length <= 253 && host.split(".").every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l)) && !/^\d+$/.test(host.split(".").at(-1)!);
}

/**
 * Why AWS would refuse `name` as a general purpose bucket name, beyond the length (3-63) and the
 * characters the schema checks first, or undefined
 * (docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
 */
function s3BucketNameProblem(name: string): string | undefined {
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
const hclIdentifier = z.string().max(64).regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'must be an OpenTofu identifier (letters, digits, "_" and "-", not starting with a digit)');
/** A path below the project root: relative, plain characters, no ".." segments. */
const projectPath = z
  .string()
  .max(255)
  .regex(/^[A-Za-z0-9_.\-/]+$/, "must be a relative path of plain characters")
  .refine((v) => !v.startsWith("/") && !v.split("/").includes(".."), { message: 'must stay inside the project: relative, no ".." segments' });

/** An element of a list output, e.g. 0 for `public_subnet_ids[0]`. */
const outputIndex = z.number().int().min(0).max(99);
/**
 * A module input that is another listed module's output, e.g. `{ fromModule: "vpc", output: "vpc_id" }`,
 * or one element of a list output: `{ fromModule: "vpc", output: "public_subnet_ids", index: 0 }`.
 */
const moduleOutputRef = z.strictObject({ fromModule: hclIdentifier, output: hclIdentifier, index: outputIndex.optional() });
/** One of a module's outputs, by name, or one element of a list output: `{ output: "public_subnet_ids", index: 0 }`. */
const moduleOutput = z.union([hclIdentifier, z.strictObject({ output: hclIdentifier, index: outputIndex })]);
export type ModuleOutput = z.infer<typeof moduleOutput>;
const inputScalar = z.union([z.string().max(1024), z.number(), z.boolean()]);

/** Inputs of our constructs an existing module can provide instead (module output names). */
export const EXISTING_FEEDS = {
  /**
   * The module owns the VPC and the public subnet, and either both the private subnet and its
   * route table, or neither (then the stack makes them inside the module's VPC).
   */
  network: ["vpcId", "publicSubnetId", "privateSubnetId", "privateRouteTableId"],
  /** The module owns bastion-sg and talos-nodes-sg and their rules (both or none). */
  securityGroups: ["bastionSecurityGroupId", "talosNodesSecurityGroupId"],
} as const;
export type ExistingFeed = (typeof EXISTING_FEEDS)[keyof typeof EXISTING_FEEDS][number];

const existingModule = z.strictObject({
  /** The module's name in the existing configuration: state addresses are `module.<name>.…`. */
  name: hclIdentifier,
  /** Directory of the module, relative to the project root, e.g. "legacy/modules/vpc". */
  source: projectPath,
  /** Module variables: literals, or `{ fromModule, output }` for another listed module's output. */
  inputs: z.record(hclIdentifier, z.union([moduleOutputRef, inputScalar, z.array(inputScalar).max(50), z.record(z.string().max(128), z.string().max(256))])),
  /** Which of our construct inputs this module's outputs provide: `{ vpcId: "vpc_id", ... }`. */
  outputs: z.strictObject(
    Object.fromEntries([...EXISTING_FEEDS.network, ...EXISTING_FEEDS.securityGroups].map((feed) => [feed, moduleOutput.optional()])) as Record<
      ExistingFeed,
      z.ZodOptional<typeof moduleOutput>
    >,
  ),
});

export const siteConfigSchema = z
  .strictObject({
    site: z.strictObject({
      /** Goes into the Site tag and resource names, e.g. "aws-eu-west-1". */
      name: label,
      /** "aws" synthesizes AWS resources; "home" renders only the netboot bundle. */
      kind: z.enum(["aws", "home"]),
    }),
    aws: z.strictObject({
      region: z.string().max(32).regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as "eu-west-1"'),
      availabilityZone: z.string().max(32).regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'must be an availability zone such as "eu-west-1a"'),
    }),
    /** CPU architecture of every instance: arm64 (Graviton) is the point of this lab. */
    architecture: z.enum(["arm64", "x86_64"]),
    network: z.strictObject({
      vpcCidr: ipv4Cidr,
      publicSubnet: z.strictObject({ cidr: ipv4Cidr }),
      privateSubnet: z.strictObject({ cidr: ipv4Cidr }),
      /**
       * Egress for the private subnet: "gateway" (managed NAT Gateway, ~$38.7/month always on),
       * "instance" (t4g.nano on the bastion's schedule) or "none".
       */
      nat: z.enum(["gateway", "instance", "none"]),
      natInstance: z.strictObject({
        instanceType,
        /** Fixed address of the persistent ENI the private route targets, in the public subnet. */
        eniAddress: ipv4,
      }),
      /** DHCP option set domain name, e.g. "eu-west-1.compute.internal". */
      domainName: dnsName,
      /**
       * DNS servers handed out by the VPC DHCP options, in order: addresses, "bastion" (the bastion's
       * Pi-hole at `bastion.privateIp`) and "AmazonProvidedDNS" (the VPC resolver).
       * @example ["bastion", "AmazonProvidedDNS"]
       */
      dnsServers: z.array(z.union([ipv4, z.literal(BASTION_DNS_SERVER), z.literal(AMAZON_PROVIDED_DNS)])).min(1).max(4),
    }),
    access: z.strictObject({
      /** Operator's IPv6 addresses for SSH, each a /128 (live once the VPC is dual-stack). */
      operatorSshSources: z.array(
        z.string().max(43).refine(isIpv6HostCidr, { message: 'must be a single IPv6 host as "<address>/128", e.g. "2001:db8::10/128"' }),
      ).max(5),
      /** mikrotik-sg: the home router's WireGuard peer access, off unless enabled. */
      mikrotik: z.strictObject({
        enabled: z.boolean(),
        sources: z.array(z.string().max(43).refine(isIpv6HostCidr, { message: 'must be a single IPv6 host as "<address>/128"' })).max(5),
        wireguardPort: port,
      }),
    }),
    bastion: z.strictObject({
      privateIp: ipv4,
      instanceType,
      rootVolumeGb: z.number().int().min(8).max(100),
      /** Persistent gp3 volume for registry caches and matchbox assets. */
      cacheVolumeGb: z.number().int().min(1).max(500),
      schedule,
      /** "standard" avoids T4g surplus-credit charges ($0.04/vCPU-h). */
      cpuCredits: z.enum(["standard", "unlimited"]),
      dnsmasq: z.strictObject({
        /** Serve DHCP (home site). VPC DHCP is Amazon's, so off in AWS. */
        dhcp: z.boolean(),
        /** Serve iPXE binaries over TFTP. */
        tftp: z.boolean(),
        /** DHCP pool, required when dhcp is on. */
        rangeStart: ipv4.optional(),
        rangeEnd: ipv4.optional(),
        router: ipv4.optional(),
      }),
      tailscale: z.strictObject({ enabled: z.boolean() }),
      /** SSM Parameter Store names (SecureString) read at boot; values never enter user-data or state. */
      secrets: z.strictObject({
        piholeWebPassword: ssmParameterName,
        tailscaleAuthKey: ssmParameterName,
      }),
    }),
    services: z.strictObject({
      matchboxPort: port,
      piholeWebPort: port,
      /**
       * Pi-hole's upstream DNS servers; "AmazonProvidedDNS" stands for the VPC resolver
       * (the VPC network address plus two, e.g. 10.20.0.2) and is valid only on an AWS site.
       */
      dnsUpstreams: z.array(z.union([ipv4, z.literal(AMAZON_PROVIDED_DNS)])).min(1).max(4),
      /** Domain of the lab's local DNS records on Pi-hole, e.g. "deathstar.internal" → bastion.deathstar.internal. */
      localDomain: dnsName,
      registryCaches: z.array(registryCache).min(1).max(10),
    }),
    images: z.strictObject({
      dnsmasq: imageRef,
      matchbox: imageRef,
      registry: imageRef,
      pihole: imageRef,
      tailscale: imageRef,
    }),
    talos: z.strictObject({
      /** Talos release, e.g. "v1.11.6"; with CozyStack enabled, the one its pinned release ships. */
      version: z.string().max(32).regex(/^v1\.\d+\.\d+$/, 'must be a Talos release such as "v1.11.6"'),
      /** Image Factory schematic id (64 hex chars). */
      schematicId: z.string().regex(/^[0-9a-f]{64}$/, "must be a 64-character Image Factory schematic id"),
      /** "ipxe": iPXE AMI chaining to matchbox; "talos-ami": official Talos AMI in maintenance mode. */
      boot: z.enum(["ipxe", "talos-ami"]),
      /** iPXE arm64 AMI, required when boot is "ipxe". */
      ipxeAmiId: amiId.optional(),
      nodeInstanceType: instanceType,
      /**
       * CPU credit mode of burstable (T) node types. A fresh "standard" T4g starts at its baseline
       * (20 % of a vCPU for t4g.small) and a cluster bootstrap crawls; "unlimited" bills the surplus
       * ($0.04/vCPU-h on T4g), which the cost model prices at its maximum.
       */
      nodeCpuCredits: z.enum(["standard", "unlimited"]),
      nodeRootVolumeGb: z.number().int().min(10).max(1000),
      /** Fixed private addresses of the nodes (1-3); the first is the control-plane endpoint. */
      nodeIps: z.array(ipv4).min(1, "needs at least 1 node address").max(3, "takes at most 3 node addresses (the lab runs 1-3 nodes)"),
      clusterName: label,
      installDisk: z.string().max(64).regex(/^\/dev\/[a-z0-9]+$/, 'must be a device path such as "/dev/nvme0n1"'),
      /**
       * Installer image for install and upgrades; amd64-only images do not run on Graviton.
       * @default - the Image Factory installer of `schematicId` and `version` for the boot mode's
       * platform: factory.talos.dev/aws-installer/… for "talos-ami", factory.talos.dev/metal-installer/… for "ipxe"
       */
      installImage: imageRef.optional(),
      /** Optional machine config URL passed as talos.config=; empty means maintenance mode. */
      machineConfigUrl: z.string().max(512).regex(/^https?:\/\/[A-Za-z0-9.:/_-]+$/, "must be an http(s) URL of plain characters").optional(),
      cozystack: z.strictObject({
        enabled: z.boolean(),
        /** The pinned CozyStack release (config/cozystack.ts); `version` must be its Talos release. */
        version: z.enum(Object.keys(COZYSTACK_RELEASES) as [keyof typeof COZYSTACK_RELEASES]),
        /** The bundle to install: "distro-full" runs without /dev/kvm, "paas-full" runs KubeVirt and needs a metal type. */
        bundle: z.enum([...new Set(Object.values(COZYSTACK_RELEASES).flatMap((r) => Object.keys(r.bundles)))] as [string, ...string[]]),
      }),
    }),
    budget: z.strictObject({
      /** Synth fails when the cost model projects more than this; also the AWS Budgets limit. */
      monthlyUsd: z
        .number()
        .min(0.01, "must be at least 0.01 (AWS Budgets rejects 0; 0.01 is its zero-spend budget)")
        .max(10000, "must be at most 10000 (a lab budget; raise the limit in config/schema.ts if you mean it)"),
      /** Synthesize even when the projection exceeds monthlyUsd (the budget alerts still fire). */
      allowOver: z.boolean(),
      /** Where AWS Budgets sends alerts. */
      email: z.string().max(254).regex(/^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, 'must be an email address, e.g. "owner@example.com"'),
      /**
       * The account still has the t4g.small free trial (750 h/month, ends 2026-12-31). Accounts opened
       * on or after 2025-07-15 get Free Tier credits instead: leave this false for them.
       */
      t4gTrial: z.boolean(),
    }),
    usage: z.strictObject({
      experimentSessionsPerMonth: z.number().int().min(0).max(62),
      hoursPerSession: z.number().min(0).max(24),
      nodesPerSession: z.number().int().min(0).max(3),
      natGbPerMonth: z.number().min(0).max(10000),
      internetEgressGbPerMonth: z.number().min(0).max(10000),
    }),
    state: z.discriminatedUnion("backend", [
      z.strictObject({
        backend: z.literal("local"),
        /** Relative to the repo root, e.g. "terraform.tfstate". */
        path: z
          .string()
          .max(255)
          .regex(/^[A-Za-z0-9_.][A-Za-z0-9_.\-/]*$/, 'must be a relative path of plain characters, e.g. "terraform.tfstate"')
          .refine((v) => !v.split("/").includes(".."), { message: 'must stay inside the repo (no ".." segments)' }),
      }),
      z.strictObject({
        backend: z.literal("s3"),
        bucket: z
          .string()
          .min(3, "must be 3 to 63 characters long")
          .max(63, "must be 3 to 63 characters long")
          .regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, "may contain only lowercase letters, digits, dots and hyphens, and must begin and end with a letter or digit (AWS S3 bucket naming rules)")
          .superRefine((value, ctx) => {
            const problem = s3BucketNameProblem(value);
            if (problem) ctx.addIssue({ code: "custom", message: `${problem} (AWS S3 bucket naming rules)` });
          }),
        key: z.string().max(1024).regex(/^[A-Za-z0-9_.\-/]+$/, "must be an object key of plain characters"),
        region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region"),
      }),
    ]),
    /** What an existing hand-written setup keeps: see docs on module mode and adopt mode. */
    existing: z.strictObject({
      /** Existing local modules, called under their old names so their state addresses still match. */
      modules: z.array(existingModule).max(20),
      /** Moved/import blocks written by `npm run adopt`, relative to the project root; included at synth. */
      adoptFile: projectPath.optional(),
    }),
    /**
     * Extra tags on every resource. AWS allows 50 per resource; the stack sets its own Project, Site,
     * ManagedBy and Name, which a config tag may not replace.
     */
    tags: z
      .record(
        z
          .string()
          .regex(TAG_TEXT, "tag keys: letters (any script), digits, spaces and _.:/=+@-")
          .refine((key) => [...key].length >= 1 && [...key].length <= 128, { message: "tag keys are 1 to 128 characters (AWS limit)" })
          .refine((key) => !/^aws:/i.test(key), { message: 'tag keys starting with "aws:" are reserved by AWS' }),
        z
          .string()
          .regex(TAG_TEXT, "tag values: letters (any script), digits, spaces and _.:/=+@-")
          .refine((value) => [...value].length <= 256, { message: "tag values are at most 256 characters (AWS limit)" }),
      )
      .refine((tags) => Object.keys(tags).length <= 45, { message: "at most 45 tags (AWS allows 50 per resource; the stack sets 5)" }),
  })
  .superRefine((config, ctx) => {
    // zod runs this even when a field failed; the loader shows these only when every field is valid.
    for (const { path, message } of siteRules(config)) ctx.addIssue({ code: "custom", path, message, params: { crossField: true } });
  });

export type SiteConfig = z.infer<typeof siteConfigSchema>;
/** The CPU architecture of every instance and image. */
export type Architecture = SiteConfig["architecture"];
/** How the private subnet reaches the internet (`network.nat`). */
export type NatMode = SiteConfig["network"]["nat"];
/** T4g CPU credit mode (`bastion.cpuCredits`, `talos.nodeCpuCredits`). */
export type CpuCredits = SiteConfig["bastion"]["cpuCredits"];

// ---- Semantic rules ---------------------------------------------------------------------------------

interface Problem {
  readonly path: (string | number)[];
  readonly message: string;
}

/** Rules that need more than one field. Each problem names the field to fix. */
function siteRules(c: SiteConfig): Problem[] {
  const problems: Problem[] = [];
  const add = (path: (string | number)[], message: string) => problems.push({ path, message });

  const vpc = parseIpv4Cidr(c.network.vpcCidr);
  const pub = parseIpv4Cidr(c.network.publicSubnet.cidr);
  const priv = parseIpv4Cidr(c.network.privateSubnet.cidr);
  if (vpc && (vpc.prefix < 16 || vpc.prefix > 28)) add(["network", "vpcCidr"], "VPC prefix must be between /16 and /28 (AWS limit)");
  for (const [key, subnet] of [["publicSubnet", pub], ["privateSubnet", priv]] as const) {
    if (!vpc || !subnet) continue;
    if (!cidrContainsCidr(vpc, subnet)) add(["network", key, "cidr"], `must lie inside the VPC ${c.network.vpcCidr}`);
    if (subnet.prefix > 28) add(["network", key, "cidr"], "subnet prefix must be /28 or larger (AWS limit)");
  }
  if (pub && priv && cidrsOverlap(pub, priv)) {
    // The example is the first block of the private subnet's size after the public one, if the VPC holds it.
    const next = Math.ceil((pub.network + pub.size) / priv.size) * priv.size;
    const example = vpc && next + priv.size <= vpc.network + vpc.size ? `, e.g. ${intToIpv4(next)}/${priv.prefix}` : "";
    add(["network", "privateSubnet", "cidr"], `overlaps the public subnet ${c.network.publicSubnet.cidr}; pick a disjoint block${example}`);
  }

  /** `example` is the host number this field usually takes (the bastion .140, nodes .11-.13, ...). */
  const hostIn = (path: (string | number)[], ip: string, subnet: Ipv4Cidr | undefined, subnetName: string, subnetCidr: string, example: number) => {
    if (!subnet || !isIpv4(ip)) return;
    if (!cidrContainsIp(subnet, ip)) add(path, `${ip} is outside the ${subnetName} subnet ${subnetCidr}`);
    else if (awsReservedAddresses(subnet).includes(ip)) {
      add(path, `${ip} is reserved by AWS (first four and last address of ${subnetCidr}); use a host such as ${nthAddress(subnet, example < subnet.size - 1 ? example : 4 + (example % (subnet.size - 5)))}`);
    }
  };
  const privCidr = c.network.privateSubnet.cidr;
  hostIn(["bastion", "privateIp"], c.bastion.privateIp, priv, "private", privCidr, 140);
  hostIn(["network", "natInstance", "eniAddress"], c.network.natInstance.eniAddress, pub, "public", c.network.publicSubnet.cidr, 10);
  c.talos.nodeIps.forEach((ip, i) => {
    hostIn(["talos", "nodeIps", i], ip, priv, "private", privCidr, 11 + i);
    if (ip === c.bastion.privateIp) add(["talos", "nodeIps", i], `${ip} is the bastion's address`);
    if (c.talos.nodeIps.indexOf(ip) !== i) add(["talos", "nodeIps", i], `${ip} is listed twice`);
  });

  const ports: [(string | number)[], number][] = [
    [["services", "matchboxPort"], c.services.matchboxPort],
    [["services", "piholeWebPort"], c.services.piholeWebPort],
    ...c.services.registryCaches.map((cache, i) => [["services", "registryCaches", i, "port"], cache.port] as [(string | number)[], number]),
  ];
  const seenPorts = new Map<number, string>();
  for (const [path, value] of ports) {
    const first = seenPorts.get(value);
    if (first) add(path, `port ${value} is already used by ${first}; every bastion service needs its own port`);
    else seenPorts.set(value, path.join("."));
  }

  if (c.talos.boot === "ipxe" && c.site.kind === "aws" && !c.talos.ipxeAmiId) {
    add(["talos", "ipxeAmiId"], 'is required when talos.boot is "ipxe": import bin-arm64-efi/ipxe.usb as an AMI (docs/netboot.md) or set talos.boot to "talos-ami"');
  }
  if (c.usage.nodesPerSession > c.talos.nodeIps.length) {
    add(["usage", "nodesPerSession"], `is ${c.usage.nodesPerSession} but only ${c.talos.nodeIps.length} node addresses are configured in talos.nodeIps`);
  }
  if (c.bastion.dnsmasq.dhcp) {
    for (const key of ["rangeStart", "rangeEnd", "router"] as const) {
      if (!c.bastion.dnsmasq[key]) add(["bastion", "dnsmasq", key], "is required when bastion.dnsmasq.dhcp is true");
      else hostIn(["bastion", "dnsmasq", key], c.bastion.dnsmasq[key]!, priv, "private", privCidr, { rangeStart: 160, rangeEnd: 239, router: 249 }[key]);
    }
  }
  const piholeMajor = piholeImageMajorVersion(c.images.pihole);
  if (piholeMajor !== undefined && piholeMajor >= 6) {
    add(["images", "pihole"], `${c.images.pihole} is Pi-hole v6, whose environment variables differ from v5; pin a v5 tag such as "pihole/pihole:2024.07.0" until v6 is supported`);
  }
  if (c.site.kind !== "aws" && c.services.dnsUpstreams.includes(AMAZON_PROVIDED_DNS)) {
    add(["services", "dnsUpstreams"], `"AmazonProvidedDNS" exists only in a VPC; on a ${c.site.kind} site list real resolvers, e.g. the router's address`);
  }
  problems.push(...existingModuleProblems(c.existing.modules));
  for (const rule of Object.values(SITE_RULES)) problems.push(...rule(c));
  if (c.access.mikrotik.enabled && c.access.mikrotik.sources.length === 0) {
    add(["access", "mikrotik", "sources"], "needs at least one /128 when access.mikrotik.enabled is true");
  }
  return problems;
}

/** Module names unique, references only to modules listed earlier, each feed provided once and complete. */
function existingModuleProblems(modules: SiteConfig["existing"]["modules"]): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const feeders = new Map<ExistingFeed, string>();
  modules.forEach((module, i) => {
    if (seen.has(module.name)) problems.push({ path: ["existing", "modules", i, "name"], message: `module "${module.name}" is listed twice` });
    for (const [input, value] of Object.entries(module.inputs)) {
      if (typeof value === "object" && value !== null && "fromModule" in value && !seen.has(value.fromModule)) {
        problems.push({
          path: ["existing", "modules", i, "inputs", input],
          message: `refers to module "${value.fromModule}", which is not listed before "${module.name}"; list the modules in dependency order`,
        });
      }
    }
    seen.add(module.name);
    for (const [feed, output] of Object.entries(module.outputs) as [ExistingFeed, ModuleOutput | undefined][]) {
      if (output === undefined) continue;
      const other = feeders.get(feed);
      if (other) problems.push({ path: ["existing", "modules", i, "outputs", feed], message: `is already provided by module "${other}"` });
      else feeders.set(feed, module.name);
    }
  });
  // Part of a network: the VPC and public subnet from a module, the private side from the stack.
  const privateSide = ["privateSubnetId", "privateRouteTableId"] as const;
  const partialNetwork = feeders.has("vpcId") && feeders.has("publicSubnetId") && privateSide.every((feed) => !feeders.has(feed));
  for (const [group, feeds] of Object.entries(EXISTING_FEEDS)) {
    const missing = feeds.filter((feed) => !feeders.has(feed));
    if (group === "network" && partialNetwork) continue;
    if (missing.length > 0 && missing.length < feeds.length) {
      problems.push({
        path: ["existing", "modules"],
        message:
          `outputs provide part of the ${group} (${feeds.filter((f) => feeders.has(f)).join(", ")}); also map ${missing.join(", ")}, or none of them` +
          (group === "network" ? " (or only vpcId and publicSubnetId: the stack then adds the private subnet and route table inside that VPC)" : ""),
      });
    }
  }
  return problems;
}
