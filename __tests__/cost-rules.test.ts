/**
 * Each pricing rule on a tiny hand-built stack, against a figure computed by hand from the list
 * prices (written out as numbers here, not read from the model, so a wrong rule cannot agree
 * with itself).
 */
import { describe, expect, it } from "vitest";
import { TerraformStack, TerraformVariable, Testing } from "cdktf";
import type { Construct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingSchedule } from "@cdktf/provider-aws/lib/autoscaling-schedule";
import { BudgetsBudget } from "@cdktf/provider-aws/lib/budgets-budget";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { EbsSnapshot } from "@cdktf/provider-aws/lib/ebs-snapshot";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { NetworkInterface } from "@cdktf/provider-aws/lib/network-interface";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { estimateMonthlyCost, type CostReport } from "../cost/model.js";
import { SPOT_PRICES_AS_OF, SPOT_USD_PER_HOUR } from "../cost/prices.js";
import { INSTANCE_TYPES } from "../config/instance-types.js";
import type { TerraformJson } from "../analysis/synthesized.js";
import { awsSite } from "../config/sites.js";

const USAGE = { experimentSessionsPerMonth: 4, hoursPerSession: 3, nodesPerSession: 3, natGbPerMonth: 10, internetEgressGbPerMonth: 1, cacheGb: 10, nodeCpuPercent: 100 };
const CONFIG = {
  aws: { region: "eu-west-1", availabilityZone: "eu-west-1a" },
  usage: USAGE,
  budget: { monthlyUsd: 10, allowOver: false, email: "owner@example.com", t4gTrial: false },
  services: awsSite.services,
};

/** Builds a stack with `build`, synthesizes it, and prices it. */
function price(build: (stack: Construct) => void, config: Partial<typeof CONFIG> = {}, month = "2027-01"): CostReport {
  const stack = new TerraformStack(Testing.app(), "tiny");
  new AwsProvider(stack, "aws", { region: "eu-west-1" });
  build(stack);
  const json = JSON.parse(Testing.synth(stack)) as TerraformJson;
  return estimateMonthlyCost(json, { ...CONFIG, ...config }, { month });
}

function lineUsd(report: CostReport, address: string, item: string | RegExp): number {
  const found = report.lines.filter((l) => l.address === address && (typeof item === "string" ? l.item === item : item.test(l.item)));
  expect(found, `${address} ${String(item)} in ${JSON.stringify(report.lines.map((l) => `${l.address} ${l.item}`))}`).toHaveLength(1);
  return found[0]!.monthlyUsd;
}

function clean(report: CostReport): void {
  expect(report.unpriced).toEqual([]);
  expect(report.problems).toEqual([]);
}

/** A launch template's `instance_market_options`, as the stack writes it for spot nodes. */
const SPOT = { marketType: "spot", spotOptions: { spotInstanceType: "one-time", instanceInterruptionBehavior: "terminate" } };

function template(scope: Construct, name: string, opts: { type?: string; rootGb?: number; volumeType?: string; publicIp?: boolean; market?: { marketType: string } } = {}) {
  const lt = new LaunchTemplate(scope, `lt-${name}`, {
    name,
    instanceType: opts.type ?? "t4g.small",
    ...(opts.market ? { instanceMarketOptions: opts.market } : {}),
    blockDeviceMappings:
      opts.rootGb === undefined ? [] : [{ deviceName: "/dev/xvda", ebs: { volumeSize: opts.rootGb, ...(opts.volumeType ? { volumeType: opts.volumeType } : {}) } }],
    networkInterfaces: opts.publicIp === undefined ? [] : [{ deviceIndex: 0, associatePublicIpAddress: String(opts.publicIp) }],
  });
  lt.overrideLogicalId(name);
  return lt;
}

function scheduledGroup(scope: Construct, name: string, start: string | undefined, stop: string | undefined, opts: Parameters<typeof template>[2] = {}) {
  const lt = template(scope, name, opts);
  const group = new AutoscalingGroup(scope, `asg-${name}`, {
    name,
    minSize: 0,
    maxSize: 1,
    ...(start ? {} : { desiredCapacity: 1 }),
    launchTemplate: { id: lt.id, version: "$Latest" },
  });
  group.overrideLogicalId(name);
  for (const [action, recurrence, desired] of [["start", start, 1], ["stop", stop, 0]] as const) {
    if (!recurrence) continue;
    const schedule = new AutoscalingSchedule(scope, `${name}-${action}`, {
      autoscalingGroupName: group.name,
      scheduledActionName: `${name}-${action}`,
      recurrence,
      minSize: 0,
      maxSize: 1,
      desiredCapacity: desired,
    });
    schedule.overrideLogicalId(`${name}_${action}`);
  }
  return group;
}

