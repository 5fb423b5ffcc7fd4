/**
 * The sizing figures in docs/cozystack.md and docs/cost.md are the code's: every price, session and
 * month is read back from the price table and the cost model, and the quoted refusal and
 * `npm run cost` excerpt are what the rule and the report print.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PINNED_COZYSTACK_VERSION } from "../config/cozystack.js";
import { SITE_RULES } from "../config/rules.js";
import { estimateMonthlyCost, oneSessionUsd } from "../cost/model.js";
import { bundlesFor, nodeTypePresets } from "../config/node-type-presets.js";
import { hourlyPrice, SPOT_PRICES_AS_OF, SPOT_USD_PER_HOUR } from "../cost/prices.js";
import { bareMetalTypes, INSTANCE_TYPES } from "../config/instance-types.js";
import { formatNodeTypeComparison, type NodeTypeCost } from "../cost/report.js";
import { REPO_ROOT } from "./helpers/project.js";
import { FIRST_DEFAULTS } from "../config/designs.js";
import { mergeOverride } from "../config/load.js";
import { firstDefaultsConfig, siteConfig, synthStack } from "./helpers/synth.js";

const MONTH = "2027-01";
const doc = (file: string) => readFileSync(join(REPO_ROOT, file), "utf8");
const usd = (value: number) => `$${value.toFixed(2)}`;

/** The text of the section under `heading` (up to the next heading of any level). */
function section(file: string, heading: string): string {
  const text = doc(file);
  const start = text.indexOf(`${heading}\n`);
  if (start < 0) throw new Error(`${file} has no heading "${heading}"`);
  const rest = text.slice(start + heading.length + 1);
  const next = rest.search(/^#{1,6} /m);
  return next < 0 ? rest : rest.slice(0, next);
}

/** Body rows of the first Markdown table in `text`, as trimmed cells. */
function tableRows(text: string): string[][] {
  const rows = text.split("\n").filter((line) => line.startsWith("|"));
  return rows.slice(2).map((row) => row.split("|").slice(1, -1).map((cell) => cell.trim()));
}

/** The first ```text block of `text`. */
function textBlock(text: string): string {
  const match = /```text\n([\s\S]*?)\n```/.exec(text);
  if (!match) throw new Error("no text block");
  return match[1]!;
}

/** A node type as the model prices it: one session, and the whole site for a month. */
function modelFigures(instanceType: string) {
  const info = INSTANCE_TYPES[instanceType]!;
  const bundle = info.bareMetal ? "paas-full" : "distro-full";
  const config = siteConfig({ talos: { architecture: info.architecture, nodeInstanceType: instanceType, cozystack: { bundle } } });
  const stack = synthStack(config);
  const report = estimateMonthlyCost(stack, config, { month: MONTH });
  const sessionLines = report.lines.filter((l) => l.session).reduce((total, l) => total + l.monthlyUsd, 0);
  return { info, sessionUsd: oneSessionUsd(stack, config, { month: MONTH }), monthlyUsd: report.totalUsd, restUsd: report.totalUsd - sessionLines };
}

const hourly = (instanceType: string) => {
  const info = INSTANCE_TYPES[instanceType]!;
  return `$${info.usdPerHour}${info.priceEstimate ? " (est.)" : ""}`;
};

describe("docs/cozystack.md, Sizing", () => {
  it("quotes the refusal of a KubeVirt bundle on the default node type word for word", () => {
    const config = siteConfig();
    const refusal = SITE_RULES.cozystackBundleFitsNodes({ ...config, talos: { ...config.talos, cozystack: { ...config.talos.cozystack, enabled: true, bundle: "paas-full" } } });
    const quoted = textBlock(section("docs/cozystack.md", "### What a cluster without /dev/kvm can and cannot run"));
    expect(quoted).toBe(refusal.map((p) => `${p.path.join(".")}: ${p.message}`).join("\n"));
  });

  it("gives each node type the model's hourly price, session and month, and names the presets right", () => {
    const rows = tableRows(section("docs/cozystack.md", "### Node types and what a session costs"));
    expect(rows.length).toBeGreaterThanOrEqual(5);
    const presets = new Map(nodeTypePresets("arm64").map((p) => [p.instanceType, p.name]));
    expect(presets.get("t3a.xlarge")).toBe("cozystack-amd64");
    const labelled = new Map<string, string>();
    for (const [label, size, kvm, price, session, month] of rows) {
      const type = label!.split(" ")[0]!;
      const figures = modelFigures(type);
      expect(size, type).toBe(`${figures.info.vcpus} / ${figures.info.memoryGiB}`);
      expect(kvm, type).toBe(figures.info.bareMetal ? "yes" : "no");
      expect(price, type).toBe(hourly(type));
      expect(session, type).toBe(usd(figures.sessionUsd));
      expect(month, type).toBe(usd(figures.monthlyUsd));
      // "The rows above the default budget.monthlyUsd (t3a.xlarge, t4g.xlarge and every metal type)".
      expect(figures.monthlyUsd > siteConfig().budget.monthlyUsd, type).toBe(type === "t3a.xlarge" || type === "t4g.xlarge" || figures.info.bareMetal === true);
      const preset = /preset `([a-z0-9-]+)`/.exec(label!)?.[1];
      if (preset) labelled.set(type, preset);
    }
    expect(labelled).toEqual(presets);
  });
});

describe("docs/cost.md, Node types side by side", () => {
  const text = section("docs/cost.md", "## Node types side by side");

  it("shows what npm run cost prints for the default site's presets", () => {
    const costs: NodeTypeCost[] = nodeTypePresets("arm64").map((preset) => {
      const figures = modelFigures(preset.instanceType);
      return { preset, bundles: bundlesFor(PINNED_COZYSTACK_VERSION, preset.info), sessionUsd: figures.sessionUsd, monthlyUsd: figures.monthlyUsd, complete: true };
    });
    const printed = formatNodeTypeComparison(costs, siteConfig().talos.nodeInstanceType, siteConfig().talos.nodeMarket).split("\n");
    expect(textBlock(text)).toBe(printed.slice(0, 2 + costs.length).join("\n"));
    expect(text.replace(/\s+/g, " ")).toContain(`costs the same in every row (${usd(modelFigures("t4g.small").restUsd)} here)`);
  });

  it("lists every metal type and every estimated price of the table", () => {
    const prose = text.replace(/\s+/g, " ");
    const metal = bareMetalTypes("arm64").map((m) => `${m.type} $${m.usdPerHour}`);
    expect(prose).toContain(`per node and hour in eu-west-1: ${metal.join(", ")}.`);
    for (const [type, info] of Object.entries(INSTANCE_TYPES).filter(([, i]) => i.priceEstimate && !i.bareMetal)) {
      expect(prose).toContain(`${type} ($${info.usdPerHour})`);
    }
  });
});

// The spot and NAT sections measure each lever against the project's first defaults (a NAT
// instance, the caches on a volume, an on-demand bastion), as their text says.
describe("docs/cost.md, Spot nodes", () => {
  const text = section("docs/cost.md", "## Spot nodes");
  /** Every Markdown table of the section, as body rows of trimmed cells. */
  const tables = text
    .split(/\n(?:[^|\n][^\n]*)?\n/)
    .map((chunk) => chunk.trim())
    .filter((chunk) => chunk.startsWith("|"))
    .map((chunk) => tableRows(chunk));

  it("the price table is cost/prices.ts: list price, dated spot price (capped where the table caps it) and their ratio", () => {
    expect(text).toContain(`dated \`SPOT_PRICES_AS_OF\` (**${SPOT_PRICES_AS_OF}**)`);
    const rows = tables[0]!;
    expect(rows.length).toBeGreaterThan(5);
    for (const [type, onDemand, spot, ratio] of rows as [string, string, string, string][]) {
      const info = INSTANCE_TYPES[type]!;
      const price = hourlyPrice(type, "spot")!;
      expect(onDemand, type).toBe(`${info.usdPerHour}${info.priceEstimate ? " (est.)" : ""}`);
      expect(spot, type).toBe(price.cappedAtOnDemand ? `${SPOT_USD_PER_HOUR[type]} → ${price.usdPerHour}` : `${SPOT_USD_PER_HOUR[type]}`);
      expect(ratio, type).toBe(`${Math.round((price.usdPerHour / info.usdPerHour) * 100)} %`);
    }
    // Every node-sized arm64 type of the table is listed (nano and micro are named in the prose).
    const listed = rows.map((row) => row[0]);
    const arm64 = Object.entries(INSTANCE_TYPES).filter(([, i]) => i.architecture === "arm64" && i.memoryGiB >= 2).map(([type]) => type);
    expect([...listed].sort()).toEqual(arm64.sort());
  });

  it("the seed's usage rows, and the default site's spot row at the top, are what the model gives", () => {
    const usage = { experimentSessionsPerMonth: 20, hoursPerSession: 3, nodesPerSession: 3 };
    const total = (overrides: Record<string, unknown>, month = MONTH) => {
      const config = firstDefaultsConfig(overrides);
      return estimateMonthlyCost(synthStack(config), config, { month }).totalUsd;
    };
    const figures = [
      total({ usage }),
      total({ usage, talos: { nodeMarket: "spot" } }),
      total({ usage, talos: { nodeCpuCredits: "standard" } }),
      total({ usage, talos: { nodeMarket: "spot", nodeCpuCredits: "standard" } }),
    ];
    expect(tables[1]!.map((row) => row[1])).toEqual(figures.map(usd));
    const prose = text.replace(/\s+/g, " ");
    expect(prose).toContain(`Spot takes ${usd(figures[0]! - figures[1]!)} a month off`);
    const trial = { budget: { t4gTrial: true }, usage };
    expect(prose).toContain(`${usd(total(trial, "2026-12"))} on-demand against ${usd(total({ ...trial, talos: { nodeMarket: "spot" } }, "2026-12"))} spot`);
    const top = tableRows(doc("docs/cost.md")).find((row) => row[0]!.includes("`talos.nodeMarket: \"spot\"`"))!;
    expect(top[1]).toBe(usd(total({ talos: { nodeMarket: "spot" } })));
  });
});

describe("docs/cost.md, NAT on the bastion", () => {
  const text = section("docs/cost.md", "## NAT on the bastion");
  const [prices, parts] = text
    .split(/\n(?:[^|\n][^\n]*)?\n/)
    .map((chunk) => chunk.trim())
    .filter((chunk) => chunk.startsWith("|"))
    .map((chunk) => tableRows(chunk));
  const usage = { experimentSessionsPerMonth: 20, hoursPerSession: 3, nodesPerSession: 3 };
  const priced = (nat: string, overrides: Record<string, unknown> = { usage }, month = MONTH) => {
    const config = firstDefaultsConfig({ ...overrides, network: { nat } });
    const stack = synthStack(config);
    return { stack, report: estimateMonthlyCost(stack, config, { month }) };
  };

  it("the price table is the model's, for the config file it shows", () => {
    expect(JSON.parse(/```json\n(.*)\n```/.exec(text)![1]!)).toEqual(mergeOverride(FIRST_DEFAULTS, { usage, network: { nat: "bastion" } }));
    const instance = priced("instance").report;
    const bastion = priced("bastion").report;
    const cell = (label: string, column: 1 | 2) => prices!.find((row) => row[0]!.replace(/\*/g, "").startsWith(label))![column]!.replace(/\*/g, "");
    const sum = (lines: typeof instance.lines) => lines.reduce((total, l) => total + l.monthlyUsd, 0);
    const natInstance = instance.lines.filter((l) => l.address === "aws_autoscaling_group.nat_instance");
    expect(cell("NAT instance t4g.nano", 1)).toBe(usd(natInstance.find((l) => l.item === "t4g.nano instance")!.monthlyUsd));
    expect(cell("NAT instance root", 1)).toBe(usd(natInstance.find((l) => l.item.includes("volume"))!.monthlyUsd));
    expect(cell("public IPv4", 1)).toBe(`${usd(natInstance.find((l) => l.item.startsWith("public IPv4"))!.monthlyUsd)} (NAT instance)`);
    const bastionIpv4 = bastion.lines.filter((l) => l.item.startsWith("public IPv4"));
    expect(bastionIpv4.map((l) => l.address)).toEqual(["aws_autoscaling_group.bastion"]);
    expect(cell("public IPv4", 2)).toBe(`${usd(bastionIpv4[0]!.monthlyUsd)} (bastion)`);
    const rest = (report: typeof instance) => sum(report.lines.filter((l) => l.address !== "aws_autoscaling_group.nat_instance" && !l.item.startsWith("public IPv4")));
    expect(rest(instance)).toBeCloseTo(rest(bastion), 9);
    expect([cell("bastion, cache volume, nodes", 1), cell("bastion, cache volume, nodes", 2)]).toEqual([usd(rest(instance)), usd(rest(bastion))]);
    expect([cell("Total", 1), cell("Total", 2)]).toEqual([usd(instance.totalUsd), usd(bastion.totalUsd)]);
    expect([cell("At rest", 1), cell("At rest", 2)]).toEqual([usd(instance.idleUsd), usd(bastion.idleUsd)]);
  });

  it("the prose's differences and the other usages are the model's too", () => {
    const prose = text.replace(/\s+/g, " ");
    expect(prose).toContain(`**${usd(priced("instance").report.totalUsd - priced("bastion").report.totalUsd)} a month cheaper**`);
    expect(prose).toContain(`${usd(priced("bastion", {}).report.totalUsd)} against ${usd(priced("instance", {}).report.totalUsd)}`);
    const trial = { usage, budget: { t4gTrial: true } };
    expect(prose).toContain(`${usd(priced("bastion", trial, "2026-12").report.totalUsd)} against ${usd(priced("instance", trial, "2026-12").report.totalUsd)}`);
    const top = tableRows(doc("docs/cost.md")).find((row) => row[0]!.includes('`network.nat: "bastion"`'))!;
    expect(top.slice(1)).toEqual([usd(priced("bastion", {}).report.totalUsd), usd(priced("bastion", {}).report.idleUsd)]);
  });

  it("the moving parts count what each mode synthesizes", () => {
    const count = (nat: string) => Object.values(priced(nat).stack.resource).reduce((total, byName) => total + Object.keys(byName).length, 0);
    expect(parts![0]!.slice(1)).toEqual([String(count("instance")), String(count("bastion"))]);
    const groups = (nat: string) => Object.keys(priced(nat).stack.resource.aws_autoscaling_group ?? {}).length;
    const enis = (nat: string) => Object.keys(priced(nat).stack.resource.aws_network_interface ?? {}).length;
    expect([groups("instance"), groups("bastion")]).toEqual([2, 1]);
    expect([enis("instance"), enis("bastion")]).toEqual([2, 1]);
    expect(parts![1]!.slice(1).map((cell) => cell[0])).toEqual(["2", "1"]);
    expect(parts![2]!.slice(1).map((cell) => cell[0])).toEqual(["2", "1"]);
  });
});
