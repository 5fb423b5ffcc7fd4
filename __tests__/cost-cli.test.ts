/**
 * The entry points run as the operator runs them (their bundles, warm in the bundle host:
 * bundle-host.test.ts holds it against cold runs): synth's budget guard, `npm run cost`, the teardown plan.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { estimateMonthlyCost, forgottenSessionUsd, oneSessionUsd, T4G_TRIAL_LAST_MONTH } from "../cost/model.js";
import { mergeOverride } from "../config/load.js";
import { COMPARED_DESIGNS } from "../config/designs.js";
import { budgetProblem } from "../cost/report.js";
import { INSTANCE_TYPES } from "../config/instance-types.js";
import { teardownPlan } from "../ops/teardown.js";
import { CACHE_BUCKET_ADDRESSES, firstDefaultsConfig, S3_CACHE_OVERRIDE, siteConfig, synthStack } from "./helpers/synth.js";
import { scratchDir } from "./helpers/processes.js";
import { bundleHost } from "./helpers/bundles.js";

const REPO = resolve(import.meta.dirname, "..");
const work = scratchDir("cost-cli");

const host = bundleHost();

async function run(entry: string, args: readonly string[], env: Record<string, string>) {
  const result = await host.run(entry, args, { cwd: REPO, env: { ...process.env, ...env } });
  expect(result.crashed, result.stderr).toBe(false);
  return result;
}

/**
 * What the entry points must print, from the model in-process: these tests check the plumbing;
 * cost-stack.test.ts checks the figures against a hand computation.
 */
const MONTH = "2027-01";
// The default site's NAT is the bastion; `npm run cost` prices the other two modes beside it.
const defaultConfig = siteConfig();
const gatewayConfig = siteConfig({ network: { nat: "gateway" } });
const instanceConfig = siteConfig({ network: { nat: "instance" } });
const expected = {
  instance: estimateMonthlyCost(synthStack(instanceConfig), instanceConfig, { month: MONTH }),
  gateway: estimateMonthlyCost(synthStack(gatewayConfig), gatewayConfig, { month: MONTH }),
  bastion: estimateMonthlyCost(synthStack(defaultConfig), defaultConfig, { month: MONTH }),
};
/** The node-type presets as the model prices them in-process: one session, and the whole site for a month. */
const nodeTypeCost = (nodeInstanceType: string, bundle = "distro-full") => {
  const config = siteConfig({ talos: { architecture: INSTANCE_TYPES[nodeInstanceType]!.architecture, nodeInstanceType, cozystack: { bundle } } });
  const stack = synthStack(config);
  return { sessionUsd: oneSessionUsd(stack, config, { month: MONTH }), monthlyUsd: estimateMonthlyCost(stack, config, { month: MONTH }).totalUsd };
};
const presets = {
  "t4g.small": nodeTypeCost("t4g.small"),
  "t4g.xlarge": nodeTypeCost("t4g.xlarge"),
  "a1.metal": nodeTypeCost("a1.metal", "paas-full"),
  "t3a.xlarge": nodeTypeCost("t3a.xlarge"),
};
const usd = (value: number) => `$${value.toFixed(2)}`;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Writes an override file; each test its own name, since the concurrent ones run side by side. */
function configFile(name: string, override: unknown): string {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(override));
  return path;
}

describe("synth (main.ts)", () => {
  const outdir = join(work, "synth", "cdktf.out");
  const stackJson = join(outdir, "stacks", "deathstar", "cdk.tf.json");

  it("prints the projection and writes the stack when it fits the budget", async () => {
    const result = await run("main.ts", [], { CDKTF_OUTDIR: outdir, DEATHSTAR_CONFIG: "" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^cost: ${escape(usd(expected.bastion.totalUsd))}/month projected for \\d{4}-\\d\\d \\(nat bastion, budget \\$10\\.00`, "m"));
    expect(existsSync(stackJson)).toBe(true);
  });

  it("fails over budget, names the three biggest lines, and leaves the previous output untouched", async () => {
    const before = readFileSync(stackJson, "utf8");
    const result = await run("main.ts", [], { CDKTF_OUTDIR: outdir, DEATHSTAR_CONFIG: configFile("gateway.json", { network: { nat: "gateway" } }) });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^cost: ${escape(usd(expected.gateway.totalUsd))}/month projected`, "m"));
    expect(result.stderr).toContain(budgetProblem(expected.gateway, gatewayConfig.budget));
    expect(result.stderr).toContain("biggest lines: aws_nat_gateway.main NAT gateway $35.04; aws_eip.nat public IPv4 (Elastic IP) $3.65;");
    expect(result.stderr).toContain("Nothing was written.");
    expect(readFileSync(stackJson, "utf8")).toBe(before);
    expect(readdirSync(join(work, "synth"))).toEqual(["cdktf.out"]);
  });

  it("writes an over-budget stack when budget.allowOver is set", async () => {
    const override = { network: { nat: "gateway" }, budget: { allowOver: true } };
    const result = await run("main.ts", [], { CDKTF_OUTDIR: outdir, DEATHSTAR_CONFIG: configFile("allow.json", override) });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(readFileSync(stackJson, "utf8")).resource.aws_nat_gateway).toHaveProperty("main");
  });
});