describe("aws_autoscaling_group: its launch template's instance, on the group's schedule", () => {
  it("prices instance hours, the root volume and the public IPv4 only while running (weekdays 18-23)", () => {
    const report = price((s) => scheduledGroup(s, "box", "0 18 * * MON-FRI", "0 23 * * MON-FRI", { rootGb: 10, volumeType: "gp3", publicIp: true }));
    clean(report);
    // 25 h/week × 730/168 = 108.630952 h.
    const hours = (25 * 730) / 168;
    expect(lineUsd(report, "aws_autoscaling_group.box", "t4g.small instance")).toBeCloseTo(hours * 0.0184, 6); // $1.9988
    expect(lineUsd(report, "aws_autoscaling_group.box", /gp3 volume \/dev\/xvda, 10 GB/)).toBeCloseTo(10 * 0.088 * (hours / 730), 6); // $0.1310
    expect(lineUsd(report, "aws_autoscaling_group.box", "public IPv4 (primary interface)")).toBeCloseTo(hours * 0.005, 6); // $0.5432
    expect(report.totalUsd).toBeCloseTo(1.99881 + 0.130952 + 0.543155, 4);
    expect(report.idleUsd).toBe(0);
  });

  it("runs a group with no schedule at its desired capacity all month; no public IP, no charge for one", () => {
    const report = price((s) => scheduledGroup(s, "always", undefined, undefined, { type: "t4g.nano", rootGb: 8, volumeType: "gp3", publicIp: false }));
    clean(report);
    expect(report.totalUsd).toBeCloseTo(730 * 0.0046 + 8 * 0.088, 6); // $3.358 + $0.704
    expect(report.lines.map((l) => l.item)).not.toContain("public IPv4 (primary interface)");
  });

  it("prices a schedule that is not weekly as always on", () => {
    const report = price((s) => scheduledGroup(s, "monthly", "0 18 1 * *", "0 23 1 * *", { type: "t4g.nano", rootGb: 8, volumeType: "gp3" }));
    expect(lineUsd(report, "aws_autoscaling_group.monthly", "t4g.nano instance")).toBeCloseTo(730 * 0.0046, 6);
  });

  it("reports an instance whose root volume size it cannot know instead of guessing", () => {
    const none = price((s) => scheduledGroup(s, "nosize", "0 18 * * *", "0 23 * * *"));
    expect(none.problems).toEqual([expect.stringMatching(/^aws_autoscaling_group\.nosize: sets no root volume/)]);
    expect(none.lines).toEqual([]);
    const unsized = price((s) => {
      const lt = new LaunchTemplate(s, "lt", { name: "x", instanceType: "t4g.small", blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3" } }] });
      lt.overrideLogicalId("x");
      new AutoscalingGroup(s, "g", { minSize: 0, maxSize: 1, desiredCapacity: 1, launchTemplate: { id: lt.id } }).overrideLogicalId("x");
    });
    expect(unsized.problems).toEqual([expect.stringMatching(/^aws_autoscaling_group\.x: volume \/dev\/xvda has no volume_size/)]);
  });

  it("refuses a template volume that outlives its instance", () => {
    const report = price((s) => {
      const lt = new LaunchTemplate(s, "lt", {
        name: "x",
        instanceType: "t4g.small",
        blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 8, volumeType: "gp3", deleteOnTermination: "false" } }],
      });
      lt.overrideLogicalId("x");
      new AutoscalingGroup(s, "g", { minSize: 0, maxSize: 1, desiredCapacity: 1, launchTemplate: { id: lt.id } }).overrideLogicalId("x");
    });
    expect(report.problems).toEqual([expect.stringMatching(/volume \/dev\/xvda has delete_on_termination false/)]);
  });
});

