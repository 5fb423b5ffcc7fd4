import type { InstanceMarket } from "../config/schema.js";
import { EU_WEST_1_OVER_US_EAST_1, INSTANCE_TYPES, US_EAST_1_PRICE_LIST } from "../config/instance-types.js";

/**
 * eu-west-1 (Ireland) prices, as data. One dated table: update it here (the instance types' list
 * prices in config/instance-types.ts) and nowhere else, bump PRICES_AS_OF, and keep PRICE_SOURCES
 * pointing at the pages the numbers came from. A few instance types carry an estimate instead
 * (`priceEstimate`, derived from the us-east-1 list price and said so in every `npm run cost`
 * footer) until their eu-west-1 list price is read.
 * "Per month" means 730 hours, AWS's own convention on these pages.
 */

export const PRICES_AS_OF = "2026-11";

/**
 * eu-west-1 Linux **spot** prices, per instance-hour: one snapshot of a price that EC2 moves with
 * supply and demand, kept apart from the list prices above and labelled variable wherever it is
 * used. Read from AWS's spot price feed (the table behind the spot pricing page: the lowest price
 * of each type across the region's zones), as stored in a public repository that snapshots it;
 * see SPOT_PRICE_SOURCE. Every type of INSTANCE_TYPES has one (a test checks it), so a spot node
 * of any priced type can be priced. To update: take the `linux` column of region eu-west-1 from a
 * newer copy of the feed, and bump SPOT_PRICES_AS_OF.
 */
export const SPOT_PRICES_AS_OF = "2026-08";

export const SPOT_PRICE_SOURCE = {
  feed: "https://website.spot.ec2.aws.a2z.com/spot.json",
  page: "https://aws.amazon.com/ec2/spot/pricing/",
  /** The copy the figures were read from; that repository records fetches of the feed on 2026-08-06 and 2026-08-10. */
  snapshot: "https://github.com/alexei-led/spotinfo/blob/69bcec6705869f89302ee456159dfe39f8dc2b7b/internal/spot/data/spot-price-data.json",
} as const;

/** Where each group of prices comes from (printed under every `npm run cost` table). */
export const PRICE_SOURCES: readonly { readonly what: string; readonly url: string }[] = [
  { what: "EC2 on-demand, Linux", url: "https://aws.amazon.com/ec2/pricing/on-demand/" },
  { what: "EBS volumes and snapshots", url: "https://aws.amazon.com/ebs/pricing/" },
  { what: "NAT gateway, public IPv4, VPC endpoints", url: "https://aws.amazon.com/vpc/pricing/" },
  { what: "S3 Standard storage and requests", url: "https://aws.amazon.com/s3/pricing/" },
  { what: "Data transfer out", url: "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer" },
  { what: "AWS Budgets", url: "https://aws.amazon.com/aws-cost-management/aws-budgets/pricing/" },
  { what: "Cost Explorer API", url: "https://aws.amazon.com/aws-cost-management/aws-cost-explorer/pricing/" },
  { what: "CloudWatch alarms", url: "https://aws.amazon.com/cloudwatch/pricing/" },
  { what: "SSM Parameter Store", url: "https://aws.amazon.com/systems-manager/pricing/" },
  { what: "T4g free trial (750 h/month of t4g.small until 2026-12-31)", url: "https://aws.amazon.com/ec2/faqs/#t4g-instances" },
  { what: "Free Tier (credits for accounts opened from 2025-07-15)", url: "https://aws.amazon.com/free/" },
  {
    what: `EC2 spot, Linux (SPOT_USD_PER_HOUR): AWS's spot price feed ${SPOT_PRICE_SOURCE.feed} (behind ${SPOT_PRICE_SOURCE.page}), a copy of ${SPOT_PRICES_AS_OF}; spot prices vary`,
    url: SPOT_PRICE_SOURCE.snapshot,
  },
  {
    what: `EC2 types marked priceEstimate in INSTANCE_TYPES: us-east-1 list prices of ${US_EAST_1_PRICE_LIST.generated} × ${EU_WEST_1_OVER_US_EAST_1}`,
    url: US_EAST_1_PRICE_LIST.url,
  },
];

export const HOURS_PER_MONTH = 730;

/** The spot prices themselves (eu-west-1, Linux, $/instance-hour, as of SPOT_PRICES_AS_OF). */
export const SPOT_USD_PER_HOUR: Readonly<Record<string, number>> = {
  "t4g.nano": 0.0019,
  "t4g.micro": 0.0052,
  "t4g.small": 0.01,
  "t4g.medium": 0.0194,
  "t4g.large": 0.0368,
  "t4g.xlarge": 0.0746,
  "t4g.2xlarge": 0.1479,
  "m7g.xlarge": 0.0828,
  "c7g.xlarge": 0.0737,
  // The feed lists a1.metal at $0.461, above this table's on-demand estimate ($0.4488): the cap applies.
  "a1.metal": 0.461,
  "c6g.metal": 0.8383,
  "c7g.metal": 1.1193,
  "m7g.metal": 0.8142,
  "t3.nano": 0.0017,
  "t3.micro": 0.0054,
  "t3.small": 0.0113,
  "t3.medium": 0.0246,
  "t3.large": 0.0426,
  "t3a.xlarge": 0.0849,
};

/** One hour of an instance type on a market, as the model bills it. */
export interface HourlyPrice {
  readonly usdPerHour: number;
  readonly market: InstanceMarket;
  /**
   * Spot only: the dated spot price was above the on-demand price, so the on-demand price is used.
   * A spot request without a max price never pays more than on-demand (EC2 reclaims the instance instead).
   */
  readonly cappedAtOnDemand?: true;
}

/**
 * What one hour of `type` costs bought on `market`: the list price on demand, the dated spot price
 * (at most the list price) on spot; undefined when a table has no price for it.
 */
export function hourlyPrice(type: string, market: InstanceMarket): HourlyPrice | undefined {
  const onDemand = INSTANCE_TYPES[type]?.usdPerHour;
  if (onDemand === undefined) return undefined;
  if (market === "on-demand") return { usdPerHour: onDemand, market };
  const spot = SPOT_USD_PER_HOUR[type];
  if (spot === undefined) return undefined;
  return spot > onDemand ? { usdPerHour: onDemand, market, cappedAtOnDemand: true } : { usdPerHour: spot, market };
}

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
  /** S3 Standard storage, first 50 TB, per GB-month. */
  s3StandardGbMonth: 0.023,
  /** S3 Standard PUT, COPY, POST and LIST requests, per 1,000. */
  s3WriteRequestsPer1000: 0.005,
  /** S3 Standard GET and all other requests, per 1,000. */
  s3ReadRequestsPer1000: 0.0004,
} as const;

/**
 * S3 requests per GB a registry cache moves, an estimate for the cost model (not a measurement):
 * the S3 driver writes a blob in 10 MB parts (about 100 part uploads per GB) and adds a few small
 * objects per blob (links, upload state, the proxy's scheduler state) and lists; reads fetch link
 * files and the blob itself. Rounded up to 1,000 of each per GB so the estimate errs high.
 */
export const S3_REQUESTS_PER_CACHE_GB = { writes: 1000, reads: 1000 } as const;

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
