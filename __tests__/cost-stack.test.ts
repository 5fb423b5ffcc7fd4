/**
 * The cost model on the real stack: nothing unpriced in any mode, the default site's projection
 * against a figure computed by hand from the config, the budget resource, and the synth guard.
 */
import { describe, expect, it } from "vitest";
import { runningHoursPerWeek } from "../lib/cron.js";
import { estimateMonthlyCost, forgottenSessionUsd, oneSessionUsd } from "../cost/model.js";
import { nodeTypePresets, nodeTypesToCompare } from "../config/node-type-presets.js";
import { FREE_RESOURCE_TYPES, PRICING_RULES } from "../cost/rules.js";
import { budgetProblem, projectionLine } from "../cost/report.js";
import { firstDefaultsConfig, resource, siteConfig, synthStack, type SynthesizedStack } from "./helpers/synth.js";

const MONTH = "2027-01";
const price = (stack: SynthesizedStack, config = siteConfig()) => estimateMonthlyCost(stack, config, { month: MONTH });

describe("every resource type in the stack is priced or listed as free", () => {
  const modes = (["gateway", "instance", "bastion"] as const).flatMap((nat) =>
    (["talos-ami", "ipxe"] as const).map((boot) => ({ nat, boot })),
  );
  it.each(modes)("nat $nat, boot $boot", ({ nat, boot }) => {
    const config = siteConfig({ network: { nat }, talos: { boot, ipxeAmiId: "ami-0123456789abcdef0" } });
    const stack = synthStack(config);
    const types = Object.keys(stack.resource);
    const unknown = types.filter((t) => !PRICING_RULES[t] && !FREE_RESOURCE_TYPES[t]);
    expect(unknown, "add a rule to PRICING_RULES or a reason to FREE_RESOURCE_TYPES in cost/rules.ts").toEqual([]);
    const report = price(stack, config);
    expect(report.unpriced).toEqual([]);
    expect(report.problems).toEqual([]);
    // Every billable resource shows up in the table.
    for (const type of types.filter((t) => PRICING_RULES[t])) {
      for (const name of Object.keys(stack.resource[type]!)) {
        expect(report.lines.map((l) => l.address)).toContain(`${type}.${name}`);
      }
    }
  });
});

