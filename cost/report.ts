/** Text renderings of a cost report: the synth one-liner, the budget verdict, the tables of `npm run cost`. */
import type { InstanceMarket, SiteConfig } from "../config/schema.js";
import { biggestLines, type CostLine, type CostReport } from "./model.js";
import type { NodeTypePreset } from "../config/node-type-presets.js";
import { HOURS_PER_MONTH, hourlyPrice, PRICE_SOURCES, SPOT_PRICES_AS_OF } from "./prices.js";
import { PRICES_REGION } from "../config/instance-types.js";

const usd = (value: number) => `${value < 0 ? "-" : ""}$${Math.abs(value).toFixed(2)}`;
/** Unit prices need more digits: four decimals, trailing zeros trimmed down to two ($0.0046, $0.088, $0.09). */
const unitUsd = (value: number) => `${value < 0 ? "-" : ""}$${Math.abs(value).toFixed(4).replace(/(\.\d\d\d*?)0+$/, "$1")}`;
const quantity = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(2));

/** Why the total is a lower bound, or "" when every resource is priced. */
function gaps(report: CostReport): string {
  const parts = [
    ...(report.unpriced.length > 0 ? [`unpriced types: ${report.unpriced.join(", ")}`] : []),
    ...(report.problems.length > 0 ? [`${report.problems.length} resource(s) could not be priced`] : []),
  ];
  return parts.length > 0 ? ` (LOWER BOUND: ${parts.join("; ")})` : "";
}

/** Where the report's prices come from, in a few words: the list prices' date, and the spot prices' when any line is spot. */
function pricesUsed(report: CostReport): string {
  const spot = report.lines.some((l) => l.market === "spot") ? `, spot lines at ${PRICES_REGION} spot prices of ${SPOT_PRICES_AS_OF} (variable)` : "";
  return `${PRICES_REGION} list prices of ${report.pricesAsOf}${spot}`;
}

/** The one line synth prints. */
export function projectionLine(report: CostReport, config: Pick<SiteConfig, "budget" | "network">): string {
  return (
    `cost: ${usd(report.totalUsd)}/month projected for ${report.month} (nat ${config.network.nat}, budget ${usd(config.budget.monthlyUsd)}, ` +
    `${pricesUsed(report)})${gaps(report)}; "npm run cost" prints every line`
  );
}

const describeLine = (line: CostLine) => `${line.address} ${line.item} ${usd(line.monthlyUsd)}`;

/** The reason synth must stop, or undefined when the projection fits the budget (or allowOver is set). */
export function budgetProblem(report: CostReport, budget: SiteConfig["budget"]): string | undefined {
  if (budget.allowOver) return undefined;
  // Fail closed: a total that leaves something out proves nothing about the budget.
  if (gaps(report) !== "") {
    return `budget.monthlyUsd: the projection${gaps(report)} cannot be checked against the budget; price what is missing in cost/ (see "npm run cost"), or set budget.allowOver: true`;
  }
  // Compared in cents, as printed: "$10.00 exceeds $10.00" would read as nonsense.
  if (Math.round(report.totalUsd * 100) <= Math.round(budget.monthlyUsd * 100)) return undefined;
  return (
    `budget.monthlyUsd: the projection ${usd(report.totalUsd)}/month exceeds the budget of ${usd(budget.monthlyUsd)}; ` +
    `biggest lines: ${biggestLines(report, 3).map(describeLine).join("; ")}. ` +
    // Suggest the NAT instance only where a NAT Gateway is what costs.
    `Cut those (e.g. ${report.lines.some((l) => l.address.startsWith("aws_nat_gateway.")) ? 'network.nat "bastion", ' : ""}a shorter bastion.schedule, fewer usage hours), ` +
    `raise budget.monthlyUsd, or set budget.allowOver: true`
  );
}