describe("aws_instance", () => {
  it("counted by a variable is a session instance: sessions × hours × nodes, root volume only for those hours", () => {
    const report = price((s) => {
      const count = new TerraformVariable(s, "talos_node_count", { type: "number", default: 0 });
      const lt = template(s, "node", { rootGb: 20, volumeType: "gp3" });
      const node = new Instance(s, "node", { count: count.numberValue, launchTemplate: { id: lt.id } });
      node.overrideLogicalId("node");
    });
    clean(report);
    // 4 sessions × 3 h × 3 nodes = 36 node-hours.
    expect(lineUsd(report, "aws_instance.node", "t4g.small instance")).toBeCloseTo(36 * 0.0184, 6); // $0.6624
    expect(lineUsd(report, "aws_instance.node", /gp3 volume \/dev\/xvda, 20 GB/)).toBeCloseTo((20 * 0.088 * 36) / 730, 6); // $0.0868
    expect(report.lines.every((l) => l.basis.includes("4 sessions × 3 h × 3 nodes = 36 h") && !l.idle)).toBe(true);
  });

  it("without count runs all month; its own root_block_device wins over the template's, unset type priced as gp2", () => {
    const report = price((s) => {
      const lt = template(s, "tpl", { type: "t4g.large", rootGb: 100, volumeType: "gp3" });
      new Instance(s, "box", { instanceType: "t4g.micro", launchTemplate: { id: lt.id }, rootBlockDevice: { volumeSize: 30 } }).overrideLogicalId("box");
    });
    clean(report);
    expect(lineUsd(report, "aws_instance.box", "t4g.micro instance")).toBeCloseTo(730 * 0.0092, 6); // $6.716
    expect(lineUsd(report, "aws_instance.box", "gp2 root volume, 30 GB")).toBeCloseTo(30 * 0.11, 6); // $3.30
  });

  it("with a literal count multiplies; a public IP on the instance is priced while it runs", () => {
    const report = price((s) => {
      new Instance(s, "pair", {
        count: 2,
        instanceType: "t4g.nano",
        associatePublicIpAddress: true,
        rootBlockDevice: { volumeSize: 8, volumeType: "gp3" },
      }).overrideLogicalId("pair");
    });
    clean(report);
    expect(report.totalUsd).toBeCloseTo(2 * (730 * 0.0046 + 8 * 0.088 + 730 * 0.005), 6); // 2 × $7.712
  });

  it("reports an instance type missing from the price table", () => {
    const report = price((s) => {
      new Instance(s, "big", { instanceType: "r8g.metal-24xl", rootBlockDevice: { volumeSize: 8, volumeType: "gp3" } }).overrideLogicalId("big");
    });
    expect(report.problems).toEqual([expect.stringMatching(/aws_instance\.big: instance type "r8g\.metal-24xl" is not in INSTANCE_TYPES/)]);
    expect(report.totalUsd).toBe(0);
  });
});