describe("the default site", () => {
  const config = siteConfig();
  const report = price(synthStack(config), config);
  /** List prices of 2026-11, typed in by hand from the AWS pages (not read from cost/prices.ts). */
  const HOURLY: Record<string, number> = { "t4g.nano": 0.0046, "t4g.small": 0.0184 };
  /** eu-west-1 t4g.small spot price of the feed's 2026-08 copy, typed in by hand. */
  const SPOT_T4G_SMALL = 0.01;
  const GP3 = 0.088;
  const IPV4 = 0.005;
  const S3_GB_MONTH = 0.023;
  const S3_WRITES_PER_1000 = 0.005;
  const S3_READS_PER_1000 = 0.0004;
  const ALARM_MONTH = 0.1;

  it("projects what the documented formula (docs/cost.md) gives from the config values", () => {
    // H = scheduled hours per month = hours/day of bastion.schedule × 730/24 (a daily schedule).
    // N = node-hours = sessions × hours × nodes.
    const perDay = runningHoursPerWeek(config.bastion.schedule.start, config.bastion.schedule.stop)! / 7;
    const H = (perDay * 730) / 24;
    // The bastion: spot hours, its root volume while it runs, and the public IPv4 it forwards through (its own NAT).
    const bastion = H * SPOT_T4G_SMALL + config.bastion.rootVolumeGb * GP3 * (H / 730) + H * IPV4;
    // The caches on S3: the bytes all month, refills every proxy.ttl (= cacheExpiryDays), reads per node-session.
    const { experimentSessionsPerMonth, hoursPerSession, nodesPerSession, cacheGb } = config.usage;
    const refills = Math.min(experimentSessionsPerMonth, 730 / 24 / config.bastion.cacheExpiryDays);
    const cache = cacheGb * S3_GB_MONTH + cacheGb * refills * S3_WRITES_PER_1000 + cacheGb * experimentSessionsPerMonth * nodesPerSession * S3_READS_PER_1000;
    const N = experimentSessionsPerMonth * hoursPerSession * nodesPerSession;
    // Unlimited credits, at most: every vCPU busy, less the baseline (t4g.small: 2 vCPU, 20 %), at $0.04/vCPU-h.
    const surplus = N * 2 * (1 - 0.2) * 0.04;
    const nodes = N * HOURLY[config.talos.nodeInstanceType]! + surplus + config.talos.nodeRootVolumeGb * GP3 * (N / 730);
    const egress = Math.max(0, config.usage.internetEgressGbPerMonth - 100) * 0.09;
    const expected = bastion + cache + ALARM_MONTH + nodes + egress;
    expect(report.totalUsd).toBeCloseTo(expected, 6);
    // 5 h/day → H = 152.08 h; N = 4 × 3 × 3 = 36 h. Bastion 1.5208 + 0.1467 + 0.7604;
    // cache 0.23 + 0.0507 + 0.048; alarm 0.10; nodes 0.6624 + 2.304 (surplus credits) + 0.0868.
    expect(expected).toBeCloseTo(5.91, 2);
  });

  it("takes the t4g.small trial off the nodes' on-demand hours while it lasts; the spot bastion's are not credited", () => {
    const trial = siteConfig({ budget: { t4gTrial: true } });
    const stack = synthStack(trial);
    const during = estimateMonthlyCost(stack, trial, { month: "2026-12" });
    expect(during.totalUsd).toBeCloseTo(report.totalUsd - 4 * 3 * 3 * 0.0184, 6); // nodes 36 h
    expect(during.totalUsd).toBeCloseTo(5.25, 2);
    expect(estimateMonthlyCost(stack, trial, { month: "2027-01" }).totalUsd).toBeCloseTo(report.totalUsd, 9);
  });

  it("prices the nodes' unlimited-credit surplus at its maximum; standard credits bill none", () => {
    const surplus = (r: typeof report) => r.lines.filter((l) => l.item.includes("surplus CPU credits"));
    expect(surplus(report).map((l) => [l.address, l.quantity, l.unitUsd])).toEqual([["aws_instance.talos_node", 36 * 2 * 0.8, 0.04]]);
    const standard = siteConfig({ talos: { nodeCpuCredits: "standard" } });
    const without = price(synthStack(standard), standard);
    expect(surplus(without)).toEqual([]);
    expect(report.totalUsd - without.totalUsd).toBeCloseTo(36 * 2 * 0.8 * 0.04, 6);
  });

  it("stays under its default budget; at rest only the cached bytes and the deadline's alarm bill, at most $0.50", () => {
    expect(report.totalUsd).toBeLessThan(config.budget.monthlyUsd);
    expect(report.idleUsd).toBeCloseTo(config.usage.cacheGb * S3_GB_MONTH + ALARM_MONTH, 6); // $0.33
    expect(report.idleUsd).toBeLessThanOrEqual(0.5);
  });

  it("prints a one-line projection naming the mode, the budget and the price date", () => {
    const line = projectionLine(report, config);
    expect(line).toMatch(/^cost: \$5\.91\/month projected for 2027-01 \(nat bastion, budget \$10\.00, eu-west-1 list prices of 2026-11, spot lines at eu-west-1 spot prices of 2026-08 \(variable\)\)/);
    expect(line).not.toContain("\n");
  });
});

