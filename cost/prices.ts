/**
 * eu-west-1 (Ireland) on-demand list prices, as data. One dated table: update it here and nowhere else.
 *
 * Sources (checked 2026-11):
 *   EC2 on-demand:        https://aws.amazon.com/ec2/pricing/on-demand/  (Linux, eu-west-1)
 *   EBS:                  https://aws.amazon.com/ebs/pricing/
 *   VPC / NAT / IPv4:     https://aws.amazon.com/vpc/pricing/
 *   AWS Budgets:          https://aws.amazon.com/aws-cost-management/aws-budgets/pricing/
 *   Cost Explorer API:    https://aws.amazon.com/aws-cost-management/aws-cost-explorer/pricing/
 *   T4g free trial:       https://aws.amazon.com/ec2/faqs/#t4g-instances (750 h/month of t4g.small, until 2026-12-31)
 *   Free tier for accounts opened after 2025-07-15 is credit based: https://aws.amazon.com/free/
 */

export const PRICES_AS_OF = "2026-11";
export const HOURS_PER_MONTH = 730;

export interface InstanceTypeInfo {
  readonly usdPerHour: number;
  readonly vcpus: number;
  readonly memoryGiB: number;
  readonly architecture: "arm64" | "x86_64";
}

export const INSTANCE_TYPES: Readonly<Record<string, InstanceTypeInfo>> = {
  "t4g.nano": { usdPerHour: 0.0046, vcpus: 2, memoryGiB: 0.5, architecture: "arm64" },
  "t4g.micro": { usdPerHour: 0.0092, vcpus: 2, memoryGiB: 1, architecture: "arm64" },
  "t4g.small": { usdPerHour: 0.0184, vcpus: 2, memoryGiB: 2, architecture: "arm64" },
  "t4g.medium": { usdPerHour: 0.0368, vcpus: 2, memoryGiB: 4, architecture: "arm64" },
  "t4g.large": { usdPerHour: 0.0736, vcpus: 2, memoryGiB: 8, architecture: "arm64" },
  "t4g.xlarge": { usdPerHour: 0.1472, vcpus: 4, memoryGiB: 16, architecture: "arm64" },
  "t4g.2xlarge": { usdPerHour: 0.2944, vcpus: 8, memoryGiB: 32, architecture: "arm64" },
};

export const PRICES = {
  /** gp3 storage, per GB-month (baseline 3000 IOPS / 125 MB/s included). */
  ebsGp3GbMonth: 0.088,
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
  /** AWS Budgets without actions. */
  budget: 0,
  /** Cost Explorer API, per request. */
  costExplorerRequest: 0.01,
  /** SSM Parameter Store standard parameters. */
  ssmStandardParameter: 0,
} as const;

/** The t4g.small free trial: hours per month, shared by all t4g.small instances of the account. */
export const T4G_TRIAL = { instanceType: "t4g.small", hoursPerMonth: 750, endsOn: "2026-12-31" } as const;
