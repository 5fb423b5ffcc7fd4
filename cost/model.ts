/**
 * The cost model: walks a synthesized stack (cdk.tf.json), prices every resource with its rule
 * (rules.ts) at the dated list prices (prices.ts) — instances whose market options say spot at the
 * dated spot prices, labelled variable — scales by count, applies the free tier the config says the
 * account has, and returns one line per billed item.
 *
 * Counts: `count = N` multiplies a resource by N. `count = var.x` marks a session resource (the
 * Talos nodes): it exists only during experiment sessions, so one copy's monthly figure is scaled to
 *   usage.experimentSessionsPerMonth × usage.hoursPerSession × usage.nodesPerSession hours.
 */
import type { SiteConfig } from "../config/schema.js";
import { HOURS_PER_MONTH, hourlyPrice, PRICES_AS_OF, SPOT_PRICES_AS_OF, T4G_TRIAL } from "./prices.js";
import { EU_WEST_1_OVER_US_EAST_1, INSTANCE_TYPES, PRICES_REGION } from "../config/instance-types.js";
import { StackView, type StackResource, type TerraformJson } from "../analysis/synthesized.js";
import { FREE_RESOURCE_TYPES, PricingError, PRICING_RULES, type CostLine, type RuleContext } from "./rules.js";

export type { CostLine } from "./rules.js";

export interface CostOptions {
  /**
   * The month priced, "YYYY-MM": decides whether the t4g.small trial still applies.
   * @default the current UTC month
   */
  readonly month?: string;
}

export interface CostReport {
  readonly month: string;
  readonly pricesAsOf: string;
  /** Every billed item, ordered by resource address. */
  readonly lines: readonly CostLine[];
  readonly totalUsd: number;
  /** What stays billed with every instance stopped and the nodes at 0 (persistent volumes, EIPs, NAT gateways). */
  readonly idleUsd: number;
  /** Resources that cost nothing, with the reason. */
  readonly free: readonly { readonly address: string; readonly reason: string }[];
  /** Resource types with neither a pricing rule nor a free entry: the total leaves them out. */
  readonly unpriced: readonly string[];
  /** Resources whose rule could not price them as written: the total leaves them out. */
  readonly problems: readonly string[];
  /** Things the reader should know about the figure (free tier expired, ...). */
  readonly notes: readonly string[];
}

type CostConfig = Pick<SiteConfig, "aws" | "usage" | "budget" | "services">;

/** The current UTC month as "YYYY-MM". */
export function currentMonth(now: Date = new Date()): string {
  return now.toISOString().slice(0, 7);
}

export function estimateMonthlyCost(json: TerraformJson, config: CostConfig, options: CostOptions = {}): CostReport {
  const month = options.month ?? currentMonth();
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new RangeError(`month "${month}" must be YYYY-MM, e.g. "2026-11"`);
  const stack = StackView.of(json);
  const { resources } = stack;
  const context: RuleContext = { stack, usage: config.usage, registryCaches: config.services.registryCaches.length };
  const problems: string[] = [];
  const priceOne = (resource: StackResource): CostLine[] => {
    try {
      return scaleByCount(resource, PRICING_RULES[resource.type]!(resource, context), context);
    } catch (error) {
      if (!(error instanceof PricingError)) throw error;
      problems.push(error.message);
      return [];
    }
  };

  const unpriced = [...new Set(resources.map((r) => r.type))].filter((type) => !PRICING_RULES[type] && !FREE_RESOURCE_TYPES[type]).sort();
  const free = resources.filter((r) => FREE_RESOURCE_TYPES[r.type]).map((r) => ({ address: r.address, reason: FREE_RESOURCE_TYPES[r.type]! }));
  const priced = resources
    .filter((r) => PRICING_RULES[r.type])
    // By address in code-unit order, as the NAT comparison lists them: the same on every machine
    // (localeCompare follows the runtime's locale, and its first call loads collation data).
    .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
    .flatMap(priceOne);
  const trial = t4gTrial(priced, config.budget.t4gTrial, month);
  const lines = [...priced, ...trial.lines];
  const sum = (items: readonly CostLine[]) => items.reduce((total, l) => total + l.monthlyUsd, 0);
  return {
    month,
    pricesAsOf: PRICES_AS_OF,
    lines,
    totalUsd: sum(lines),
    idleUsd: sum(lines.filter((l) => l.idle)),
    free,
    unpriced,
    problems,
    notes: [
      ...(config.aws.region === PRICES_REGION ? [] : [`prices are ${PRICES_REGION} list prices; the site is in ${config.aws.region}`]),
      ...trial.notes,
      ...spotNotes(lines),
      ...estimatedTypes(lines).map(
        ([type, usEast1]) =>
          `${type} is priced at an estimate, ${PRICES_REGION} = us-east-1 list price $${usEast1}/h × ${EU_WEST_1_OVER_US_EAST_1} (config/instance-types.ts); check it against the ${PRICES_REGION} list price`,
      ),
    ],
  };
}

/** What the reader must know about spot-priced lines: the price is a dated snapshot of a variable one. */
function spotNotes(lines: readonly CostLine[]): string[] {
  const spot = lines.filter((l) => l.market === "spot");
  if (spot.length === 0) return [];
  const addresses = [...new Set(spot.map((l) => l.address))].join(", ");
  return [
    `${addresses}: spot, priced at ${PRICES_REGION} spot prices of ${SPOT_PRICES_AS_OF} (cost/prices.ts SPOT_USD_PER_HOUR); ` +
      "spot prices vary and a bill can differ, never above the on-demand price; an interrupted node stops billing when EC2 reclaims it",
  ];
}