describe("unlimited CPU credits (surplus above the baseline, usage.nodeCpuPercent for session nodes)", () => {
  /** Session nodes with unlimited credits: 4 sessions × 3 h × 3 nodes = 36 h of a t4g.small (2 vCPU, 20 % baseline each). */
  const unlimitedNodes = (s: Construct) => {
    const count = new TerraformVariable(s, "talos_node_count", { type: "number", default: 0 });
    const lt = new LaunchTemplate(s, "lt", {
      name: "node",
      instanceType: "t4g.small",
      creditSpecification: { cpuCredits: "unlimited" },
      blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 20, volumeType: "gp3" } }],
    });
    lt.overrideLogicalId("node");
    new Instance(s, "node", { count: count.numberValue, launchTemplate: { id: lt.id } }).overrideLogicalId("node");
  };
  const surplus = (nodeCpuPercent: number) => {
    const report = price(unlimitedNodes, { usage: { ...USAGE, nodeCpuPercent } });
    clean(report);
    const found = report.lines.filter((l) => /surplus CPU credits/.test(l.item));
    expect(found).toHaveLength(1);
    return found[0]!;
  };

  it("at 100 % (the default: unmeasured) prices the ceiling, every vCPU busy every node hour", () => {
    const line = surplus(100);
    expect(line.item).toBe("t4g.small surplus CPU credits (unlimited), at most");
    expect(line.quantity).toBeCloseTo(36 * 2 * 0.8, 6);
    expect(line.monthlyUsd).toBeCloseTo(36 * 2 * 0.8 * 0.04, 6); // $2.30
  });

  it("at a measured average bills only what exceeds the baseline", () => {
    const line = surplus(50);
    expect(line.item).toBe("t4g.small surplus CPU credits (unlimited), 50 % average CPU");
    expect(line.monthlyUsd).toBeCloseTo(36 * 2 * (0.5 - 0.2) * 0.04, 6); // $0.86
  });

  it("at or below the baseline bills nothing, and still shows the line with its figure", () => {
    for (const percent of [20, 12.5, 0]) expect(surplus(percent).monthlyUsd).toBe(0);
  });

  it("moves the forgotten-session figure with it (a session line)", () => {
    const at = (nodeCpuPercent: number) => price(unlimitedNodes, { usage: { ...USAGE, nodeCpuPercent } }).lines.filter((l) => l.session).reduce((t, l) => t + l.monthlyUsd, 0);
    expect(at(100) - at(20)).toBeCloseTo(36 * 2 * 0.8 * 0.04, 6);
  });

  it("leaves an always-on instance at the ceiling: the figure is the nodes'", () => {
    const report = price(
      (s) => {
        const lt = new LaunchTemplate(s, "lt", { name: "x", instanceType: "t4g.small", creditSpecification: { cpuCredits: "unlimited" }, blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 8 } }] });
        lt.overrideLogicalId("x");
        new Instance(s, "box", { launchTemplate: { id: lt.id } }).overrideLogicalId("box");
      },
      { usage: { ...USAGE, nodeCpuPercent: 10 } },
    );
    expect(lineUsd(report, "aws_instance.box", "t4g.small surplus CPU credits (unlimited), at most")).toBeCloseTo(730 * 2 * 0.8 * 0.04, 6);
  });
});

