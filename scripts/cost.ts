/**
 * `npm run cost [-- --json] [-- --month YYYY-MM]`: synthesizes the configured site (DEATHSTAR_CONFIG
 * applies) once per NAT mode into temporary directories, prices each synthesized stack and prints
 * the configured mode's table, the NAT modes side by side and the price sources. `--json` prints
 * the same reports for machines. Exits 1 when a resource could not be priced (the figure would be
 * a lower bound).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadSiteConfig, mergeOverride, validateSiteConfig } from "../config/load.js";
import type { SiteConfig } from "../config/schema.js";
import { estimateMonthlyCost, type CostReport } from "../cost/model.js";
import { budgetProblem, formatNatComparison, formatReport, pricesFooter } from "../cost/report.js";
import { SecurityRuleError } from "../analysis/rules/aspect.js";
import { synthesizeStack } from "../stacks/synthesize.js";
import { parseCommandLine, runCommand, type CommandSpec } from "./cli.js";

const COMMAND: CommandSpec = {
  name: "cost",
  usage: `usage: npm run cost [-- --json] [-- --month YYYY-MM]
  --json   the reports as JSON
  --month  price that month (trial and free-tier dates), e.g. 2026-12`,
  // RangeError: a malformed --month. SecurityRuleError: a stack the security rules refuse, as in synth.
  expected: [RangeError, SecurityRuleError],
};

// "none" is refused on an AWS site: the bastion needs egress (config/schema.ts).
const NAT_MODES = ["gateway", "instance"] as const;

function priceMode(config: Readonly<SiteConfig>, nat: SiteConfig["network"]["nat"], month: string | undefined): CostReport {
  const variant = validateSiteConfig(mergeOverride(config, { network: { nat } }), `site config with network.nat "${nat}"`);
  const outdir = mkdtempSync(join(tmpdir(), "deathstar-cost-"));
  try {
    return estimateMonthlyCost(synthesizeStack(outdir, variant), variant, { month });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function main(argv: readonly string[]): number {
  const { values } = parseCommandLine(COMMAND, argv, { json: { type: "boolean", default: false }, month: { type: "string" } });
  const config = loadSiteConfig();
  if (config.site.kind !== "aws") throw new ConfigError([`site.kind: "${config.site.kind}" deploys nothing to AWS; it costs nothing there`], "cost");
  const reports = Object.fromEntries(NAT_MODES.map((mode) => [mode, priceMode(config, mode, values.month)])) as Record<(typeof NAT_MODES)[number], CostReport>;
  const current = reports[config.network.nat as (typeof NAT_MODES)[number]];
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ site: config.site.name, nat: config.network.nat, budgetUsd: config.budget.monthlyUsd, reports }, null, 2)}\n`);
  } else {
    const over = budgetProblem(current, { ...config.budget, allowOver: false });
    process.stdout.write(
      [
        formatReport(current, `Monthly cost of site "${config.site.name}" (nat ${config.network.nat}), ${current.month}`),
        `Budget: $${config.budget.monthlyUsd.toFixed(2)}/month${over ? `: OVER. ${over}` : ", within."}`,
        "",
        "NAT modes side by side (everything else as configured):",
        "",
        formatNatComparison(reports),
        "",
        pricesFooter(current),
        "",
      ].join("\n"),
    );
  }
  return current.unpriced.length > 0 || current.problems.length > 0 ? 1 : 0;
}

runCommand(COMMAND, main);