/** Instance types of the report priced at an estimate (on-demand, or a spot price capped at it), with their us-east-1 list price. */
function estimatedTypes(lines: readonly CostLine[]): [string, number][] {
  const atListPrice = lines.filter((l) => l.instanceType !== undefined && (l.market !== "spot" || hourlyPrice(l.instanceType, "spot")?.cappedAtOnDemand));
  const types = [...new Set(atListPrice.map((l) => l.instanceType!))].sort();
  return types.flatMap((type) => {
    const estimate = INSTANCE_TYPES[type]?.priceEstimate;
    return estimate ? [[type, estimate.usEast1UsdPerHour] as [string, number]] : [];
  });
}

/** What one session's resources cost in the report's month: its session lines at one session a month. */
export function oneSessionUsd(json: TerraformJson, config: CostConfig, options: CostOptions = {}): number {
  const single = { ...config, usage: { ...config.usage, experimentSessionsPerMonth: 1 } };
  return estimateMonthlyCost(json, single, options)
    .lines.filter((l) => l.session)
    .reduce((total, l) => total + l.monthlyUsd, 0);
}

/**
 * The most a forgotten session costs: every node address running until the session expiry
 * (constructs/session-expiry.ts) terminates them, `talos.sessionHours` after launch. Session lines
 * are priced per node-hour of the usage profile, so they scale to any session length.
 */
export function forgottenSessionUsd(report: CostReport, config: Pick<SiteConfig, "usage" | "talos">): number {
  const { experimentSessionsPerMonth, hoursPerSession, nodesPerSession } = config.usage;
  const nodeHours = experimentSessionsPerMonth * hoursPerSession * nodesPerSession;
  const sessionUsd = report.lines.filter((l) => l.session).reduce((total, l) => total + l.monthlyUsd, 0);
  return nodeHours === 0 ? 0 : (sessionUsd / nodeHours) * config.talos.sessionHours * config.talos.nodeIps.length;
}

/** The `n` lines that cost the most, dearest first. */
export function biggestLines(report: CostReport, n: number): CostLine[] {
  return [...report.lines].sort((a, b) => b.monthlyUsd - a.monthlyUsd).slice(0, n);
}

function scaleByCount(resource: StackResource, lines: CostLine[], { usage }: RuleContext): CostLine[] {
  const scale = (factor: number, basis: (line: CostLine) => string, idle: (line: CostLine) => boolean, session?: true) =>
    lines.map((l) => ({ ...l, quantity: l.quantity * factor, monthlyUsd: l.monthlyUsd * factor, basis: basis(l), idle: idle(l), ...(session && { session }) }));
  if (resource.count.kind === "unsupported") throw new PricingError(resource.address, resource.count.why);
  if (resource.count.kind === "fixed") {
    const { copies } = resource.count;
    return copies === 1 ? lines : scale(copies, (l) => `${l.basis}; × ${copies} (count)`, (l) => l.idle);
  }
  const hours = usage.experimentSessionsPerMonth * usage.hoursPerSession * usage.nodesPerSession;
  const basis =
    `count = var.${resource.count.variable}: session resource, ${usage.experimentSessionsPerMonth} sessions × ` +
    `${usage.hoursPerSession} h × ${usage.nodesPerSession} nodes = ${hours} h (usage)`;
  // Session resources are gone between sessions.
  return scale(hours / HOURS_PER_MONTH, () => basis, () => false, true);
}

/** The last month the t4g.small trial credits, "YYYY-MM". */
export const T4G_TRIAL_LAST_MONTH = T4G_TRIAL.endsOn.slice(0, 7);

/** The t4g.small trial as a credit line: up to 750 h a month across every t4g.small, while it lasts. */
function t4gTrial(lines: readonly CostLine[], accountHasTrial: boolean, month: string): { lines: CostLine[]; notes: string[] } {
  if (!accountHasTrial) return { lines: [], notes: [] };
  if (month > T4G_TRIAL_LAST_MONTH) {
    return { lines: [], notes: [`budget.t4gTrial is set, but the t4g.small trial ended ${T4G_TRIAL.endsOn}: list prices apply in ${month}`] };
  }
  const trialType = lines.filter((l) => l.instanceType === T4G_TRIAL.instanceType);
  // Taken to credit on-demand hours only: spot hours of the type are priced in full, which errs high.
  const spotNote = trialType.some((l) => l.market === "spot")
    ? [`the t4g.small trial is taken to credit on-demand hours only: spot ${T4G_TRIAL.instanceType} hours are priced in full (the model errs high)`]
    : [];
  const hours = trialType.filter((l) => l.market !== "spot").reduce((total, l) => total + l.quantity, 0);
  if (hours === 0) return { lines: [], notes: spotNote };
  const credited = Math.min(hours, T4G_TRIAL.hoursPerMonth);
  const usdPerHour = INSTANCE_TYPES[T4G_TRIAL.instanceType]!.usdPerHour;
  return {
    lines: [
      {
        address: "(free tier)",
        item: `${T4G_TRIAL.instanceType} trial, ${T4G_TRIAL.hoursPerMonth} h/month shared`,
        quantity: credited,
        unit: "h",
        unitUsd: -usdPerHour,
        monthlyUsd: -credited * usdPerHour,
        basis: `budget.t4gTrial; ${Math.round(hours * 100) / 100} on-demand ${T4G_TRIAL.instanceType} hours this month; trial ends ${T4G_TRIAL.endsOn}`,
        idle: false,
      },
    ],
    notes: spotNote,
  };
}
