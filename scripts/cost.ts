/**
 * `npm run cost [-- --json] [-- --month YYYY-MM] [-- --compare]`: synthesizes the configured site
 * (DEATHSTAR_CONFIG applies) once per NAT mode and once per node-type preset
 * (config/node-type-presets.ts) into temporary directories, prices each synthesized stack and prints
 * the configured mode's table, the NAT modes side by side, the node types side by side (one session
 * and a month at the configured usage) and the price sources. `--compare` prints instead the designs
 * of config/designs.ts side by side: each month's lines, at rest, and in the t4g.small trial's last
 * month. `--json` prints the same reports for machines. Exits 1 when a resource could not be priced
 * (the figure would be a lower bound).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadSiteConfig, mergeOverride, validateSiteConfig } from "../config/load.js";
import type { SiteConfig } from "../config/schema.js";
import { hourlyPrice } from "../cost/prices.js";
import { estimateMonthlyCost, forgottenSessionUsd, oneSessionUsd, T4G_TRIAL_LAST_MONTH, type CostReport } from "../cost/model.js";
import { COMPARED_DESIGNS, type CompareDesign } from "../config/designs.js";
import { bundlesFor, nodeTypesToCompare, type NodeTypePreset } from "../config/node-type-presets.js";
import { nodeArchitecture } from "../config/talos.js";
import { budgetProblem, formatNodeTypeComparison, formatReport, formatSideBySide, pricesFooter, type NodeTypeCost } from "../cost/report.js";
import type { TerraformJson } from "../analysis/synthesized.js";
import { SecurityRuleError } from "../analysis/rules/aspect.js";
import { synthesizeStack } from "../stacks/synthesize.js";
import { parseCommandLine, runCommand, type CommandSpec } from "./cli.js";

const COMMAND: CommandSpec = {
  name: "cost",
  usage: `usage: npm run cost [-- --json] [-- --month YYYY-MM] [-- --compare]
  --json     the reports as JSON
  --month    price that month (trial and free-tier dates), e.g. 2026-12
  --compare  this site, the first defaults and the seed's design side by side (config/designs.ts)`,
  // RangeError: a malformed --month. SecurityRuleError: a stack the security rules refuse, as in synth.
  expected: [RangeError, SecurityRuleError],
};

// "none" is refused on an AWS site: the bastion needs egress (config/schema.ts).
const NAT_MODES = ["gateway", "instance", "bastion"] as const;

/** Each variant synthesized so far, by its config: the configured NAT mode's variant is also the configured node type's. */
const synthesized = new Map<string, TerraformJson>();

