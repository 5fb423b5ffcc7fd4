/**
 * The site config: one zod schema for everything a site can set, built from the field shapes in
 * config/fields.ts. Types come from the schema. Cross-field rules (config/rules/: addresses that
 * must nest, ports that must not collide, ...) run once every field is valid, so every problem is
 * reported at once with the path of the field that causes it.
 */
import { z } from "zod";
import {
  amiId,
  cron,
  dnsName,
  hclIdentifier,
  httpsUpstream,
  imageRef,
  instanceType,
  ipv4,
  ipv4Cidr,
  ipv6Host,
  label,
  macAddress,
  port,
  projectPath,
  s3BucketNameProblem,
  ssmParameterName,
  TAG_TEXT,
  timeZone,
} from "./fields.js";
import { COZYSTACK_BUNDLE_NAMES, COZYSTACK_RELEASES } from "./cozystack.js";
import { PI_MODELS, type PiModelName } from "./raspberry-pi.js";
import { TALOS_SESSION_MAX_HOURS } from "./talos.js";
import { AMAZON_PROVIDED_DNS, BASTION_DNS_SERVER } from "./site-view.js";
import { EXISTING_FEEDS, type ExistingFeed } from "./rules/existing-modules.js";
import { SITE_RULES } from "./rules.js";

// ---- Schema ---------------------------------------------------------------------------------------

const schedule = z.strictObject({
  /** 5-field cron in `timeZone`, e.g. "0 18 * * *". */
  start: cron,
  /** 5-field cron in `timeZone`, e.g. "0 23 * * *". */
  stop: cron,
  /** IANA name; "Europe/Dublin" follows daylight saving. */
  timeZone,
});

/**
 * How instances are bought. "on-demand": list price, never interrupted. "spot": at the spot price,
 * never above the on-demand price, terminated when EC2 reclaims the capacity.
 */
const market = z.enum(["on-demand", "spot"]);

/** A CPU architecture as EC2 names it: "arm64" (Graviton) or "x86_64" (Intel, AMD). */
const architecture = z.enum(["arm64", "x86_64"]);

const registryCache = z.strictObject({
  /** The upstream registry's name as images spell it, e.g. "docker.io". */
  name: dnsName,
  /** Host port of this cache on the bastion, e.g. 5050. */
  port,
  /** Upstream URL the cache proxies, e.g. "https://registry-1.docker.io". */
  upstream: httpsUpstream,
  /**
   * SSM SecureString parameter holding the upstream's credentials as "username:token" (for Docker
   * Hub a personal access token), read at boot into a root-only env file only this cache loads;
   * the value never enters user-data or state.
   * @default - anonymous pulls
   */
  credentialsParameter: ssmParameterName.optional(),
});

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

