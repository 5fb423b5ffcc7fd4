/**
 * One pricing rule per billable resource type, and the resource types that cost nothing (each with
 * its reason). A type in neither list is "unpriced": the model reports it and the tests fail, so a
 * new billable resource cannot slip into the stack without a price.
 *
 * A rule prices ONE copy of a resource for one month; the model scales by `count` (see model.ts).
 */
import { runningHoursPerWeek } from "../lib/cron.js";
import { storageHealthCheck } from "../lib/registry-cache.js";
import type { InstanceMarket, SiteConfig } from "../config/schema.js";
import { EBS_VOLUME_GB_MONTH, HOURS_PER_MONTH, hourlyPrice, PRICES, S3_REQUESTS_PER_CACHE_GB, SPOT_PRICES_AS_OF, type HourlyPrice } from "./prices.js";
import { INSTANCE_TYPES, PRICES_REGION } from "../config/instance-types.js";
import { isTrue, launchTemplateAddresses, literalString, nestedBlocks, numberAttr, type StackResource, type StackView } from "../analysis/synthesized.js";

/** A resource the model cannot price as written (missing size, unknown instance type, ...). */
export class PricingError extends Error {
  constructor(readonly address: string, problem: string) {
    super(`${address}: ${problem}`);
    this.name = "PricingError";
  }
}

/** One billed item of one resource. */
export interface CostLine {
  /** Resource address (`aws_eip.nat`), or a parenthesized label for account-level lines. */
  readonly address: string;
  /** What is billed, e.g. "t4g.nano instance" or "gp3 root volume, 8 GB". */
  readonly item: string;
  readonly quantity: number;
  /** Unit of `quantity` and `unitUsd`: "h", "GB-month", "GB", "month". */
  readonly unit: string;
  readonly unitUsd: number;
  readonly monthlyUsd: number;
  /** Where the quantity comes from (schedule, usage profile, size). */
  readonly basis: string;
  /** Still billed when every instance is stopped (persistent volumes, Elastic IPs, NAT gateways). */
  readonly idle: boolean;
  /** Set on instance-hour lines, for free-tier accounting. */
  readonly instanceType?: string;
  /**
   * Set on instance-hour lines bought as spot: `unitUsd` is the dated spot price (SPOT_PRICES_AS_OF
   * in cost/prices.ts), a snapshot of a price that varies, capped at the on-demand price.
   */
  readonly market?: "spot";
  /** Where `unitUsd` comes from when it is not a list price (spot lines): the price's date and what bounds it. */
  readonly priceNote?: string;
  /** Set on lines of session resources (`count = var.x`: the Talos nodes), which bill only during sessions. */
  readonly session?: true;
}

export interface RuleContext {
  readonly stack: StackView;
  readonly usage: SiteConfig["usage"];
  /** How many registry caches the bastion runs (services.registryCaches), each with its own requests. */
  readonly registryCaches: number;
}

export type PricingRule = (resource: StackResource, context: RuleContext) => CostLine[];

type LineSpec = Omit<CostLine, "address" | "monthlyUsd">;

function line(resource: StackResource, spec: LineSpec): CostLine {
  return { address: resource.address, ...spec, monthlyUsd: spec.quantity * spec.unitUsd };
}

// ---- Instances (shared by aws_autoscaling_group and aws_instance) ------------------------------

interface Volume {
  /** "root volume", "volume /dev/xvda". */
  readonly label: string;
  readonly sizeGb: number;
  readonly type: string;
}

interface Running {
  /** Instance-hours per month. */
  readonly hours: number;
  readonly basis: string;
}

function instancePrice(address: string, type: unknown, market: InstanceMarket): HourlyPrice & { type: string } {
  const info = typeof type === "string" ? INSTANCE_TYPES[type] : undefined;
  if (!info) throw new PricingError(address, `instance type ${JSON.stringify(type)} is not in INSTANCE_TYPES (config/instance-types.ts); add its ${PRICES_REGION} price`);
  const price = hourlyPrice(type as string, market);
  if (!price) throw new PricingError(address, `instance type ${JSON.stringify(type)} has no spot price in SPOT_USD_PER_HOUR (cost/prices.ts); add its ${PRICES_REGION} spot price`);
  return { type: type as string, ...price };
}

/**
 * How an instance or launch template buys its instances: `instance_market_options.market_type`
 * "spot", or on-demand when the block is absent. Other markets (capacity blocks) are not priced.
 */