describe("spot instances (instance_market_options market_type spot)", () => {
  /** Session nodes from a template, as the stack's Talos nodes are: 4 sessions × 3 h × 3 nodes = 36 h. */
  const sessionNodes = (opts: Parameters<typeof template>[2]) => (s: Construct) => {
    const count = new TerraformVariable(s, "talos_node_count", { type: "number", default: 0 });
    const lt = template(s, "node", { rootGb: 20, volumeType: "gp3", ...opts });
    new Instance(s, "node", { count: count.numberValue, launchTemplate: { id: lt.id } }).overrideLogicalId("node");
  };

  it("prices a template's spot nodes at the dated spot price, labelled variable; volumes as before", () => {
    const report = price(sessionNodes({ market: SPOT }));
    clean(report);
    // eu-west-1 t4g.small spot, Linux, from the feed snapshot: $0.01/h (on-demand $0.0184).
    expect(lineUsd(report, "aws_instance.node", "t4g.small spot instance (variable price)")).toBeCloseTo(36 * 0.01, 6); // $0.36
    expect(lineUsd(report, "aws_instance.node", /gp3 volume \/dev\/xvda, 20 GB/)).toBeCloseTo((20 * 0.088 * 36) / 730, 6);
    const hours = report.lines.find((l) => l.unit === "h")!;
    expect(hours).toMatchObject({ market: "spot", instanceType: "t4g.small", unitUsd: 0.01 });
    expect(hours.priceNote).toBe(`eu-west-1 spot price of ${SPOT_PRICES_AS_OF}, which varies`);
    expect(hours.basis).toBe("count = var.talos_node_count: session resource, 4 sessions × 3 h × 3 nodes = 36 h (usage)");
    expect(report.notes).toEqual([expect.stringMatching(/^aws_instance\.node: spot, priced at eu-west-1 spot prices of 2026-08 .*never above the on-demand price/)]);
    const onDemand = price(sessionNodes({}));
    expect(onDemand.lines.some((l) => l.market !== undefined)).toBe(false);
    expect(onDemand.totalUsd - report.totalUsd).toBeCloseTo(36 * (0.0184 - 0.01), 6); // $0.3024
  });

  it("bills a spot T4g's unlimited surplus credits as on-demand (same $0.04/vCPU-h)", () => {
    const report = price((s) => {
      const lt = new LaunchTemplate(s, "lt", {
        name: "x",
        instanceType: "t4g.small",
        instanceMarketOptions: SPOT,
        creditSpecification: { cpuCredits: "unlimited" },
        blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 8, volumeType: "gp3" } }],
      });
      lt.overrideLogicalId("x");
      new Instance(s, "box", { launchTemplate: { id: lt.id } }).overrideLogicalId("box");
    });
    clean(report);
    expect(lineUsd(report, "aws_instance.box", /surplus CPU credits/)).toBeCloseTo(730 * 2 * 0.8 * 0.04, 6);
  });

  it("caps a spot price above the on-demand price at the on-demand price, and says so", () => {
    // a1.metal: the feed's $0.461 is above the table's on-demand estimate $0.4488 (us-east-1 $0.408 × 1.1).
    const report = price(sessionNodes({ type: "a1.metal", market: SPOT }));
    clean(report);
    const hours = report.lines.find((l) => l.unit === "h")!;
    expect(hours.unitUsd).toBe(0.4488);
    expect(hours.priceNote).toContain("above the on-demand price, which caps what a spot request without a max price pays");
    // Capped at an estimated list price: the estimate note applies.
    expect(report.notes).toContainEqual(expect.stringMatching(/^a1\.metal is priced at an estimate/));
    // Below on-demand: the spot price, and no estimate note for it.
    const m7g = price(sessionNodes({ type: "m7g.metal", market: SPOT }));
    expect(m7g.lines.find((l) => l.unit === "h")!.unitUsd).toBe(0.8142);
    expect(m7g.notes.some((n) => n.startsWith("m7g.metal is priced at an estimate"))).toBe(false);
  });

  it("a group's spot template is priced at spot on the group's schedule", () => {
    const report = price((s) => scheduledGroup(s, "box", "0 18 * * *", "0 23 * * *", { type: "t4g.nano", rootGb: 8, volumeType: "gp3", market: SPOT }));
    clean(report);
    expect(lineUsd(report, "aws_autoscaling_group.box", "t4g.nano spot instance (variable price)")).toBeCloseTo(((35 * 730) / 168) * 0.0019, 6);
  });

  /** A scheduled group that launches `box`'s template through a mixed instances policy. */
  const mixedGroup = (distribution: Record<string, unknown>, overrides: readonly string[]) => (s: Construct) => {
    const lt = template(s, "box", { type: "t4g.nano", rootGb: 8, volumeType: "gp3" });
    const group = new AutoscalingGroup(s, "asg", {
      name: "box",
      minSize: 0,
      maxSize: 1,
      desiredCapacity: 1,
      mixedInstancesPolicy: {
        instancesDistribution: distribution,
        launchTemplate: { launchTemplateSpecification: { launchTemplateId: lt.id, version: "$Latest" }, override: overrides.map((instanceType) => ({ instanceType })) },
      },
    });
    group.overrideLogicalId("box");
  };

  it("a group's spot-only mixed instances policy is priced at spot for its override type; all on-demand at list price", () => {
    const spot = price(mixedGroup({ onDemandBaseCapacity: 0, onDemandPercentageAboveBaseCapacity: 0 }, ["t4g.small"]));
    clean(spot);
    expect(lineUsd(spot, "aws_autoscaling_group.box", "t4g.small spot instance (variable price)")).toBeCloseTo(730 * 0.01, 6);
    expect(lineUsd(spot, "aws_autoscaling_group.box", "gp3 volume /dev/xvda, 8 GB")).toBeCloseTo(8 * 0.088, 6);
    // EC2 Auto Scaling's default distribution is all on-demand; no override means the template's type.
    const onDemand = price(mixedGroup({}, []));
    clean(onDemand);
    expect(lineUsd(onDemand, "aws_autoscaling_group.box", "t4g.nano instance")).toBeCloseTo(730 * 0.0046, 6);
  });

  it("reports a mixed instances policy it does not price instead of guessing", () => {
    const split = price(mixedGroup({ onDemandBaseCapacity: 0, onDemandPercentageAboveBaseCapacity: 50 }, ["t4g.small"]));
    expect(split.problems).toEqual([expect.stringMatching(/^aws_autoscaling_group\.box: mixed_instances_policy buys 50 % on-demand above a base of 0/)]);
    const types = price(mixedGroup({ onDemandPercentageAboveBaseCapacity: 0 }, ["t4g.small", "t4g.medium"]));
    expect(types.problems).toEqual([expect.stringMatching(/^aws_autoscaling_group\.box: mixed_instances_policy has 2 instance types/)]);
  });

  it("an instance's own market options win over its template's", () => {
    const report = price((s) => {
      const lt = template(s, "tpl", { rootGb: 8, volumeType: "gp3" });
      new Instance(s, "box", { launchTemplate: { id: lt.id }, instanceMarketOptions: SPOT }).overrideLogicalId("box");
    });
    clean(report);
    expect(lineUsd(report, "aws_instance.box", "t4g.small spot instance (variable price)")).toBeCloseTo(730 * 0.01, 6);
  });

  it("reports a market it does not price instead of guessing", () => {
    const report = price(sessionNodes({ market: { marketType: "capacity-block" } }));
    expect(report.problems).toEqual([expect.stringMatching(/^aws_instance\.node: instance_market_options\.market_type "capacity-block" is not priced/)]);
  });

  it("the spot table prices every type the list-price table has, and nothing else", () => {
    expect(Object.keys(SPOT_USD_PER_HOUR).sort()).toEqual(Object.keys(INSTANCE_TYPES).sort());
    for (const [type, usd] of Object.entries(SPOT_USD_PER_HOUR)) expect(usd, type).toBeGreaterThan(0);
  });
});