describe("talos.nodeMarket spot", () => {
  const onDemand = siteConfig();
  const spot = siteConfig({ talos: { nodeMarket: "spot" } });
  /** eu-west-1 t4g.small: on-demand list price and the feed's spot price (2026-08), typed in by hand. */
  const ON_DEMAND = 0.0184;
  const SPOT = 0.01;
  const nodeHours = (config: typeof spot) => config.usage.experimentSessionsPerMonth * config.usage.hoursPerSession * config.usage.nodesPerSession;

  it("prices the nodes' hours at the spot price and nothing else differently: the default site saves N × ($0.0184 − $0.01)", () => {
    const report = price(synthStack(spot), spot);
    const base = price(synthStack(onDemand), onDemand);
    const N = nodeHours(spot); // 36 h
    expect(report.totalUsd).toBeCloseTo(base.totalUsd - N * (ON_DEMAND - SPOT), 9); // $5.91 − $0.30 = $5.61
    expect(report.totalUsd).toBeCloseTo(5.61, 2);
    expect(report.idleUsd).toBeCloseTo(base.idleUsd, 9);
    // The default bastion is spot too: its line is the same in both.
    const spotLines = report.lines.filter((l) => l.market === "spot" && l.address === "aws_instance.talos_node");
    expect(spotLines.map((l) => [l.address, l.item, l.quantity, l.unitUsd])).toEqual([["aws_instance.talos_node", "t4g.small spot instance (variable price)", N, SPOT]]);
    // Everything but the node hours is billed as before, line by line.
    const rest = (r: typeof report) => r.lines.filter((l) => l.unit !== "h" || l.address !== "aws_instance.talos_node").map((l) => [l.address, l.item, l.monthlyUsd]);
    expect(rest(report)).toEqual(rest(base));
    expect(projectionLine(report, spot)).toContain("eu-west-1 list prices of 2026-11, spot lines at eu-west-1 spot prices of 2026-08 (variable))");
  });

  it("the seed's usage (20 sessions × 3 h × 3 nodes): spot takes 180 × ($0.0184 − $0.01) = $1.51 a month off", () => {
    const usage = { experimentSessionsPerMonth: 20, hoursPerSession: 3, nodesPerSession: 3 };
    const seedOnDemand = siteConfig({ usage });
    const seedSpot = siteConfig({ usage, talos: { nodeMarket: "spot" } });
    const difference = price(synthStack(seedOnDemand), seedOnDemand).totalUsd - price(synthStack(seedSpot), seedSpot).totalUsd;
    expect(difference).toBeCloseTo(180 * (ON_DEMAND - SPOT), 9);
    expect(difference).toBeCloseTo(1.51, 2);
  });

  it("during the t4g.small trial spot hours are not credited: on-demand nodes are then the cheaper choice", () => {
    // An on-demand bastion (the first defaults), whose hours the trial credits.
    const trial = { budget: { t4gTrial: true } } as const;
    const withTrial = firstDefaultsConfig(trial);
    const spotTrial = firstDefaultsConfig({ ...trial, talos: { nodeMarket: "spot" } });
    const during = (config: typeof spot) => estimateMonthlyCost(synthStack(config), config, { month: "2026-12" });
    const bastionHours = (5 * 730) / 24;
    expect(during(spotTrial).totalUsd - during(withTrial).totalUsd).toBeCloseTo(36 * SPOT, 9); // the on-demand node hours were free
    expect(during(spotTrial).lines.find((l) => l.address === "(free tier)")!.quantity).toBeCloseTo(bastionHours, 9);
  });
});