// Each run of the cost command is independent of the others: two bundle hosts take them side by side.
describe.concurrent("npm run cost (scripts/cost.ts)", () => {
  // The default site's table, printed once for the tests that read it.
  let defaultTable: ReturnType<typeof run> | undefined;
  const printDefaultTable = () => (defaultTable ??= run("scripts/cost.ts", ["--month", MONTH], { DEATHSTAR_CONFIG: "" }));

  it("prints the table, the total, the NAT modes side by side and the sources", async () => {
    const result = await printDefaultTable();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^resource +item +quantity +unit price +\$\/month$/m);
    expect(result.stdout).toMatch(/^aws_autoscaling_group\.bastion +t4g\.small spot instance \(variable price\) +152\.08 h +\$0\.01\/h +\$1\.52$/m);
    expect(result.stdout).toMatch(new RegExp(`^TOTAL +${escape(usd(expected.bastion.totalUsd))}$`, "m"));
    expect(result.stdout).toMatch(/^resource \(\$\/month\) +nat=gateway +nat=instance +nat=bastion$/m);
    const totals = [expected.gateway, expected.instance, expected.bastion].map((r) => escape(usd(r.totalUsd)));
    expect(result.stdout).toMatch(new RegExp(`^TOTAL +${totals.join(" +")}$`, "m"));
    expect(result.stdout).toContain("https://aws.amazon.com/vpc/pricing/");
  });

  it("prints the node-type presets side by side: one session and a month of the site, through the same model", async () => {
    const result = await printDefaultTable();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("A session is 3 nodes × 3 h; a month is the whole site at 4 sessions:");
    expect(result.stdout).toMatch(/^preset +node type +vCPU \/ GiB +\/dev\/kvm +CozyStack bundles +\$\/h per node +one session +\$\/month$/m);
    const row = (preset: string, type: keyof typeof presets, rest: string) =>
      new RegExp(`^${preset} +${escape(type)}${rest} +${escape(usd(presets[type].sessionUsd))} +${escape(usd(presets[type].monthlyUsd))}$`, "m");
    // Upstream CozyStack publishes amd64 images only: no bundle on the Graviton types, the amd64 preset beside them.
    expect(result.stdout).toMatch(row("talos", "t4g.small", " \\* +2 / 2 +no +- +\\$0\\.0184"));
    expect(result.stdout).toMatch(row("cozystack", "t4g.xlarge", " +4 / 16 +no +- +\\$0\\.1472"));
    expect(result.stdout).toMatch(row("metal", "a1.metal", " +16 / 32 +yes +- +\\$0\\.4488 \\(est\\.\\)"));
    expect(result.stdout).toMatch(row("cozystack-amd64", "t3a.xlarge", " +4 / 16 +no +distro-full +\\$0\\.1654 \\(est\\.\\)"));
    expect(result.stdout).toContain(`  - in CozyStack bundles: no CozyStack images for the type's architecture (upstream is amd64-only; docs/cozystack.md, "What runs where")`);
    // The default site's month is the first row's, and its session the nodes' share of the table above.
    expect(presets["t4g.small"].monthlyUsd).toBeCloseTo(expected.bastion.totalUsd, 9);
    expect(presets["t4g.small"].sessionUsd * 4).toBeCloseTo(expected.bastion.lines.filter((l) => l.address === "aws_instance.talos_node").reduce((t, l) => t + l.monthlyUsd, 0), 9);
    expect(result.stdout).not.toMatch(/^configured /m);
  });

  it("adds the configured node type when it is no preset, and a KubeVirt site still compares the virtualized presets", async () => {
    const m7g = await run("scripts/cost.ts", ["--month", "2027-01"], { DEATHSTAR_CONFIG: configFile("m7g.json", { talos: { nodeInstanceType: "m7g.xlarge" }, budget: { allowOver: true } }) });
    expect(m7g.code, m7g.stderr).toBe(0);
    const m7gCost = nodeTypeCost("m7g.xlarge");
    expect(m7g.stdout).toMatch(new RegExp(`^configured +m7g\\.xlarge \\* +4 / 16 +no +- +\\$0\\.1795 \\(est\\.\\) +${escape(usd(m7gCost.sessionUsd))} +${escape(usd(m7gCost.monthlyUsd))}$`, "m"));
    expect(m7g.stdout).toContain("Note: m7g.xlarge is priced at an estimate, eu-west-1 = us-east-1 list price $0.1632/h × 1.1");

    const kvm = await run("scripts/cost.ts", ["--json", "--month", "2027-01"], {
      DEATHSTAR_CONFIG: configFile("kvm.json", { talos: { nodeInstanceType: "a1.metal", cozystack: { bundle: "paas-full" } }, budget: { allowOver: true } }),
    });
    expect(kvm.code, kvm.stderr).toBe(0);
    const { nodeTypes } = JSON.parse(kvm.stdout) as { nodeTypes: { preset: string; instanceType: string; bundles: string[]; monthlyUsd: number }[] };
    expect(nodeTypes.map((n) => [n.preset, n.instanceType, n.bundles])).toEqual([
      ["talos", "t4g.small", []],
      ["cozystack", "t4g.xlarge", []],
      ["metal", "a1.metal", []],
      ["cozystack-amd64", "t3a.xlarge", ["distro-full"]],
    ]);
    expect(nodeTypes[2]!.monthlyUsd).toBeCloseTo(presets["a1.metal"].monthlyUsd, 9);
  });

  it("--json gives every mode's lines and totals", async () => {
    const result = await run("scripts/cost.ts", ["--json", "--month", "2027-01"], { DEATHSTAR_CONFIG: "" });
    expect(result.code, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout) as { nat: string; reports: Record<string, { totalUsd: number; lines: { address: string }[] }> };
    expect(parsed.nat).toBe("bastion");
    expect(Object.keys(parsed.reports)).toEqual(["gateway", "instance", "bastion"]);
    expect(parsed.reports.bastion!.totalUsd).toBeCloseTo(expected.bastion.totalUsd, 9);
    expect(parsed.reports.instance!.totalUsd).toBeCloseTo(expected.instance.totalUsd, 9);
    expect(parsed.reports.gateway!.totalUsd).toBeCloseTo(expected.gateway.totalUsd, 9);
    expect(parsed.reports.gateway!.lines.map((l) => l.address)).toContain("aws_eip.nat");
    // A forgotten session: every node address for talos.sessionHours (cost/model.ts forgottenSessionUsd).
    expect((JSON.parse(result.stdout) as { forgottenSessionUsd: number }).forgottenSessionUsd).toBeCloseTo(forgottenSessionUsd(expected.bastion, siteConfig()), 9);
    const { nodeTypes } = JSON.parse(result.stdout) as { nodeTypes: { preset: string; instanceType: string; usdPerHour: number; bareMetal: boolean; sessionUsd: number; monthlyUsd: number }[] };
    expect(nodeTypes.map((n) => [n.preset, n.instanceType, n.usdPerHour, n.bareMetal])).toEqual([
      ["talos", "t4g.small", 0.0184, false],
      ["cozystack", "t4g.xlarge", 0.1472, false],
      ["metal", "a1.metal", 0.4488, true],
      ["cozystack-amd64", "t3a.xlarge", 0.1654, false],
    ]);
    for (const n of nodeTypes) {
      const cost = presets[n.instanceType as keyof typeof presets];
      expect(n.sessionUsd).toBeCloseTo(cost.sessionUsd, 9);
      expect(n.monthlyUsd).toBeCloseTo(cost.monthlyUsd, 9);
    }
  });
});