/** The configured site with `override` applied, synthesized into a temporary directory (once per distinct variant) and priced. */
function priceVariant<T>(config: Readonly<SiteConfig>, override: unknown, what: string, price: (json: TerraformJson, variant: Readonly<SiteConfig>) => T): T {
  const variant = validateSiteConfig(mergeOverride(config, override), `site config with ${what}`);
  const key = JSON.stringify(variant);
  let json = synthesized.get(key);
  if (json === undefined) {
    const outdir = mkdtempSync(join(tmpdir(), "deathstar-cost-"));
    try {
      json = synthesizeStack(outdir, variant);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
    synthesized.set(key, json);
  }
  return price(json, variant);
}

function priceMode(config: Readonly<SiteConfig>, nat: SiteConfig["network"]["nat"], month: string | undefined): CostReport {
  return priceVariant(config, { network: { nat } }, `network.nat "${nat}"`, (json, variant) => estimateMonthlyCost(json, variant, { month }));
}

/** One preset as the node type, running the configured bundle where it can, else the first it can. */
function pricePreset(config: Readonly<SiteConfig>, preset: NodeTypePreset, month: string | undefined): NodeTypeCost {
  const { version, bundle, ownBuild } = config.talos.cozystack;
  const bundles = bundlesFor(version, preset.info, ownBuild?.architectures);
  // The preset's own architecture: an amd64 preset beside arm64 nodes prices amd64 nodes. A type
  // that runs none of the release's bundles is priced without CozyStack, as the rule would demand.
  const talos = {
    architecture: preset.info.architecture,
    nodeInstanceType: preset.instanceType,
    cozystack: bundles.length > 0 ? { bundle: bundles.includes(bundle) ? bundle : bundles[0] } : { enabled: false },
  };
  return priceVariant(config, { talos }, `talos.nodeInstanceType "${preset.instanceType}"`, (json, variant) => {
    const monthly = estimateMonthlyCost(json, variant, { month });
    return { preset, bundles, sessionUsd: oneSessionUsd(json, variant, { month }), monthlyUsd: monthly.totalUsd, complete: monthly.unpriced.length === 0 && monthly.problems.length === 0 };
  });
}

/** A design priced for `month`, and for the trial's last month on an account that has the t4g.small trial. */
interface DesignCost {
  readonly design: CompareDesign;
  readonly report: CostReport;
  readonly trial: CostReport;
}

function priceDesign(config: Readonly<SiteConfig>, design: CompareDesign, month: string | undefined): DesignCost {
  return priceVariant(config, design.override, `the "${design.name}" design`, (json, variant) => ({
    design,
    report: estimateMonthlyCost(json, variant, { month }),
    trial: estimateMonthlyCost(json, { ...variant, budget: { ...variant.budget, t4gTrial: true } }, { month: T4G_TRIAL_LAST_MONTH }),
  }));
}

/** `--compare`: the designs side by side. */
function compareDesigns(config: Readonly<SiteConfig>, month: string | undefined, json: boolean): number {
  const costs = COMPARED_DESIGNS.map((design) => priceDesign(config, design, month));
  if (json) {
    const designs = costs.map(({ design, report, trial }) => ({ ...design, totalUsd: report.totalUsd, idleUsd: report.idleUsd, trialUsd: trial.totalUsd, report }));
    process.stdout.write(`${JSON.stringify({ site: config.site.name, month: costs[0]!.report.month, trialMonth: T4G_TRIAL_LAST_MONTH, designs }, null, 2)}\n`);
  } else {
    const month0 = costs[0]!.report.month;
    process.stdout.write(
      [
        `Designs side by side for site "${config.site.name}", ${month0}; usage as configured (${config.usage.experimentSessionsPerMonth} sessions × ${config.usage.hoursPerSession} h × ${config.usage.nodesPerSession} nodes):`,
        "",
        formatSideBySide(
          costs.map((c) => ({ label: c.design.name, report: c.report })),
          [[`with the t4g.small trial (${T4G_TRIAL_LAST_MONTH})`, costs.map((c) => c.trial.totalUsd)]],
        ),
        "",
        ...costs.map((c) => `  ${c.design.name}: ${c.design.description}`),
        `  at rest: instances stopped, nodes at 0. The trial row: budget.t4gTrial set, priced in ${T4G_TRIAL_LAST_MONTH}, the trial's last month.`,
        "",
        pricesFooter(costs[0]!.report, costs.map((c) => c.report)),
        "",
      ].join("\n"),
    );
  }
  return costs.some((c) => [c.report, c.trial].some((r) => r.unpriced.length > 0 || r.problems.length > 0)) ? 1 : 0;
}

function main(argv: readonly string[]): number {
  const { values } = parseCommandLine(COMMAND, argv, { json: { type: "boolean", default: false }, month: { type: "string" }, compare: { type: "boolean", default: false } });
  const config = loadSiteConfig();
  if (config.site.kind !== "aws") throw new ConfigError([`site.kind: "${config.site.kind}" deploys nothing to AWS; it costs nothing there`], "cost");
  if (values.compare) return compareDesigns(config, values.month, values.json);
  const reports = Object.fromEntries(NAT_MODES.map((mode) => [mode, priceMode(config, mode, values.month)])) as Record<(typeof NAT_MODES)[number], CostReport>;
  const current = reports[config.network.nat as (typeof NAT_MODES)[number]];
  const nodeTypes = nodeTypesToCompare(nodeArchitecture(config), config.talos.nodeInstanceType).map((preset) => pricePreset(config, preset, values.month));
  if (values.json) {
    const presets = nodeTypes.map(({ preset, bundles, sessionUsd, monthlyUsd }) => ({
      preset: preset.name,
      instanceType: preset.instanceType,
      market: config.talos.nodeMarket,
      usdPerHour: hourlyPrice(preset.instanceType, config.talos.nodeMarket)?.usdPerHour,
      bareMetal: preset.info.bareMetal === true,
      bundles,
      sessionUsd,
      monthlyUsd,
    }));
    const forgotten = forgottenSessionUsd(current, config);
    process.stdout.write(`${JSON.stringify({ site: config.site.name, nat: config.network.nat, nodeMarket: config.talos.nodeMarket, budgetUsd: config.budget.monthlyUsd, forgottenSessionUsd: forgotten, reports, nodeTypes: presets }, null, 2)}\n`);
  } else {
    const over = budgetProblem(current, { ...config.budget, allowOver: false });
    process.stdout.write(
      [
        formatReport(current, `Monthly cost of site "${config.site.name}" (nat ${config.network.nat}, nodes ${config.talos.nodeMarket}), ${current.month}`),
        `Budget: $${config.budget.monthlyUsd.toFixed(2)}/month${over ? `: OVER. ${over}` : ", within."}`,
        `A forgotten session ends by itself: EventBridge Scheduler terminates the nodes talos.sessionHours (${config.talos.sessionHours} h) after launch, ` +
          `at most $${forgottenSessionUsd(current, config).toFixed(2)} with all ${config.talos.nodeIps.length} node addresses in use.`,
        "",
        "NAT modes side by side (everything else as configured):",
        "",
        formatSideBySide(NAT_MODES.map((mode) => ({ label: `nat=${mode}`, report: reports[mode] }))),
        "",
        `Node types side by side (talos.nodeInstanceType; everything else as configured). A session is ${config.usage.nodesPerSession} nodes × ${config.usage.hoursPerSession} h; a month is the whole site at ${config.usage.experimentSessionsPerMonth} sessions:`,
        "",
        formatNodeTypeComparison(nodeTypes, config.talos.nodeInstanceType, config.talos.nodeMarket),
        "",
        pricesFooter(current),
        "",
      ].join("\n"),
    );
  }
  return current.unpriced.length > 0 || current.problems.length > 0 || nodeTypes.some((n) => !n.complete) ? 1 : 0;
}

runCommand(COMMAND, main);