describe("storage", () => {
  it("prices a persistent volume all month, with gp3 IOPS and throughput above the baseline", () => {
    const report = price((s) => {
      new EbsVolume(s, "cache", { availabilityZone: "eu-west-1a", size: 20, type: "gp3" }).overrideLogicalId("cache");
      new EbsVolume(s, "fast", { availabilityZone: "eu-west-1a", size: 10, type: "gp3", iops: 4000, throughput: 250 }).overrideLogicalId("fast");
      new EbsVolume(s, "old", { availabilityZone: "eu-west-1a", size: 10 }).overrideLogicalId("old");
    });
    clean(report);
    expect(lineUsd(report, "aws_ebs_volume.cache", "gp3 volume, 20 GB")).toBeCloseTo(1.76, 6);
    expect(lineUsd(report, "aws_ebs_volume.fast", "gp3 IOPS above 3000")).toBeCloseTo(1000 * 0.0055, 6); // $5.50
    expect(lineUsd(report, "aws_ebs_volume.fast", "gp3 MB/s above 125")).toBeCloseTo(125 * 0.044, 6); // $5.50
    expect(lineUsd(report, "aws_ebs_volume.old", "gp2 volume, 10 GB")).toBeCloseTo(1.1, 6);
    expect(report.idleUsd).toBeCloseTo(report.totalUsd, 9);
  });

  it("prices a snapshot at its source volume's size", () => {
    const report = price((s) => {
      const volume = new EbsVolume(s, "cache", { availabilityZone: "eu-west-1a", size: 20, type: "gp3" });
      volume.overrideLogicalId("cache");
      new EbsSnapshot(s, "backup", { volumeId: volume.id }).overrideLogicalId("backup");
    });
    clean(report);
    expect(lineUsd(report, "aws_ebs_snapshot.backup", "snapshot of aws_ebs_volume.cache")).toBeCloseTo(20 * 0.05, 6); // $1.00
  });
});

describe("network", () => {
  it("NAT gateway mode ≈ $35 + $3.65 a month before traffic, plus $0.048 per processed GB", () => {
    const report = price((s) => {
      const eip = new Eip(s, "eip", { domain: "vpc" });
      eip.overrideLogicalId("nat");
      new NatGateway(s, "gw", { allocationId: eip.allocationId, subnetId: "subnet-1" }).overrideLogicalId("main");
    });
    clean(report);
    expect(lineUsd(report, "aws_nat_gateway.main", "NAT gateway")).toBeCloseTo(35.04, 6);
    expect(lineUsd(report, "aws_eip.nat", "public IPv4 (Elastic IP)")).toBeCloseTo(3.65, 6);
    expect(lineUsd(report, "aws_nat_gateway.main", "NAT gateway data processing")).toBeCloseTo(10 * 0.048, 6);
    expect(report.idleUsd).toBeCloseTo(38.69, 6);
  });

  it("prices internet egress past the 100 free GB on the internet gateway", () => {
    const build = (s: Construct) => new InternetGateway(s, "igw", {}).overrideLogicalId("main");
    expect(price(build).totalUsd).toBe(0);
    const heavy = price(build, { usage: { ...USAGE, internetEgressGbPerMonth: 150 } });
    expect(lineUsd(heavy, "aws_internet_gateway.main", "data transfer out to the internet")).toBeCloseTo(50 * 0.09, 6); // $4.50
  });

  it("prices interface endpoints per AZ-hour; gateway endpoints and ENIs are free", () => {
    const report = price((s) => {
      new VpcEndpoint(s, "ssm", { vpcId: "vpc-1", serviceName: "com.amazonaws.eu-west-1.ssm", vpcEndpointType: "Interface", subnetIds: ["a", "b"] }).overrideLogicalId("ssm");
      new VpcEndpoint(s, "s3", { vpcId: "vpc-1", serviceName: "com.amazonaws.eu-west-1.s3", vpcEndpointType: "Gateway" }).overrideLogicalId("s3");
      new NetworkInterface(s, "eni", { subnetId: "subnet-1" }).overrideLogicalId("eni");
    });
    clean(report);
    expect(lineUsd(report, "aws_vpc_endpoint.ssm", "interface endpoint, 2 AZ")).toBeCloseTo(2 * 730 * 0.011, 6); // $16.06
    expect(lineUsd(report, "aws_vpc_endpoint.s3", "gateway endpoint")).toBe(0);
    expect(report.free.map((f) => f.address)).toContain("aws_network_interface.eni");
  });
});