describe("node types without CPU credits", () => {
  const N = 4 * 3 * 3; // node-hours of the default usage

  it.each([
    // Estimates: us-east-1 list price × 1.1 to four decimals, worked out by hand from the source table.
    ["m7g.xlarge", 0.1795], // $0.1632 × 1.1 = $0.17952
    ["a1.metal", 0.4488], // $0.408 × 1.1
  ])("%s bills its hours and its root volume, and no surplus credits even with unlimited set", (nodeInstanceType, hourly) => {
    const config = siteConfig({ talos: { nodeInstanceType, nodeCpuCredits: "unlimited" } });
    const report = price(synthStack(config), config);
    const nodes = report.lines.filter((l) => l.address === "aws_instance.talos_node");
    expect(nodes.map((l) => l.item)).toEqual([`${nodeInstanceType} instance`, `gp3 root volume, ${config.talos.nodeRootVolumeGb} GB`]);
    expect(nodes[0]!.monthlyUsd).toBeCloseTo(N * hourly, 9);
    expect(report.problems).toEqual([]);
    expect(report.notes.filter((n) => n.includes("is priced at an estimate"))).toEqual([
      expect.stringMatching(new RegExp(`^${nodeInstanceType.replace(".", "\\.")} is priced at an estimate, eu-west-1 = us-east-1 list price`)),
    ]);
  });
});

describe("node-type presets (npm run cost compares them)", () => {
  it("are the cheapest priced type per criterion; an architecture without a fitting type has fewer", () => {
    expect(nodeTypePresets("arm64").map((p) => [p.name, p.instanceType])).toEqual([
      ["talos", "t4g.small"],
      ["cozystack", "t4g.xlarge"],
      ["metal", "a1.metal"],
      // Beside arm64 nodes, the amd64 node of CozyStack's size: upstream CozyStack's images are amd64-only.
      ["cozystack-amd64", "t3a.xlarge"],
    ]);
    expect(nodeTypePresets("x86_64").map((p) => [p.name, p.instanceType])).toEqual([
      ["talos", "t3.small"],
      ["cozystack", "t3a.xlarge"],
    ]);
  });

  it("add the configured type when it is none of them", () => {
    expect(nodeTypesToCompare("arm64", "t4g.small").map((p) => p.name)).toEqual(["talos", "cozystack", "metal", "cozystack-amd64"]);
    expect(nodeTypesToCompare("arm64", "m7g.metal").map((p) => [p.name, p.instanceType]).at(-1)).toEqual(["configured", "m7g.metal"]);
  });
});

describe("NAT modes", () => {
  it("gateway mode costs $35.04 + $3.65 a month before traffic, and $0.048 per processed GB", () => {
    const quiet = { usage: { natGbPerMonth: 0 } };
    const gateway = siteConfig({ ...quiet, network: { nat: "gateway" } });
    const natLines = price(synthStack(gateway), gateway).lines.filter((l) => ["aws_nat_gateway.main", "aws_eip.nat"].includes(l.address));
    expect(natLines.reduce((sum, l) => sum + l.monthlyUsd, 0)).toBeCloseTo(730 * 0.048 + 730 * 0.005, 6); // $38.69
    const busy = siteConfig({ usage: { natGbPerMonth: 50 }, network: { nat: "gateway" } });
    expect(price(synthStack(busy), busy).totalUsd - price(synthStack(gateway), gateway).totalUsd).toBeCloseTo(50 * 0.048, 6);
  });

  it("bastion mode bills the bastion's public IPv4 for its hours and no NAT instance: the t4g.nano and its root volume less than instance mode", () => {
    const instance = firstDefaultsConfig();
    const bastion = firstDefaultsConfig({ network: { nat: "bastion" } });
    const lines = price(synthStack(bastion), bastion).lines;
    // H = 5 h/day × 730/24 = 152.08 h, the bastion's schedule (typed in, not read from the config).
    const H = (5 * 730) / 24;
    const ipv4 = lines.filter((l) => l.item.startsWith("public IPv4"));
    expect(ipv4.map((l) => [l.address, l.quantity, l.unitUsd])).toEqual([["aws_autoscaling_group.bastion", H, 0.005]]);
    expect(lines.some((l) => l.address.includes("nat"))).toBe(false);
    // The IPv4 moves from the NAT instance to the bastion; the nano's hours (0.6996) and 8 GB root (0.1467) go.
    const saved = H * 0.0046 + 8 * 0.088 * (H / 730);
    expect(price(synthStack(instance), instance).totalUsd - price(synthStack(bastion), bastion).totalUsd).toBeCloseTo(saved, 6);
    expect(saved).toBeCloseTo(0.85, 2);
  });
});