describe.concurrent("npm run cost with talos.nodeMarket spot", () => {
  const override = { talos: { nodeMarket: "spot" } };
  const spotConfig = siteConfig(override);
  const report = estimateMonthlyCost(synthStack(spotConfig), spotConfig, { month: MONTH });

  it("prints the nodes as a spot line at the dated spot price, with the note and the source", async () => {
    const result = await run("scripts/cost.ts", ["--month", MONTH], { DEATHSTAR_CONFIG: configFile("spot.json", override) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Monthly cost of site "aws-eu-west-1" (nat bastion, nodes spot), ${MONTH}`);
    expect(result.stdout).toMatch(/^aws_instance\.talos_node +t4g\.small spot instance \(variable price\) +36 h +\$0\.01\/h +\$0\.36$/m);
    expect(result.stdout).toMatch(new RegExp(`^TOTAL +${escape(usd(report.totalUsd))}$`, "m"));
    expect(result.stdout).toContain("Note: aws_autoscaling_group.bastion, aws_instance.talos_node: spot, priced at eu-west-1 spot prices of 2026-08");
    expect(result.stdout).toMatch(/^talos +t4g\.small \* +2 \/ 2 +no +- +\$0\.01 \(spot\) /m);
    expect(result.stdout).toContain("Spot lines: eu-west-1 spot prices of 2026-08 (cost/prices.ts SPOT_USD_PER_HOUR), a snapshot of a variable price.");
    expect(result.stdout).toContain("https://website.spot.ec2.aws.a2z.com/spot.json");
  });

  it("--json marks the spot line and names the market of the node-type rows", async () => {
    const result = await run("scripts/cost.ts", ["--json", "--month", MONTH], { DEATHSTAR_CONFIG: configFile("spot-json.json", override) });
    expect(result.code, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout) as {
      nodeMarket: string;
      reports: Record<string, { totalUsd: number; lines: { address: string; market?: string; unitUsd: number; priceNote?: string }[] }>;
      nodeTypes: { instanceType: string; market: string; usdPerHour: number }[];
    };
    expect(parsed.nodeMarket).toBe("spot");
    expect(parsed.reports.bastion!.totalUsd).toBeCloseTo(report.totalUsd, 9);
    expect(parsed.reports.bastion!.lines.filter((l) => l.market === "spot" && l.address === "aws_instance.talos_node")).toEqual([
      expect.objectContaining({ address: "aws_instance.talos_node", unitUsd: 0.01, priceNote: "eu-west-1 spot price of 2026-08, which varies" }),
    ]);
    expect(parsed.nodeTypes.map((n) => [n.instanceType, n.market, n.usdPerHour])).toEqual([
      ["t4g.small", "spot", 0.01],
      ["t4g.xlarge", "spot", 0.0746],
      ["a1.metal", "spot", 0.4488], // the feed's $0.461, capped at the on-demand estimate
      ["t3a.xlarge", "spot", 0.0849],
    ]);
  });
});

describe.concurrent("npm run cost -- --compare", () => {
  // A site with the designs' choices changed and the seed's usage: each design must put its own back.
  const override = {
    usage: { experimentSessionsPerMonth: 20, hoursPerSession: 3, nodesPerSession: 3 },
    network: { nat: "gateway" },
    talos: { nodeMarket: "spot", nodeCpuCredits: "standard" },
    bastion: { cacheVolumeGb: 5, market: "spot" },
    budget: { allowOver: true },
  };
  const configured = siteConfig(override);
  /** Each design as the model prices it in-process: the month, and the trial's last month with the trial. */
  const designs = COMPARED_DESIGNS.map((design) => {
    const config = siteConfig(mergeOverride(override, design.override) as Record<string, unknown>);
    const stack = synthStack(config);
    return {
      name: design.name,
      config,
      month: estimateMonthlyCost(stack, config, { month: MONTH }),
      trial: estimateMonthlyCost(stack, { ...config, budget: { ...config.budget, t4gTrial: true } }, { month: T4G_TRIAL_LAST_MONTH }),
    };
  });

  it("names the designs and keeps the configured one as configured", () => {
    expect(designs.map((d) => d.name)).toEqual(["configured", "first-defaults", "all-levers", "seed"]);
    expect(designs[0]!.config).toEqual(configured);
    const choices = (c: (typeof designs)[number]["config"]) => [
      c.network.nat,
      c.bastion.market,
      c.bastion.cacheStorage,
      c.bastion.cacheVolumeGb,
      c.talos.nodeMarket,
      c.talos.nodeCpuCredits,
      c.usage.experimentSessionsPerMonth,
    ];
    expect(designs.map((d) => choices(d.config))).toEqual([
      ["gateway", "spot", "s3", 5, "spot", "standard", 20],
      ["instance", "on-demand", "ebs", 20, "on-demand", "unlimited", 20],
      ["bastion", "spot", "s3", 5, "spot", "standard", 20],
      ["gateway", "on-demand", "ebs", 20, "on-demand", "unlimited", 20],
    ]);
  });

  it("prints each design's lines, totals, at rest and the trial month side by side", async () => {
    const result = await run("scripts/cost.ts", ["--compare", "--month", MONTH], { DEATHSTAR_CONFIG: configFile("compare.json", override) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Designs side by side for site "aws-eu-west-1", ${MONTH}; usage as configured (20 sessions × 3 h × 3 nodes):`);
    expect(result.stdout).toMatch(/^resource \(\$\/month\) +configured +first-defaults +all-levers +seed$/m);
    const row = (label: string, figures: readonly number[]) => new RegExp(`^${escape(label)} +${figures.map((f) => escape(usd(f))).join(" +")}$`, "m");
    expect(result.stdout).toMatch(row("TOTAL", designs.map((d) => d.month.totalUsd)));
    expect(result.stdout).toMatch(row("at rest", designs.map((d) => d.month.idleUsd)));
    expect(result.stdout).toMatch(row(`with the t4g.small trial (${T4G_TRIAL_LAST_MONTH})`, designs.map((d) => d.trial.totalUsd)));
    const nodes = designs.map((d) => d.month.lines.filter((l) => l.address === "aws_instance.talos_node").reduce((t, l) => t + l.monthlyUsd, 0));
    expect(result.stdout).toMatch(row("aws_instance.talos_node", nodes));
    expect(result.stdout).toMatch(/^aws_nat_gateway\.main +\$\d+\.\d\d +- +- +\$\d+\.\d\d$/m);
    expect(result.stdout).toContain("Spot lines: eu-west-1 spot prices of");
    for (const design of COMPARED_DESIGNS) expect(result.stdout).toContain(`  ${design.name}: ${design.description}`);
  });

  it("--json gives every design's override, figures and report", async () => {
    const result = await run("scripts/cost.ts", ["--compare", "--json", "--month", MONTH], { DEATHSTAR_CONFIG: configFile("compare-json.json", override) });
    expect(result.code, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout) as { month: string; trialMonth: string; designs: { name: string; override: unknown; totalUsd: number; idleUsd: number; trialUsd: number }[] };
    expect([parsed.month, parsed.trialMonth]).toEqual([MONTH, T4G_TRIAL_LAST_MONTH]);
    expect(parsed.designs.map((d) => [d.name, d.override])).toEqual(COMPARED_DESIGNS.map((d) => [d.name, d.override]));
    parsed.designs.forEach((d, i) => {
      expect(d.totalUsd).toBeCloseTo(designs[i]!.month.totalUsd, 9);
      expect(d.idleUsd).toBeCloseTo(designs[i]!.month.idleUsd, 9);
      expect(d.trialUsd).toBeCloseTo(designs[i]!.trial.totalUsd, 9);
    });
  });
});

describe("teardown plan", () => {
  // A cache volume and a NAT instance (the first defaults): S3 mode has its own case below.
  const config = firstDefaultsConfig();
  const stack = synthStack(config);
  const plan = (action: Parameters<typeof teardownPlan>[2]["action"]) => teardownPlan(stack, config, { action, stackDir: "cdktf.out/stacks/deathstar" });
  const commands = (p: ReturnType<typeof plan>) => p.commands.map((c) => c.argv.join(" "));

  const groups = ["deathstar-bastion", "deathstar-nat_instance"];
  const cacheUsd = config.bastion.cacheVolumeGb * 0.088;
  /** A standard CloudWatch alarm, a month. */
  const ALARM_USD = 0.1;

  it("pause stops every Auto Scaling group and suspends its scheduled starts, then verifies", () => {
    const p = plan("pause");
    const autoscaling = commands(p).filter((c) => c.startsWith("aws autoscaling"));
    expect(autoscaling).toEqual([
      ...groups.map((g) => `aws autoscaling suspend-processes --auto-scaling-group-name ${g} --scaling-processes ScheduledActions --region eu-west-1`),
      ...groups.map((g) => `aws autoscaling update-auto-scaling-group --auto-scaling-group-name ${g} --min-size 0 --desired-capacity 0 --region eu-west-1`),
    ]);
    expect(commands(p)).toContain(
      "aws ec2 describe-instances --filters Name=instance-state-name,Values=running --query Reservations[].Instances[].[InstanceId,InstanceType,Tags[?Key==`Name`]|[0].Value] --region eu-west-1 --output table",
    );
    for (const check of ["describe-volumes", "describe-addresses", "describe-nat-gateways", "describe-snapshots"]) {
      expect(commands(p).some((c) => c.includes(`aws ec2 ${check}`))).toBe(true);
    }
    // At rest: the cache volume, 20 GB × $0.088, and the session deadline's failure alarm.
    expect(p.remaining.map((l) => l.address)).toEqual(["aws_cloudwatch_metric_alarm.talos_node_expiry_failed", "aws_ebs_volume.bastion_cache"]);
    expect(p.remainingUsd).toBeCloseTo(cacheUsd + ALARM_USD, 6);
    expect(p.warnings).toEqual([]);
  });

  it("pause sets the Talos nodes (counted by a variable) to 0 first", () => {
    expect(commands(plan("pause"))[0]).toBe("tofu -chdir=cdktf.out/stacks/deathstar apply -var talos_node_count=0");
  });

  it("warns that a NAT gateway keeps billing through a pause", () => {
    const gateway = firstDefaultsConfig({ network: { nat: "gateway" } });
    const p = teardownPlan(synthStack(gateway), gateway, { action: "pause", stackDir: "d" });
    expect(p.warnings).toEqual([expect.stringContaining("A NAT gateway cannot be paused")]);
    expect(p.remainingUsd).toBeCloseTo(730 * 0.048 + 730 * 0.005 + cacheUsd + ALARM_USD, 6); // $40.55
  });

  it("destroy keeps the persistent volumes and the budget and says what they cost; destroy-all goes to $0", () => {
    const keep = plan("destroy");
    expect(commands(keep)[0]).toBe(
      "tofu -chdir=cdktf.out/stacks/deathstar destroy -exclude aws_budgets_budget.monthly -exclude aws_ebs_volume.bastion_cache",
    );
    expect(keep.remaining.map((l) => l.address)).toEqual(["aws_ebs_volume.bastion_cache"]);
    expect(keep.remainingUsd).toBeCloseTo(cacheUsd, 6);
    const all = teardownPlan(stack, config, { action: "destroy-all", stackDir: "d", autoApprove: true });
    expect(all.commands[0]!.argv).toEqual(["tofu", "-chdir=d", "destroy", "-auto-approve"]);
    expect(all.remainingUsd).toBe(0);
  });

  it("destroy keeps the cache bucket and its settings in S3 mode, and what stays billed is the cached bytes", () => {
    const s3 = siteConfig(S3_CACHE_OVERRIDE);
    const keep = teardownPlan(synthStack(s3), s3, { action: "destroy", stackDir: "d" });
    const excluded = keep.commands[0]!.argv.flatMap((arg, i, all) => (all[i - 1] === "-exclude" ? [arg] : []));
    expect(excluded).toEqual(["aws_budgets_budget.monthly", ...CACHE_BUCKET_ADDRESSES]);
    expect(keep.remaining.map((l) => `${l.address} ${l.item}`)).toEqual(["aws_s3_bucket.registry_cache S3 Standard storage"]);
    expect(keep.remainingUsd).toBeCloseTo(s3.usage.cacheGb * 0.023, 6);
  });

  it("resume turns the schedules back on", () => {
    expect(commands(plan("resume")).filter((c) => c.startsWith("aws autoscaling"))).toEqual(
      groups.map((g) => `aws autoscaling resume-processes --auto-scaling-group-name ${g} --scaling-processes ScheduledActions --region eu-west-1`),
    );
  });
});