describe("account-level resources", () => {
  it("budgets are free, advanced SSM parameters and alarms are not", () => {
    const report = price((s) => {
      new BudgetsBudget(s, "b", { budgetType: "COST", timeUnit: "MONTHLY", limitAmount: "10", limitUnit: "USD" }).overrideLogicalId("monthly");
      new SsmParameter(s, "std", { name: "/a", type: "SecureString", value: "x" }).overrideLogicalId("std");
      new SsmParameter(s, "adv", { name: "/b", type: "String", value: "x", tier: "Advanced" }).overrideLogicalId("adv");
      new CloudwatchMetricAlarm(s, "alarm", { alarmName: "a", comparisonOperator: "GreaterThanThreshold", evaluationPeriods: 1 }).overrideLogicalId("alarm");
    });
    clean(report);
    expect(lineUsd(report, "aws_budgets_budget.monthly", "AWS Budgets (no actions)")).toBe(0);
    expect(lineUsd(report, "aws_ssm_parameter.std", "standard SSM parameter")).toBe(0);
    expect(lineUsd(report, "aws_ssm_parameter.adv", "advanced SSM parameter")).toBeCloseTo(0.05, 6);
    expect(lineUsd(report, "aws_cloudwatch_metric_alarm.alarm", "CloudWatch alarm")).toBeCloseTo(0.1, 6);
  });

  it("reports a resource type with neither a rule nor a free entry as unpriced", () => {
    const report = price((s) => new S3BucketVersioningA(s, "versioning", { bucket: "b", versioningConfiguration: { status: "Enabled" } }).overrideLogicalId("logs"));
    expect(report.unpriced).toEqual(["aws_s3_bucket_versioning"]);
  });
});