function marketOf(address: string, resource: StackResource | undefined): InstanceMarket | undefined {
  const block = nestedBlocks(resource?.attributes.instance_market_options)[0];
  if (block === undefined) return undefined;
  if (block.market_type === "spot") return "spot";
  throw new PricingError(address, `instance_market_options.market_type ${JSON.stringify(block.market_type)} is not priced; the model knows on-demand (no block) and "spot"`);
}

function volumeGbMonth(address: string, type: string): number {
  const price = EBS_VOLUME_GB_MONTH[type];
  if (price === undefined) throw new PricingError(address, `EBS volume type "${type}" is not in EBS_VOLUME_GB_MONTH (cost/prices.ts)`);
  return price;
}

/** A volume block (root_block_device, ebs_block_device, a launch template's ebs): billed only while its instance runs. */
function volumeOf(address: string, label: string, block: Readonly<Record<string, unknown>>): Volume {
  const sizeGb = numberAttr(block.volume_size);
  if (sizeGb === undefined) throw new PricingError(address, `${label} has no volume_size; set it (the AMI's default size is unknown at synth time)`);
  if (block.delete_on_termination === false || block.delete_on_termination === "false") {
    throw new PricingError(address, `${label} has delete_on_termination false: every replaced instance leaves a volume behind, which no model can bound; use an aws_ebs_volume for data that must persist`);
  }
  return { label, sizeGb, type: volumeType(block.volume_type) };
}

/** Unset means gp2: EC2's default for new volumes; for an instance root the AMI decides, and gp2 is the dearer guess. */
function volumeType(type: unknown): string {
  return typeof type === "string" ? type : "gp2";
}

function templateVolumes(address: string, template: StackResource | undefined): Volume[] {
  return nestedBlocks(template?.attributes.block_device_mappings).flatMap((mapping) =>
    // A device name taken from the AMI (a reference) is its root device.
    nestedBlocks(mapping.ebs).map((ebs) => volumeOf(address, volumeLabel(literalString(mapping.device_name)), ebs)),
  );
}

function volumeLabel(device: string | undefined): string {
  return device ? `volume ${device}` : "root volume";
}

function templatePublicIps(template: StackResource | undefined): number {
  return nestedBlocks(template?.attributes.network_interfaces).filter((nic) => isTrue(nic.associate_public_ip_address)).length;
}

/**
 * `credit_specification.cpu_credits` of an instance or launch template. Unset is EC2's default
 * ("unlimited" for T4g and T3) but is not priced as such: every T type this stack launches sets it.
 */
function creditsOf(resource: StackResource | undefined): unknown {
  return nestedBlocks(resource?.attributes.credit_specification)[0]?.cpu_credits;
}

/**
 * Instance hours, its volumes and its public IPv4 addresses, all only while it runs. With unlimited
 * CPU credits, the CPU time above the type's baseline at the instance's average CPU (unknown: the ceiling).
 */
function runningInstanceLines(
  resource: StackResource,
  instance: {
    readonly type: unknown;
    readonly market?: InstanceMarket;
    readonly volumes: readonly Volume[];
    readonly publicIps: number;
    readonly cpuCredits?: unknown;
    /** Average CPU, percent of all its vCPUs; unknown: 100, the ceiling. */
    readonly cpuPercent?: number;
  },
  running: Running,
): CostLine[] {
  const price = instancePrice(resource.address, instance.type, instance.market ?? "on-demand");
  const spot = price.market === "spot";
  const burstable = INSTANCE_TYPES[price.type]?.burstable;
  const vcpus = INSTANCE_TYPES[price.type]?.vcpus ?? 0;
  if (instance.volumes.length === 0) {
    throw new PricingError(resource.address, "sets no root volume (root_block_device or launch template block_device_mappings); the AMI's default size is unknown at synth time");
  }
  const fraction = running.hours / HOURS_PER_MONTH;
  return [
    line(resource, {
      item: spot ? `${price.type} spot instance (variable price)` : `${price.type} instance`,
      quantity: running.hours,
      unit: "h",
      unitUsd: price.usdPerHour,
      basis: running.basis,
      idle: false,
      instanceType: price.type,
      ...(spot && {
        market: "spot" as const,
        priceNote:
          `${PRICES_REGION} spot price of ${SPOT_PRICES_AS_OF}, which varies` +
          (price.cappedAtOnDemand ? "; it was above the on-demand price, which caps what a spot request without a max price pays" : ""),
      }),
    }),
    // Unlimited credits bill the CPU time above the baseline (an instance launches with no credits).
    ...(burstable && instance.cpuCredits === "unlimited" ? [surplusCreditsLine(resource, price.type, vcpus, burstable, instance.cpuPercent ?? 100, running)] : []),
    ...instance.volumes.map((volume) =>
      line(resource, {
        item: `${volume.type} ${volume.label}, ${volume.sizeGb} GB`,
        quantity: volume.sizeGb * fraction,
        unit: "GB-month",
        unitUsd: volumeGbMonth(resource.address, volume.type),
        basis: `${volume.sizeGb} GB while running (${round(running.hours)} h of ${HOURS_PER_MONTH}); deleted with the instance`,
        idle: false,
      }),
    ),
    ...Array.from({ length: instance.publicIps }, () =>
      line(resource, {
        item: "public IPv4 (primary interface)",
        quantity: running.hours,
        unit: "h",
        unitUsd: PRICES.publicIpv4Hour,
        basis: "held only while the instance runs",
        idle: false,
      }),
    ),
  ];
}