function table(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const render = (cells: readonly string[]) =>
    cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [render(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(render)].join("\n");
}

/** The full table of one report: every line, the total, what stays billed at rest, and the caveats. */
export function formatReport(report: CostReport, title: string): string {
  const rows = report.lines.map((l) => [l.address, l.item, `${quantity(l.quantity)} ${l.unit}`, `${unitUsd(l.unitUsd)}/${l.unit}`, usd(l.monthlyUsd)]);
  rows.push(["TOTAL", "", "", "", usd(report.totalUsd)]);
  const body = table(["resource", "item", "quantity", "unit price", "$/month"], rows, new Set([2, 3, 4]));
  return [
    title,
    "",
    body,
    "",
    `At rest (instances stopped, nodes at 0): ${usd(report.idleUsd)}/month.`,
    `${report.free.length} more resources cost nothing: --json lists each with its reason (FREE_RESOURCE_TYPES in cost/rules.ts).`,
    ...report.notes.map((n) => `Note: ${n}`),
    ...report.unpriced.map((t) => `UNPRICED: ${t} has no rule in cost/rules.ts and is not listed as free; the total leaves it out.`),
    ...report.problems.map((p) => `NOT PRICED: ${p}`),
  ].join("\n");
}

/** One column of a side-by-side table: a priced variant of the site. */
export interface SideBySideColumn {
  readonly label: string;
  readonly report: CostReport;
}

/**
 * Variants side by side: every address that costs anything in any of them, the totals, what stays
 * billed at rest, then `extraRows` (a label and one figure per column).
 */
export function formatSideBySide(columns: readonly SideBySideColumn[], extraRows: readonly (readonly [string, readonly number[]])[] = []): string {
  const byAddress = (report: CostReport) => {
    const sums = new Map<string, number>();
    for (const l of report.lines) sums.set(l.address, (sums.get(l.address) ?? 0) + l.monthlyUsd);
    return sums;
  };
  const sums = columns.map((c) => byAddress(c.report));
  const addresses = [...new Set(sums.flatMap((s) => [...s.keys()]))].sort();
  const rows = addresses.map((a) => [a, ...sums.map((s) => (s.has(a) ? usd(s.get(a)!) : "-"))]);
  rows.push(["TOTAL", ...columns.map((c) => `${usd(c.report.totalUsd)}${gaps(c.report) === "" ? "" : " LOWER BOUND"}`)]);
  rows.push(["at rest", ...columns.map((c) => usd(c.report.idleUsd))]);
  for (const [label, figures] of extraRows) rows.push([label, ...figures.map(usd)]);
  return table(["resource ($/month)", ...columns.map((c) => c.label)], rows, new Set(columns.map((_, i) => i + 1)));
}

/** One node-type preset priced through the model. */
export interface NodeTypeCost {
  readonly preset: NodeTypePreset;
  /** The CozyStack bundles the type can run (config/node-type-presets.ts bundlesFor). */
  readonly bundles: readonly string[];
  /** The nodes of one session: instance hours, surplus credits, root volumes. */
  readonly sessionUsd: number;
  /** The whole site for a month at the configured usage with this node type. */
  readonly monthlyUsd: number;
  /** Every resource priced: false makes the figures lower bounds. */
  readonly complete: boolean;
}

/** A node type's hourly price on `market`, as the table shows it: "(est.)" when it is the estimated list price, "(spot)" for a spot price. */
function nodeHourly(preset: NodeTypePreset, market: InstanceMarket): string {
  const price = hourlyPrice(preset.instanceType, market);
  if (!price) return "not priced";
  const atListPrice = market === "on-demand" || price.cappedAtOnDemand === true;
  const label = [...(market === "spot" ? ["spot"] : []), ...(atListPrice && preset.info.priceEstimate ? ["est."] : [])];
  return `${unitUsd(price.usdPerHour)}${label.length > 0 ? ` (${label.join(", ")})` : ""}`;
}

/** The node-type presets side by side, bought on `market`; `configured` marks the type the site uses. */
/** The bundles cell of a node type CozyStack publishes no images for. */
const NO_BUNDLE = "-";

export function formatNodeTypeComparison(costs: readonly NodeTypeCost[], configured: string, market: InstanceMarket): string {
  const rows = costs.map(({ preset, bundles, sessionUsd, monthlyUsd, complete }) => [
    preset.name,
    `${preset.instanceType}${preset.instanceType === configured ? " *" : ""}`,
    `${preset.info.vcpus} / ${preset.info.memoryGiB}`,
    preset.info.bareMetal ? "yes" : "no",
    bundles.length > 0 ? bundles.join(", ") : NO_BUNDLE,
    nodeHourly(preset, market),
    `${usd(sessionUsd)}${complete ? "" : " LOWER BOUND"}`,
    `${usd(monthlyUsd)}${complete ? "" : " LOWER BOUND"}`,
  ]);
  return [
    table(["preset", "node type", "vCPU / GiB", "/dev/kvm", "CozyStack bundles", "$/h per node", "one session", "$/month"], rows, new Set([5, 6, 7])),
    ...costs.filter(({ preset }) => preset.criterion !== "").map(({ preset }) => `  ${preset.name}: the cheapest type with ${preset.criterion}`),
    ...(costs.some((c) => c.preset.instanceType === configured) ? ["  * the configured talos.nodeInstanceType"] : []),
    ...(costs.some((c) => c.bundles.length === 0) ? [`  ${NO_BUNDLE} in CozyStack bundles: no CozyStack images for the type's architecture (upstream is amd64-only; docs/cozystack.md, "What runs where")`] : []),
    ...(market === "spot" ? [`  talos.nodeMarket is spot: $/h per node is the ${PRICES_REGION} spot price of ${SPOT_PRICES_AS_OF}, which varies`] : []),
  ].join("\n");
}

/** A footer naming where the prices come from, for `report` and any printed `alongside` it. */
export function pricesFooter(report: CostReport, alongside: readonly CostReport[] = []): string {
  return [
    `Prices: ${PRICES_REGION} on-demand list prices as of ${report.pricesAsOf} (cost/prices.ts), ${HOURS_PER_MONTH} h/month. Month priced: ${report.month}.`,
    ...([report, ...alongside].some((r) => r.lines.some((l) => l.market === "spot"))
      ? [`Spot lines: ${PRICES_REGION} spot prices of ${SPOT_PRICES_AS_OF} (cost/prices.ts SPOT_USD_PER_HOUR), a snapshot of a variable price.`]
      : []),
    ...PRICE_SOURCES.map((s) => `  ${s.what}: ${s.url}`),
  ].join("\n");
}