describe("aws_budgets_budget.monthly", () => {
  it("is a monthly COST budget at the config's limit, alerting by email at 50/80/100% actual and 100% forecast", () => {
    const config = siteConfig({ budget: { monthlyUsd: 12.5, email: "ops@example.org" } });
    const budget = resource(synthStack(config), "aws_budgets_budget", "monthly");
    expect(budget).toMatchObject({ budget_type: "COST", time_unit: "MONTHLY", limit_amount: "12.50", limit_unit: "USD", name: "deathstar-aws-eu-west-1" });
    expect(budget.cost_types).toEqual({ include_credit: false, include_refund: false });
    const notifications = budget.notification as Record<string, unknown>[];
    expect(notifications.map((n) => [n.notification_type, n.threshold])).toEqual([
      ["ACTUAL", 50],
      ["ACTUAL", 80],
      ["ACTUAL", 100],
      ["FORECASTED", 100],
    ]);
    for (const n of notifications) {
      expect(n).toMatchObject({ comparison_operator: "GREATER_THAN", threshold_type: "PERCENTAGE", subscriber_email_addresses: ["ops@example.org"] });
    }
  });
});

describe("the budget guard", () => {
  // The seed's managed NAT gateway over the first defaults.
  const gateway = firstDefaultsConfig({ network: { nat: "gateway" } });
  const report = price(synthStack(gateway), gateway);

  it("fails a projection over budget.monthlyUsd, naming the three biggest lines and the fixes", () => {
    const problem = budgetProblem(report, gateway.budget);
    // $9.46 − $1.61 (NAT instance) + $35.04 + $3.65 + $0.48 (10 GB processed) = $47.03.
    expect(problem).toMatch(/^budget\.monthlyUsd: the projection \$47\.03\/month exceeds the budget of \$10\.00/);
    expect(problem).toContain(
      "biggest lines: aws_nat_gateway.main NAT gateway $35.04; aws_eip.nat public IPv4 (Elastic IP) $3.65; aws_autoscaling_group.bastion t4g.small instance $2.80.",
    );
    expect(problem).toContain("budget.allowOver: true");
  });

  it("lets it through with allowOver, or when the budget covers it", () => {
    expect(budgetProblem(report, { ...gateway.budget, allowOver: true })).toBeUndefined();
    expect(budgetProblem(report, { ...gateway.budget, monthlyUsd: 50 })).toBeUndefined();
  });
});

describe("a forgotten session", () => {
  it("costs at most every node address for talos.sessionHours, the session expiry's deadline", () => {
    const config = siteConfig({ usage: { experimentSessionsPerMonth: 20, hoursPerSession: 3, nodesPerSession: 3 } });
    const stack = synthStack(config);
    const report = price(stack, config);
    // With the usage profile equal to the worst case, the cap is one session of the profile.
    expect(forgottenSessionUsd(report, config)).toBeCloseTo(oneSessionUsd(stack, config, { month: MONTH }), 10);
    const longer = siteConfig({ usage: config.usage, talos: { sessionHours: 6 } });
    expect(forgottenSessionUsd(report, longer)).toBeCloseTo(2 * forgottenSessionUsd(report, config), 10);
    const oneAddress = siteConfig({ usage: { ...config.usage, nodesPerSession: 1 }, talos: { nodeIps: ["10.20.13.11"] } });
    // The same per-node-hour price (the report's), one address instead of three.
    expect(forgottenSessionUsd(report, { usage: config.usage, talos: oneAddress.talos })).toBeCloseTo(forgottenSessionUsd(report, config) / 3, 10);
  });
});
