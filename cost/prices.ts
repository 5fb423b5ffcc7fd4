import type { Architecture } from "../config/schema.js";

/**
 * eu-west-1 (Ireland) on-demand list prices, as data. One dated table: update it here and nowhere
 * else, bump PRICES_AS_OF, and keep PRICE_SOURCES pointing at the pages the numbers came from.
 * "Per month" means 730 hours, AWS's own convention on these pages.
 */

export const PRICES_AS_OF = "2026-11";
export const PRICES_REGION = "eu-west-1";

/** Where each group of prices comes from (printed under every `npm run cost` table). */
export const PRICE_SOURCES: readonly { readonly what: string; readonly url: string }[] = [
  { what: "EC2 on-demand, Linux", url: "https://aws.amazon.com/ec2/pricing/on-demand/" },
  { what: "EBS volumes and snapshots", url: "https://aws.amazon.com/ebs/pricing/" },
  { what: "NAT gateway, public IPv4, VPC endpoints", url: "https://aws.amazon.com/vpc/pricing/" },
  { what: "Data transfer out", url: "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer" },
  { what: "AWS Budgets", url: "https://aws.amazon.com/aws-cost-management/aws-budgets/pricing/" },
  { what: "Cost Explorer API", url: "https://aws.amazon.com/aws-cost-management/aws-cost-explorer/pricing/" },
  { what: "CloudWatch alarms", url: "https://aws.amazon.com/cloudwatch/pricing/" },
  { what: "SSM Parameter Store", url: "https://aws.amazon.com/systems-manager/pricing/" },
  { what: "T4g free trial (750 h/month of t4g.small until 2026-12-31)", url: "https://aws.amazon.com/ec2/faqs/#t4g-instances" },
  { what: "Free Tier (credits for accounts opened from 2025-07-15)", url: "https://aws.amazon.com/free/" },
];

export const HOURS_PER_MONTH = 730;

export interface InstanceTypeInfo {
  readonly usdPerHour: number;
  readonly vcpus: number;
  readonly memoryGiB: number;
  readonly architecture: Architecture;
  /**
   * Burstable (T) types: the share of each vCPU the instance earns credits for, and what
   * "unlimited" credit mode bills per vCPU-hour above it (EC2 burstable performance docs;
   * T4g/T3 pricing: $0.04 / $0.05 per vCPU-hour, Linux).
   * @default - not burstable
   */
  readonly burstable?: { readonly baselinePerVcpu: number; readonly surplusUsdPerVcpuHour: number };
}

const T4G_SURPLUS = 0.04;
const T3_SURPLUS = 0.05;