describe("S3 buckets", () => {
  /** The registry cache bucket, its objects expiring after `days` (the caches' proxy.ttl). */
  const bucket = (days: number) => (s: Construct) => {
    const b = new S3Bucket(s, "bucket", {});
    b.overrideLogicalId("registry_cache");
    new S3BucketLifecycleConfiguration(s, "lifecycle", { bucket: b.id, rule: [{ id: "expire", status: "Enabled", filter: [{ prefix: "" }], expiration: [{ days }] }] });
  };

  it("bills usage.cacheGb of Standard storage all month, idle included, at $0.023/GB-month", () => {
    const report = price(bucket(30), { usage: { ...USAGE, cacheGb: 10 } });
    clean(report);
    expect(lineUsd(report, "aws_s3_bucket.registry_cache", "S3 Standard storage")).toBeCloseTo(10 * 0.023, 6); // $0.23
    expect(report.idleUsd).toBeCloseTo(10 * 0.023, 6);
  });

  it("writes the cache again each time it expires, at most once a session; reads it per node-session; labelled estimates", () => {
    const writes = "S3 PUT/COPY/POST/LIST requests: cache refills (estimate)";
    const reads = "S3 GET requests: pulls through the caches (estimate)";
    // Expiry after 30 days: 730/24/30 = 1.014 refills a month of 10 GB × 1,000 writes at $0.005/1,000.
    const monthly = price(bucket(30), { usage: { ...USAGE, cacheGb: 10 } });
    expect(lineUsd(monthly, "aws_s3_bucket.registry_cache", writes)).toBeCloseTo(((730 / 24 / 30) * 10 * 0.005), 6);
    // 4 sessions × 3 nodes × 10 GB × 1,000 reads at $0.0004/1,000.
    expect(lineUsd(monthly, "aws_s3_bucket.registry_cache", reads)).toBeCloseTo(120 * 0.0004, 6);
    expect(monthly.lines.filter((l) => /requests/.test(l.item)).every((l) => !l.idle && l.basis.startsWith("estimate:"))).toBe(true);
    // registry 3's default TTL of 7 days: every one of the 4 sessions refills (not 4.3: a refill needs a session).
    const weekly = price(bucket(7), { usage: { ...USAGE, cacheGb: 10 } });
    expect(lineUsd(weekly, "aws_s3_bucket.registry_cache", writes)).toBeCloseTo(4 * 10 * 0.005, 6);
    expect(price(bucket(30), { usage: { ...USAGE, cacheGb: 0 } }).totalUsd).toBe(0);
  });

  it("refuses a bucket without an expiry: its refills cannot be bounded", () => {
    const report = price((s) => new S3Bucket(s, "bucket", {}).overrideLogicalId("registry_cache"));
    expect(report.problems).toEqual([expect.stringMatching(/^aws_s3_bucket\.registry_cache: has no lifecycle rule with expiration days/)]);
  });
});

describe("t4g.small free trial", () => {
  const twoAllMonth = (s: Construct) => {
    scheduledGroup(s, "a", undefined, undefined, { rootGb: 8, volumeType: "gp3" });
    scheduledGroup(s, "b", undefined, undefined, { rootGb: 8, volumeType: "gp3" });
  };
  const trial = { budget: { ...CONFIG.budget, t4gTrial: true } };

  it("credits 750 h a month shared across every t4g.small while the trial runs", () => {
    const withTrial = price(twoAllMonth, trial, "2026-12");
    const without = price(twoAllMonth, {}, "2026-12");
    expect(lineUsd(withTrial, "(free tier)", /t4g\.small trial/)).toBeCloseTo(-750 * 0.0184, 6); // -$13.80 of 1460 h
    expect(withTrial.totalUsd).toBeCloseTo(without.totalUsd - 13.8, 6);
  });

  it("credits only the hours used when fewer than 750", () => {
    const report = price((s) => scheduledGroup(s, "evening", "0 18 * * *", "0 23 * * *", { rootGb: 8, volumeType: "gp3" }), trial, "2026-06");
    expect(lineUsd(report, "(free tier)", /t4g\.small trial/)).toBeCloseTo(-((35 * 730) / 168) * 0.0184, 6); // all 152.08 h free
  });

  it("ends after 2026-12 and is off unless the config says the account has it", () => {
    const after = price(twoAllMonth, trial, "2027-01");
    expect(after.lines.some((l) => l.address === "(free tier)")).toBe(false);
    expect(after.notes).toEqual([expect.stringContaining("ended 2026-12-31")]);
    expect(price(twoAllMonth, {}, "2026-11").lines.some((l) => l.address === "(free tier)")).toBe(false);
  });

  it("credits on-demand hours only: spot t4g.small hours are priced in full, and the report says so", () => {
    const mixed = (s: Construct) => {
      scheduledGroup(s, "a", undefined, undefined, { rootGb: 8, volumeType: "gp3" });
      scheduledGroup(s, "b", undefined, undefined, { rootGb: 8, volumeType: "gp3", market: SPOT });
    };
    const report = price(mixed, trial, "2026-12");
    expect(lineUsd(report, "(free tier)", /t4g\.small trial/)).toBeCloseTo(-730 * 0.0184, 6); // a's 730 h, not b's
    expect(lineUsd(report, "aws_autoscaling_group.b", "t4g.small spot instance (variable price)")).toBeCloseTo(730 * 0.01, 6);
    expect(report.notes).toContainEqual(expect.stringContaining("the t4g.small trial is taken to credit on-demand hours only"));
  });

  it("takes the month as YYYY-MM", () => {
    expect(() => price(twoAllMonth, {}, "2026-13")).toThrow(/must be YYYY-MM/);
  });
});
