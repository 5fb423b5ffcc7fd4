/**
 * The EC2 instance types this lab knows: what each is (vCPUs, memory, architecture, burstable
 * baseline, bare metal) and its eu-west-1 on-demand list price. The config needs these facts
 * (the architecture and pricing rules, the node presets of `npm run cost`), and the cost model
 * prices from the same table, so it lives here, below both. The dated spot prices, volume and
 * network prices stay in cost/prices.ts.
 * "Per month" means 730 hours, AWS's own convention on the pricing pages.
 */
import type { Architecture } from "./schema.js";

/** The region of the list prices below. */
export const PRICES_REGION = "eu-west-1";

/**
 * Where the us-east-1 list prices behind the estimated types come from: a table generated from the
 * AWS Price List API and published with its generation date (it holds us-east-1 only).
 */
export const US_EAST_1_PRICE_LIST = {
  generated: "2026-01-19",
  url: "https://github.com/aws/karpenter-provider-aws/blob/031e72b6099630e960dacb88b48a7e9bb780945f/pkg/providers/pricing/zz_generated.pricing_aws.go",
} as const;

/**
 * eu-west-1 over us-east-1 for the estimated types: t4g.small lists at $0.0184 here and $0.0168
 * there (×1.095), rounded up so an estimate errs high and the budget guard stays on the safe side.
 */
export const EU_WEST_1_OVER_US_EAST_1 = 1.1;

/** An eu-west-1 hourly price estimated from the us-east-1 list price, to four decimals. */
function estimated(usEast1UsdPerHour: number): { usdPerHour: number; priceEstimate: { usEast1UsdPerHour: number } } {
  return { usdPerHour: Math.round(usEast1UsdPerHour * EU_WEST_1_OVER_US_EAST_1 * 10_000) / 10_000, priceEstimate: { usEast1UsdPerHour } };
}

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
  /**
   * A bare-metal type: the instance is the whole host, so /dev/kvm exists and KubeVirt can run
   * virtual machines. Virtualized types (every non-.metal type, T4g included) have no /dev/kvm.
   * @default false
   */
  readonly bareMetal?: boolean;
  /**
   * Set when `usdPerHour` is not an eu-west-1 list price but the us-east-1 list price
   * (US_EAST_1_PRICE_LIST) × EU_WEST_1_OVER_US_EAST_1; replace it with the list price when at hand.
   * @default - `usdPerHour` is the eu-west-1 list price
   */
  readonly priceEstimate?: { readonly usEast1UsdPerHour: number };
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
  // Graviton without CPU credits: full vCPUs all the time, no credit specification (EC2 rejects one).
  "m7g.xlarge": { ...estimated(0.1632), vcpus: 4, memoryGiB: 16, architecture: "arm64" },
  "c7g.xlarge": { ...estimated(0.145), vcpus: 4, memoryGiB: 8, architecture: "arm64" },
  // Bare-metal Graviton: the only arm64 types with /dev/kvm. a1 is the first Graviton (Cortex-A72).
  "a1.metal": { ...estimated(0.408), vcpus: 16, memoryGiB: 32, architecture: "arm64", bareMetal: true },
  "c6g.metal": { ...estimated(2.3066), vcpus: 64, memoryGiB: 128, architecture: "arm64", bareMetal: true },
  "c7g.metal": { ...estimated(2.32), vcpus: 64, memoryGiB: 128, architecture: "arm64", bareMetal: true },
  "m7g.metal": { ...estimated(2.6112), vcpus: 64, memoryGiB: 256, architecture: "arm64", bareMetal: true },
  // x86_64 (Intel t3, AMD t3a), for sites or nodes whose architecture is "x86_64".
  "t3.nano": { usdPerHour: 0.0057, vcpus: 2, memoryGiB: 0.5, architecture: "x86_64", burstable: { baselinePerVcpu: 0.05, surplusUsdPerVcpuHour: T3_SURPLUS } },
  "t3.micro": { usdPerHour: 0.0114, vcpus: 2, memoryGiB: 1, architecture: "x86_64", burstable: { baselinePerVcpu: 0.1, surplusUsdPerVcpuHour: T3_SURPLUS } },
  "t3.small": { usdPerHour: 0.0228, vcpus: 2, memoryGiB: 2, architecture: "x86_64", burstable: { baselinePerVcpu: 0.2, surplusUsdPerVcpuHour: T3_SURPLUS } },
  "t3.medium": { usdPerHour: 0.0456, vcpus: 2, memoryGiB: 4, architecture: "x86_64", burstable: { baselinePerVcpu: 0.2, surplusUsdPerVcpuHour: T3_SURPLUS } },
  "t3.large": { usdPerHour: 0.0912, vcpus: 2, memoryGiB: 8, architecture: "x86_64", burstable: { baselinePerVcpu: 0.3, surplusUsdPerVcpuHour: T3_SURPLUS } },
  // AMD EPYC: CozyStack's documented node size on amd64, the way upstream CozyStack runs here (its
  // images are amd64-only); T3a bills the same surplus rate as T3 (EC2 burstable performance docs).
  "t3a.xlarge": { ...estimated(0.1504), vcpus: 4, memoryGiB: 16, architecture: "x86_64", burstable: { baselinePerVcpu: 0.4, surplusUsdPerVcpuHour: T3_SURPLUS } },
};

/** The bare-metal types of an architecture (the ones with /dev/kvm), cheapest first. */
export function bareMetalTypes(architecture: InstanceTypeInfo["architecture"]): { readonly type: string; readonly usdPerHour: number }[] {
  return Object.entries(INSTANCE_TYPES)
    .filter(([, info]) => info.bareMetal === true && info.architecture === architecture)
    .map(([type, info]) => ({ type, usdPerHour: info.usdPerHour }))
    .sort((a, b) => a.usdPerHour - b.usdPerHour);
}