export const INSTANCE_TYPES: Readonly<Record<string, InstanceTypeInfo>> = {
  "t4g.nano": { usdPerHour: 0.0046, vcpus: 2, memoryGiB: 0.5, architecture: "arm64", burstable: { baselinePerVcpu: 0.05, surplusUsdPerVcpuHour: T4G_SURPLUS } },
  "t4g.micro": { usdPerHour: 0.0092, vcpus: 2, memoryGiB: 1, architecture: "arm64", burstable: { baselinePerVcpu: 0.1, surplusUsdPerVcpuHour: T4G_SURPLUS } },
  "t4g.small": { usdPerHour: 0.0184, vcpus: 2, memoryGiB: 2, architecture: "arm64", burstable: { baselinePerVcpu: 0.2, surplusUsdPerVcpuHour: T4G_SURPLUS } },
  "t4g.medium": { usdPerHour: 0.0368, vcpus: 2, memoryGiB: 4, architecture: "arm64", burstable: { baselinePerVcpu: 0.2, surplusUsdPerVcpuHour: T4G_SURPLUS } },
  "t4g.large": { usdPerHour: 0.0736, vcpus: 2, memoryGiB: 8, architecture: "arm64", burstable: { baselinePerVcpu: 0.3, surplusUsdPerVcpuHour: T4G_SURPLUS } },
  "t4g.xlarge": { usdPerHour: 0.1472, vcpus: 4, memoryGiB: 16, architecture: "arm64", burstable: { baselinePerVcpu: 0.4, surplusUsdPerVcpuHour: T4G_SURPLUS } },
  "t4g.2xlarge": { usdPerHour: 0.2944, vcpus: 8, memoryGiB: 32, architecture: "arm64", burstable: { baselinePerVcpu: 0.4, surplusUsdPerVcpuHour: T4G_SURPLUS } },
  // x86_64, for sites with architecture "x86_64".
  "t3.nano": { usdPerHour: 0.0057, vcpus: 2, memoryGiB: 0.5, architecture: "x86_64", burstable: { baselinePerVcpu: 0.05, surplusUsdPerVcpuHour: T3_SURPLUS } },
  "t3.micro": { usdPerHour: 0.0114, vcpus: 2, memoryGiB: 1, architecture: "x86_64", burstable: { baselinePerVcpu: 0.1, surplusUsdPerVcpuHour: T3_SURPLUS } },
  "t3.small": { usdPerHour: 0.0228, vcpus: 2, memoryGiB: 2, architecture: "x86_64", burstable: { baselinePerVcpu: 0.2, surplusUsdPerVcpuHour: T3_SURPLUS } },
  "t3.medium": { usdPerHour: 0.0456, vcpus: 2, memoryGiB: 4, architecture: "x86_64", burstable: { baselinePerVcpu: 0.2, surplusUsdPerVcpuHour: T3_SURPLUS } },
  "t3.large": { usdPerHour: 0.0912, vcpus: 2, memoryGiB: 8, architecture: "x86_64", burstable: { baselinePerVcpu: 0.3, surplusUsdPerVcpuHour: T3_SURPLUS } },
};

/** EBS volume storage per GB-month, by volume type. A type missing here cannot be priced (and fails the tests). */
export const EBS_VOLUME_GB_MONTH: Readonly<Record<string, number>> = {
  /** Baseline 3000 IOPS / 125 MB/s included. */
  gp3: 0.088,
  gp2: 0.11,
};

export const PRICES = {
  /** gp3 IOPS provisioned above the 3000 baseline, per IOPS-month. */
  ebsGp3IopsMonth: 0.0055,
  /** gp3 throughput provisioned above the 125 MB/s baseline, per MB/s-month. */
  ebsGp3ThroughputMbpsMonth: 0.044,
  /** EBS snapshot storage (standard tier), per GB-month. */
  ebsSnapshotGbMonth: 0.05,
  /** NAT Gateway, per hour it exists. */
  natGatewayHour: 0.048,
  /** NAT Gateway data processing, per GB. */
  natGatewayGb: 0.048,
  /** Any public IPv4 address, in use or idle (Elastic IPs included), per hour. */
  publicIpv4Hour: 0.005,
  /** Interface VPC endpoint, per hour per AZ. */
  interfaceEndpointHourPerAz: 0.011,
  /** Data transfer out to the internet, per GB after the first 100 GB/month free (all services). */
  dataTransferOutGb: 0.09,
  /** Internet data transfer out that is free every month, account-wide. */
  dataTransferOutFreeGbMonth: 100,
  /** AWS Budgets without actions. */
  budget: 0,
  /** Cost Explorer API, per request. */
  costExplorerRequest: 0.01,
  /** SSM Parameter Store standard parameters. */
  ssmStandardParameter: 0,
  /** SSM Parameter Store advanced parameters, per parameter-month. */
  ssmAdvancedParameterMonth: 0.05,
  /** CloudWatch alarm on a standard-resolution metric, per alarm-month. */
  cloudwatchAlarmMonth: 0.1,
} as const;

/**
 * The t4g.small free trial: hours per month, shared by all t4g.small instances of the account, through
 * `endsOn`. Accounts opened on or after `creditAccountsFrom` get Free Tier credits instead.
 */
export const T4G_TRIAL = {
  instanceType: "t4g.small",
  hoursPerMonth: 750,
  endsOn: "2026-12-31",
  creditAccountsFrom: "2025-07-15",
} as const;