/** One Raspberry Pi the home site netboots (docs/raspberry-pi.md). */
const piNode = z.strictObject({
  /** Hostname and matchbox group, e.g. "pi-1"; distinct from the Talos nodes' names (talos-1…). */
  name: label,
  /** Board model: the boot ROMs that netboot by themselves (a Pi 4 or CM4 boots from its EEPROM). */
  model: z.enum(Object.keys(PI_MODELS) as [PiModelName, ...PiModelName[]]),
  /**
   * The board's serial number, the last 8 hex digits of `Serial` in /proc/cpuinfo, lowercase: the
   * boot ROM's second-stage loader reads `<serial>/start.elf` and every later file from that TFTP dir.
   */
  serial: z.string().max(16).regex(/^[0-9a-f]{8}$/, 'must be the board\'s serial number, 8 lowercase hex digits (the end of "Serial" in /proc/cpuinfo), e.g. "1a2b3c4d"'),
  /** MAC of its Ethernet chip (the one the boot ROM uses): matchbox selects the Pi's profile by it. */
  mac: macAddress,
  /** A Pi 3 or CM3 has 1 GiB: enough for a Talos worker, below Talos' 2 GiB for a control plane. */
  role: z.enum(["worker"], { error: 'must be "worker": a Pi 3 or CM3 has 1 GiB of memory, below the 2 GiB Talos needs for a control plane' }),
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
    /** CPU architecture of every instance: arm64 (Graviton) is the point of this lab. `talos.architecture` may set the nodes' apart. */
    architecture,
    network: z.strictObject({
      vpcCidr: ipv4Cidr,
      publicSubnet: z.strictObject({ cidr: ipv4Cidr }),
      privateSubnet: z.strictObject({ cidr: ipv4Cidr }),
      /**
       * Egress for the private subnet: "gateway" (managed NAT Gateway, ~$38.7/month always on),
       * "instance" (t4g.nano on the bastion's schedule), "bastion" (the bastion is its own NAT: a
       * public IPv4 on its primary interface, its persistent ENI the private route's target) or "none".
       */
      nat: z.enum(["gateway", "instance", "bastion", "none"]),
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
        ipv6Host,
      ).max(5),
      /** mikrotik-sg: the home router's WireGuard peer access, off unless enabled. */
      mikrotik: z.strictObject({
        enabled: z.boolean(),
        sources: z.array(ipv6Host).max(5),
        wireguardPort: port,
      }),
    }),
    bastion: z.strictObject({
      privateIp: ipv4,
      instanceType,
      rootVolumeGb: z.number().int().min(8).max(100),
      /**
       * Where the registry caches store blobs: "ebs" (a persistent gp3 volume of cacheVolumeGb,
       * which also keeps matchbox assets and Pi-hole state) or "s3" (one bucket reached through a
       * gateway VPC endpoint; the other state lives on the root volume and is rebuilt at boot).
       */
      cacheStorage: z.enum(["ebs", "s3"]),
      /** Persistent gp3 volume for registry caches and matchbox assets (cacheStorage "ebs"). */
      cacheVolumeGb: z.number().int().min(1).max(500),
      /**
       * Days a cache keeps what it proxied: registry 3's `proxy.ttl` (its default is 7 days, so
       * weekly sessions would refill the cache every time) and, with cacheStorage "s3", the age at
       * which the bucket's lifecycle rule deletes an object (lib/registry-cache.ts). Both count
       * from the write, not the last read: a blob pulled every day still goes, and the next pull
       * fetches it again.
       */
      cacheExpiryDays: z.number().int().min(1).max(3650),
      schedule,
      /** "standard" avoids T4g surplus-credit charges ($0.04/vCPU-h). */
      cpuCredits: z.enum(["standard", "unlimited"]),
      /**
       * How the bastion is bought. "spot": its group launches spot instances only (a mixed
       * instances policy); an interruption terminates it and the group launches a replacement,
       * which attaches the same ENI and cache (docs/bastion.md, "A spot bastion").
       * @example "spot"
       */
      market,
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
      /** iPXE AMI of the nodes' architecture, required when boot is "ipxe". */
      ipxeAmiId: amiId.optional(),
      /**
       * CPU architecture of the nodes alone: their AMI, netboot assets, kernel arguments and
       * instance type follow it; the bastion, NAT instance and caches keep `architecture`.
       * "x86_64" runs upstream CozyStack, whose images are amd64-only (docs/cozystack.md).
       * @default - the site's `architecture`
       * @example "x86_64"
       */
      architecture: architecture.optional(),
      nodeInstanceType: instanceType,
      /**
       * CPU credit mode of burstable (T) node types. A fresh "standard" T4g starts at its baseline
       * (20 % of each of its two vCPUs on a t4g.small) and a cluster bootstrap crawls; "unlimited" bills the surplus
       * ($0.04/vCPU-h on T4g), which the cost model prices at its maximum.
       */
      nodeCpuCredits: z.enum(["standard", "unlimited"]),
      /**
       * How the nodes are bought. "on-demand": list price, never interrupted. "spot": one-time spot
       * requests at no max price (capped at the on-demand price), terminated when EC2 reclaims the
       * capacity: the cluster loses that member (docs/cost.md, "Spot nodes").
       * @example "spot"
       */
      nodeMarket: market,
      nodeRootVolumeGb: z.number().int().min(10).max(1000),
      /**
       * Hours a session's nodes live, counted from the `tofu apply` that launches them: an
       * EventBridge Scheduler one-time schedule terminates them then, laptop off or not.
       * `-var talos_session_hours=N` sets it for one apply. E.g. 3.
       */
      sessionHours: z.number().int().min(1).max(TALOS_SESSION_MAX_HOURS),
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
        /** Upstream CozyStack publishes amd64 images only: on arm64 nodes it needs `ownBuild`. */
        enabled: z.boolean(),
        /** The pinned CozyStack release (config/cozystack.ts); `version` must be its Talos release. */
        version: z.enum(Object.keys(COZYSTACK_RELEASES) as [keyof typeof COZYSTACK_RELEASES]),
        /**
         * The bundle to install, one of the release's: "distro-full" (v0.41.11) and "isp-full-no-iaas"
         * (v1.6.2) run without /dev/kvm; "paas-full" and "isp-full" run KubeVirt and need a metal type.
         */
        bundle: z.enum(COZYSTACK_BUNDLE_NAMES),
        /**
         * An own build of `version`: a fork that publishes images for the nodes' architecture
         * (arm64) and its own installer manifest (docs/cozystack.md, "An own arm64 build").
         * @default - the upstream release (amd64 images only)
         */
        ownBuild: z
          .strictObject({
            /** The build's installer manifest, in place of the release's (0.x: cozystack-installer.yaml; 1.x: cozystack-operator-talos.yaml). */
            manifestUrl: z.string().max(512).regex(/^https:\/\/[A-Za-z0-9.:/_@%+~-]+$/, "must be an https:// URL of plain characters").optional(),
            /** The registry host its images are pulled from, e.g. "ghcr.io": one of services.registryCaches, so the bastion caches it. */
            registry: dnsName,
            /** The architectures its images are built for, e.g. ["arm64"]. */
            architectures: z.array(z.enum(["amd64", "arm64"])).min(1).max(2),
          })
          .optional(),
      }),
    }),
    raspberryPi: z.strictObject({
      /**
       * Image Factory schematic of the Pis' Talos: it must carry the rpi_generic overlay, whose
       * installer writes the Pi firmware and U-Boot to the install disk (default: the vanilla one).
       */
      schematicId: z.string().regex(/^[0-9a-f]{64}$/, "must be a 64-character Image Factory schematic id"),
      /** Talos install disk of every Pi: a CM3's eMMC or a Pi 3's SD card. */
      installDisk: z.string().max(64).regex(/^\/dev\/[a-z0-9]+$/, 'must be a device path such as "/dev/mmcblk0"'),
      /** The Pis this home site netboots (home sites only); none by default. */
      nodes: z.array(piNode).max(32),
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
      /** GB the registry caches hold (bastion.cacheStorage "s3" bills exactly these), e.g. 10. */
      cacheGb: z.number().min(0).max(10000),
      /**
       * A node's average CPU over a session, percent of all its vCPUs (CloudWatch CPUUtilization),
       * e.g. 15. With unlimited credits the model bills what exceeds the type's baseline; 100 prices
       * the ceiling, every vCPU busy all session (docs/cost.md, "Unlimited credits: measure the nodes").
       */
      nodeCpuPercent: z.number().min(0).max(100),
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
    for (const rule of Object.values(SITE_RULES)) for (const { path, message } of rule(config)) ctx.addIssue({ code: "custom", path, message, params: { crossField: true } });
  });

export type SiteConfig = z.infer<typeof siteConfigSchema>;
/** The CPU architecture of every instance and image. */
export type Architecture = SiteConfig["architecture"];
/** How the private subnet reaches the internet (`network.nat`). */
export type NatMode = SiteConfig["network"]["nat"];
/** T4g CPU credit mode (`bastion.cpuCredits`, `talos.nodeCpuCredits`). */
export type CpuCredits = SiteConfig["bastion"]["cpuCredits"];
/** How instances are bought (`talos.nodeMarket`, `bastion.market`). */
export type InstanceMarket = z.infer<typeof market>;
/** One netbooted Raspberry Pi (`raspberryPi.nodes[]`). */
export type PiNode = z.infer<typeof piNode>;
/** Where the registry caches store blobs (`bastion.cacheStorage`). */
export type CacheStorage = SiteConfig["bastion"]["cacheStorage"];