/** Hours per month from the group's start/stop scheduled actions, or its fixed desired capacity. */
function groupRunning(group: StackResource, stack: StackView): Running {
  const schedules = stack.referencing("aws_autoscaling_schedule", "autoscaling_group_name", group);
  const desired = (r: StackResource) => numberAttr(r.attributes.desired_capacity) ?? 0;
  const starts = schedules.filter((s) => desired(s) > 0);
  if (schedules.length === 0) {
    const capacity = numberAttr(group.attributes.desired_capacity) ?? numberAttr(group.attributes.min_size) ?? 0;
    return { hours: capacity * HOURS_PER_MONTH, basis: `no schedule: ${capacity} instance(s) all month` };
  }
  const capacity = Math.max(0, ...starts.map(desired));
  const recurrence = (list: StackResource[]) => list.map((s) => String(s.attributes.recurrence));
  const startCron = recurrence(starts);
  const stopCron = recurrence(schedules.filter((s) => desired(s) === 0));
  const perWeek = runningHoursPerWeek(startCron, stopCron);
  const when = `start "${startCron.join('", "')}", stop "${stopCron.join('", "')}"`;
  if (perWeek === undefined) return { hours: capacity * HOURS_PER_MONTH, basis: `${when}: not a weekly pattern, priced as always on` };
  const hours = (perWeek * HOURS_PER_MONTH) / 168;
  return { hours: capacity * hours, basis: `${when}: ${round(perWeek)} h/week × ${HOURS_PER_MONTH}/168${capacity === 1 ? "" : ` × ${capacity}`}` };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

// ---- Rules --------------------------------------------------------------------------------------

/**
 * What a group's mixed instances policy buys: the instance type (its one override, else the
 * template's) and the market (all spot or all on-demand; a split is not priced).
 */
function mixedInstances(address: string, policy: Record<string, unknown>): { type?: unknown; market: InstanceMarket } {
  const overrides = nestedBlocks(policy.launch_template).flatMap((lt) => nestedBlocks(lt.override));
  if (overrides.length > 1) throw new PricingError(address, `mixed_instances_policy has ${overrides.length} instance types; the model prices one`);
  const [distribution] = nestedBlocks(policy.instances_distribution);
  // EC2 Auto Scaling's defaults: no on-demand base, 100 % on-demand above it.
  const base = numberAttr(distribution?.on_demand_base_capacity) ?? 0;
  const share = numberAttr(distribution?.on_demand_percentage_above_base_capacity) ?? 100;
  const market = base === 0 && share === 0 ? "spot" : share === 100 ? "on-demand" : undefined;
  if (!market) throw new PricingError(address, `mixed_instances_policy buys ${share} % on-demand above a base of ${base}; the model prices all spot or all on-demand`);
  return { type: overrides[0]?.instance_type, market };
}

/** Surplus CPU credits at an average CPU; 100, the ceiling, is every vCPU busy every hour it runs. */
function surplusCreditsLine(
  resource: StackResource,
  type: string,
  vcpus: number,
  burstable: { readonly baselinePerVcpu: number; readonly surplusUsdPerVcpuHour: number },
  percent: number,
  running: Running,
): CostLine {
  const baseline = `the ${burstable.baselinePerVcpu * 100} % baseline each earns`;
  return line(resource, {
    item: percent === 100 ? `${type} surplus CPU credits (unlimited), at most` : `${type} surplus CPU credits (unlimited), ${percent} % average CPU`,
    quantity: running.hours * vcpus * Math.max(0, percent / 100 - burstable.baselinePerVcpu),
    unit: "vCPU-h",
    unitUsd: burstable.surplusUsdPerVcpuHour,
    basis:
      percent === 100
        ? `cpu_credits "unlimited": ${vcpus} vCPU busy all the time, less ${baseline}`
        : `cpu_credits "unlimited": ${vcpus} vCPU at ${percent} % average, less ${baseline}`,
    idle: false,
  });
}

/** An Auto Scaling group runs its launch template's instance on the group's schedule. */
const autoscalingGroup: PricingRule = (group, { stack }) => {
  const template = stack.resource(launchTemplateAddresses(group.attributes)[0]);
  if (!template) throw new PricingError(group.address, "launches from no aws_launch_template of this stack (launch_template or mixed_instances_policy)");
  const [policy] = nestedBlocks(group.attributes.mixed_instances_policy);
  const mixed = policy ? mixedInstances(group.address, policy) : undefined;
  return runningInstanceLines(
    group,
    {
      type: mixed?.type ?? template.attributes.instance_type,
      market: mixed?.market ?? marketOf(group.address, template),
      volumes: templateVolumes(group.address, template),
      publicIps: templatePublicIps(template),
      cpuCredits: creditsOf(template),
    },
    groupRunning(group, stack),
  );
};

/**
 * A standalone instance runs all month; one counted by a variable is a session instance, and the
 * model scales it to the usage profile's session hours.
 */
const instance: PricingRule = (node, { stack, usage }) => {
  const template = stack.resource(launchTemplateAddresses(node.attributes)[0]);
  const root = nestedBlocks(node.attributes.root_block_device)[0];
  const volumes = [
    ...(root ? [volumeOf(node.address, "root volume", root)] : templateVolumes(node.address, template)),
    ...nestedBlocks(node.attributes.ebs_block_device).map((ebs) => volumeOf(node.address, `volume ${literalString(ebs.device_name) ?? "(extra device)"}`, ebs)),
  ];
  const publicIps = node.attributes.associate_public_ip_address !== undefined ? Number(isTrue(node.attributes.associate_public_ip_address)) : templatePublicIps(template);
  return runningInstanceLines(
    node,
    {
      type: node.attributes.instance_type ?? template?.attributes.instance_type,
      // The instance's own market options win over its template's, as in EC2.
      market: marketOf(node.address, node) ?? marketOf(node.address, template),
      volumes,
      publicIps,
      cpuCredits: creditsOf(node) ?? creditsOf(template),
      // A session instance (the nodes) at the usage profile's measured CPU.
      ...(node.count.kind === "variable" && { cpuPercent: usage.nodeCpuPercent }),
    },
    { hours: HOURS_PER_MONTH, basis: "runs all month" },
  );
};

/** A persistent volume is billed for its size all month, running or not. */
const ebsVolume: PricingRule = (volume) => {
  const sizeGb = numberAttr(volume.attributes.size);
  if (sizeGb === undefined) throw new PricingError(volume.address, "has no size; set it (a size taken from a snapshot is unknown at synth time)");
  const type = volumeType(volume.attributes.type);
  const lines = [
    line(volume, {
      item: `${type} volume, ${sizeGb} GB`,
      quantity: sizeGb,
      unit: "GB-month",
      unitUsd: volumeGbMonth(volume.address, type),
      basis: "persistent: billed all month",
      idle: true,
    }),
  ];
  const iops = (numberAttr(volume.attributes.iops) ?? 3000) - 3000;
  const throughput = (numberAttr(volume.attributes.throughput) ?? 125) - 125;
  if (type === "gp3" && iops > 0) {
    lines.push(line(volume, { item: "gp3 IOPS above 3000", quantity: iops, unit: "IOPS-month", unitUsd: PRICES.ebsGp3IopsMonth, basis: "provisioned", idle: true }));
  }
  if (type === "gp3" && throughput > 0) {
    lines.push(line(volume, { item: "gp3 MB/s above 125", quantity: throughput, unit: "MB/s-month", unitUsd: PRICES.ebsGp3ThroughputMbpsMonth, basis: "provisioned", idle: true }));
  }
  return lines;
};

/** A snapshot is priced at its source volume's full size: the first snapshot copies every written block. */
const ebsSnapshot: PricingRule = (snapshot, { stack }) => {
  const source = stack.referenced(snapshot.attributes.volume_id);
  const sizeGb = numberAttr(source?.attributes.size);
  if (source?.type !== "aws_ebs_volume" || sizeGb === undefined) {
    throw new PricingError(snapshot.address, "volume_id must reference an aws_ebs_volume with a size so the snapshot can be priced");
  }
  return [line(snapshot, { item: `snapshot of ${source.address}`, quantity: sizeGb, unit: "GB-month", unitUsd: PRICES.ebsSnapshotGbMonth, basis: "upper bound: the whole source volume", idle: true })];
};

/** An Elastic IP is a public IPv4 address held all month, attached or not. */
const elasticIp: PricingRule = (eip) => [
  line(eip, { item: "public IPv4 (Elastic IP)", quantity: HOURS_PER_MONTH, unit: "h", unitUsd: PRICES.publicIpv4Hour, basis: "held all month", idle: true }),
];

/** A NAT gateway bills every hour it exists, plus every GB it processes (its address is the aws_eip). */
const natGateway: PricingRule = (gateway, { usage }) => [
  line(gateway, { item: "NAT gateway", quantity: HOURS_PER_MONTH, unit: "h", unitUsd: PRICES.natGatewayHour, basis: "exists all month", idle: true }),
  line(gateway, {
    item: "NAT gateway data processing",
    quantity: usage.natGbPerMonth,
    unit: "GB",
    unitUsd: PRICES.natGatewayGb,
    basis: "usage.natGbPerMonth",
    idle: false,
  }),
];

/** Internet egress leaves through the internet gateway; the first 100 GB a month are free account-wide. */
const internetGateway: PricingRule = (gateway, { usage }) => {
  const billable = Math.max(0, usage.internetEgressGbPerMonth - PRICES.dataTransferOutFreeGbMonth);
  return [
    line(gateway, {
      item: "data transfer out to the internet",
      quantity: billable,
      unit: "GB",
      unitUsd: PRICES.dataTransferOutGb,
      basis: `usage.internetEgressGbPerMonth ${usage.internetEgressGbPerMonth} GB, first ${PRICES.dataTransferOutFreeGbMonth} GB free`,
      idle: false,
    }),
  ];
};

/** Budgets without actions are free; the line keeps the guard visible in the table. */
const budget: PricingRule = (monthly) => [
  line(monthly, { item: "AWS Budgets (no actions)", quantity: 1, unit: "month", unitUsd: PRICES.budget, basis: "budgets without actions are free", idle: true }),
];

/** Interface endpoints bill per AZ-hour; gateway endpoints (S3, DynamoDB) are free. */
const vpcEndpoint: PricingRule = (endpoint) => {
  if (endpoint.attributes.vpc_endpoint_type !== "Interface") {
    return [line(endpoint, { item: "gateway endpoint", quantity: 1, unit: "month", unitUsd: 0, basis: "gateway endpoints are free", idle: true })];
  }
  const zones = Array.isArray(endpoint.attributes.subnet_ids) ? endpoint.attributes.subnet_ids.length : 1;
  return [
    line(endpoint, {
      item: `interface endpoint, ${zones} AZ`,
      quantity: HOURS_PER_MONTH * zones,
      unit: "h",
      unitUsd: PRICES.interfaceEndpointHourPerAz,
      basis: "per AZ, all month (data processing not modeled)",
      idle: true,
    }),
  ];
};

/** Standard parameters are free; advanced ones bill per month. */
const ssmParameter: PricingRule = (parameter) => {
  const advanced = parameter.attributes.tier === "Advanced";
  return [
    line(parameter, {
      item: `${advanced ? "advanced" : "standard"} SSM parameter`,
      quantity: 1,
      unit: "month",
      unitUsd: advanced ? PRICES.ssmAdvancedParameterMonth : PRICES.ssmStandardParameter,
      basis: advanced ? "advanced tier" : "standard tier is free",
      idle: true,
    }),
  ];
};

/** A standard-resolution alarm bills every month it exists, whether or not it fires (the session deadline's failure alarm). */
const cloudwatchAlarm: PricingRule = (alarm) => [
  line(alarm, { item: "CloudWatch alarm", quantity: 1, unit: "month", unitUsd: PRICES.cloudwatchAlarmMonth, basis: "standard resolution, billed at rest too", idle: true }),
];

/** Days in the average month of HOURS_PER_MONTH, for the cache's refills. */
const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

/**
 * The age at which the bucket's lifecycle rule deletes objects, which is also the caches'
 * `proxy.ttl` (lib/registry-cache.ts): how often the cache is written again.
 */
function cacheExpiryDays(bucket: StackResource, stack: StackView): number {
  const lifecycle = stack.referencing("aws_s3_bucket_lifecycle_configuration", "bucket", bucket)[0];
  const days = nestedBlocks(lifecycle?.attributes.rule).flatMap((rule) => nestedBlocks(rule.expiration).map((e) => numberAttr(e.days)));
  const expiry = days.find((d) => d !== undefined);
  if (expiry === undefined) throw new PricingError(bucket.address, "has no lifecycle rule with expiration days: its refills, and so its writes, cannot be bounded");
  return expiry;
}

/**
 * A bucket bills the bytes it holds (usage.cacheGb: the stack's one bucket is the registry caches')
 * and the requests the registry caches make, each kind from what their config says
 * (lib/registry-cache.ts; __tests__/cache-bucket.test.ts reads the rendered config against
 * these lines):
 * - writes: the caches fill again once their content expires (`proxy.ttl` = the lifecycle rule's
 *   days), at the first session after: min(sessions, days a month / TTL) refills a month;
 * - reads: every node of every session pulls the cache through the registry (redirects are off,
 *   so the registry reads each blob in the node's place);
 * - the storage health check: a HEAD + a LIST per cache per interval while the bastion runs, when
 *   it is on (it is off on S3).
 * Request counts per GB are an estimate (S3_REQUESTS_PER_CACHE_GB). Transfer between S3 and EC2
 * in one region is free, and through the gateway endpoint no NAT processes it.
 */
const s3Bucket: PricingRule = (bucket, { stack, usage, registryCaches }) => {
  const ttlDays = cacheExpiryDays(bucket, stack);
  const refills = Math.min(usage.experimentSessionsPerMonth, DAYS_PER_MONTH / ttlDays);
  const writes = usage.cacheGb * refills * S3_REQUESTS_PER_CACHE_GB.writes;
  const pulls = usage.experimentSessionsPerMonth * usage.nodesPerSession;
  const reads = usage.cacheGb * pulls * S3_REQUESTS_PER_CACHE_GB.reads;
  const lines = [
    line(bucket, { item: "S3 Standard storage", quantity: usage.cacheGb, unit: "GB-month", unitUsd: PRICES.s3StandardGbMonth, basis: "usage.cacheGb: the bytes cached, billed all month", idle: true }),
    line(bucket, {
      item: "S3 PUT/COPY/POST/LIST requests: cache refills (estimate)",
      quantity: writes / 1000,
      unit: "1k requests",
      unitUsd: PRICES.s3WriteRequestsPer1000,
      basis:
        `estimate: usage.cacheGb ${usage.cacheGb} GB written ${round(refills)} times a month (proxy.ttl ${ttlDays} days, ` +
        `${usage.experimentSessionsPerMonth} sessions) × ${S3_REQUESTS_PER_CACHE_GB.writes}/GB (cost/prices.ts S3_REQUESTS_PER_CACHE_GB)`,
      idle: false,
    }),
    line(bucket, {
      item: "S3 GET requests: pulls through the caches (estimate)",
      quantity: reads / 1000,
      unit: "1k requests",
      unitUsd: PRICES.s3ReadRequestsPer1000,
      basis: `estimate: usage.cacheGb ${usage.cacheGb} GB read by ${pulls} node-sessions × ${S3_REQUESTS_PER_CACHE_GB.reads}/GB (cost/prices.ts S3_REQUESTS_PER_CACHE_GB)`,
      idle: false,
    }),
  ];
  return [...lines, ...storageHealthCheckLines(bucket, { stack, usage, registryCaches }, storageHealthCheck("s3"))];
};

/**
 * The requests of the registries' storage health check on the cache bucket: a HEAD and a LIST per
 * cache per interval while the bastion runs (lib/registry-cache.ts says why). None when the check
 * is off, as the rendered S3 config has it; exported so the figure it would cost stays tested.
 */
export function storageHealthCheckLines(bucket: StackResource, { stack, registryCaches }: RuleContext, health: ReturnType<typeof storageHealthCheck>): CostLine[] {
  if (!health.enabled) return [];
  const bastion = stack.resource("aws_autoscaling_group.bastion");
  if (!bastion) throw new PricingError(bucket.address, "the storage health check polls while the bastion runs, and the stack has no aws_autoscaling_group.bastion to take its hours from");
  const { hours, basis } = groupRunning(bastion, stack);
  const polls = registryCaches * (3600 / health.intervalSeconds) * hours;
  const poll = (item: string, unitUsd: number) =>
    line(bucket, { item, quantity: polls / 1000, unit: "1k requests", unitUsd, basis: `${registryCaches} caches × every ${health.intervalSeconds} s × bastion ${basis}`, idle: false });
  return [poll("S3 LIST requests: storage health check", PRICES.s3WriteRequestsPer1000), poll("S3 HEAD requests: storage health check", PRICES.s3ReadRequestsPer1000)];
}

/** Billable resource types and their rules. */
export const PRICING_RULES: Readonly<Record<string, PricingRule>> = {
  aws_autoscaling_group: autoscalingGroup,
  aws_instance: instance,
  aws_ebs_volume: ebsVolume,
  aws_ebs_snapshot: ebsSnapshot,
  aws_eip: elasticIp,
  aws_nat_gateway: natGateway,
  aws_internet_gateway: internetGateway,
  aws_budgets_budget: budget,
  aws_vpc_endpoint: vpcEndpoint,
  aws_ssm_parameter: ssmParameter,
  aws_cloudwatch_metric_alarm: cloudwatchAlarm,
  aws_s3_bucket: s3Bucket,
};

/** Resource types AWS does not bill, each with the reason. */
export const FREE_RESOURCE_TYPES: Readonly<Record<string, string>> = {
  aws_vpc: "VPCs have no charge",
  aws_subnet: "subnets have no charge",
  aws_route_table: "route tables have no charge",
  aws_route: "routes have no charge",
  aws_route_table_association: "associations have no charge",
  aws_vpc_dhcp_options: "DHCP option sets have no charge",
  aws_vpc_dhcp_options_association: "associations have no charge",
  aws_default_security_group: "security groups have no charge",
  aws_security_group: "security groups have no charge",
  aws_vpc_security_group_ingress_rule: "security group rules have no charge",
  aws_vpc_security_group_egress_rule: "security group rules have no charge",
  aws_network_interface: "ENIs have no charge; a public IPv4 on one is priced where it is assigned (aws_eip, launch template, aws_instance)",
  aws_network_interface_attachment: "attachments have no charge",
  aws_eip_association: "the address itself is priced on its aws_eip",
  aws_volume_attachment: "attachments have no charge; the volume is priced on its aws_ebs_volume",
  aws_launch_template: "templates have no charge; what they launch is priced on the aws_autoscaling_group or aws_instance using them",
  aws_autoscaling_schedule: "scheduled actions have no charge; the hours they produce are priced on their aws_autoscaling_group",
  aws_iam_role: "IAM has no charge",
  aws_iam_role_policy: "IAM has no charge",
  aws_iam_role_policy_attachment: "IAM has no charge",
  aws_iam_policy: "IAM has no charge",
  aws_iam_instance_profile: "IAM has no charge",
  aws_key_pair: "key pairs have no charge",
  aws_scheduler_schedule: "EventBridge Scheduler: the first 14 million invocations a month are free; a session's expiry is one",
  aws_s3_bucket_server_side_encryption_configuration: "bucket settings have no charge (SSE-S3 included); storage and requests are priced on the aws_s3_bucket",
  aws_s3_bucket_public_access_block: "bucket settings have no charge",
  aws_s3_bucket_ownership_controls: "bucket settings have no charge",
  aws_s3_bucket_policy: "bucket policies have no charge",
  aws_s3_bucket_lifecycle_configuration: "lifecycle expiration has no charge (only transitions to other storage classes bill, and the rule makes none)",
  aws_sqs_queue:
    "SQS: the first million requests a month are free; the dead-letter queue receives a message only when a node's termination fails, and the alarm reads its metrics for free",
  aws_sns_topic: "SNS topics have no charge; deliveries are priced per notification",
  aws_sns_topic_subscription: "SNS: the first 1,000 email notifications a month are free; this one mails only when a node's termination fails",
  terraform_data: "not an AWS resource: a value kept in the state (the session's deadline)",
};
