/**
 * The way back to $0, as data: which commands take the deployed stack to rest or remove it, how
 * to check that nothing billable is left, and what the cost model says still bills afterwards.
 * Everything is read from the synthesized stack (ASG names, count variables, persistent volumes).
 */
import type { SiteConfig } from "../config/schema.js";
import { estimateMonthlyCost, type CostLine } from "../cost/model.js";
import { EBS_VOLUME_GB_MONTH, HOURS_PER_MONTH, PRICES } from "../cost/prices.js";
import { literalString, StackView, type TerraformJson } from "../analysis/synthesized.js";

/**
 * - pause: session nodes to 0, every Auto Scaling group to 0 with its schedules suspended; keeps
 *   everything else (a NAT gateway keeps billing). Reversed by "resume" or by any `tofu apply`.
 * - resume: schedules back on; the next scheduled start launches the instances.
 * - destroy: everything except persistent EBS volumes (registry caches, matchbox assets) and the
 *   budget (free, and it keeps watching for anything left behind).
 * - destroy-all: everything, volumes included: $0.
 * - verify: only the checks.
 */
export const TEARDOWN_ACTIONS = ["pause", "resume", "destroy", "destroy-all", "verify"] as const;
export type TeardownAction = (typeof TEARDOWN_ACTIONS)[number];

export interface Command {
  /** One line on why this runs. */
  readonly why: string;
  readonly argv: readonly string[];
}

export interface TeardownPlan {
  readonly commands: readonly Command[];
  /** What the cost model says still bills once the commands ran. */
  readonly remaining: readonly CostLine[];
  readonly remainingUsd: number;
  readonly warnings: readonly string[];
}

export interface TeardownOptions {
  readonly action: TeardownAction;
  /** Directory holding the synthesized cdk.tf.json and the OpenTofu working state. */
  readonly stackDir: string;
  /**
   * Pass -auto-approve to tofu.
   * @default false (tofu shows the plan and asks)
   */
  readonly autoApprove?: boolean;
  /**
   * OpenTofu executable.
   * @default "tofu"
   */
  readonly tofu?: string;
}

const monthly = (usdPerHour: number) => `$${(usdPerHour * HOURS_PER_MONTH).toFixed(2)}/month`;

/** The read-only checks: nothing running, no NAT gateway, and every volume, address and snapshot left. */
export function verificationCommands(region: string): Command[] {
  const aws = (why: string, ...args: string[]): Command => ({ why, argv: ["aws", ...args, "--region", region, "--output", "table"] });
  const name = "Tags[?Key==`Name`]|[0].Value";
  return [
    aws("running instances (expect none)", "ec2", "describe-instances", "--filters", "Name=instance-state-name,Values=running",
      "--query", `Reservations[].Instances[].[InstanceId,InstanceType,${name}]`),
    aws(`EBS volumes (expect only the persistent ones you kept; gp3 $${EBS_VOLUME_GB_MONTH.gp3}/GB-month)`, "ec2", "describe-volumes",
      "--query", `Volumes[].[VolumeId,Size,VolumeType,State,${name}]`),
    aws(`Elastic IPs (expect none; ${monthly(PRICES.publicIpv4Hour)} each)`, "ec2", "describe-addresses",
      "--query", "Addresses[].[PublicIp,AllocationId,AssociationId]"),
    aws(`NAT gateways (expect none; ${monthly(PRICES.natGatewayHour)} each before traffic)`, "ec2", "describe-nat-gateways",
      "--filter", "Name=state,Values=pending,available", "--query", "NatGateways[].[NatGatewayId,State,SubnetId]"),
    aws(`snapshots you own (expect none; $${PRICES.ebsSnapshotGbMonth}/GB-month)`, "ec2", "describe-snapshots", "--owner-ids", "self",
      "--query", "Snapshots[].[SnapshotId,VolumeSize,StartTime,Description]"),
  ];
}

interface Outcome {
  readonly commands: readonly Command[];
  readonly remaining: readonly CostLine[];
  readonly warnings?: readonly string[];
}

export function teardownPlan(json: TerraformJson, config: Pick<SiteConfig, "aws" | "usage" | "budget" | "services">, options: TeardownOptions): TeardownPlan {
  const stack = StackView.of(json);
  const region = config.aws.region;
  const tofu = (why: string, ...args: string[]): Command => ({
    why,
    argv: [options.tofu ?? "tofu", `-chdir=${options.stackDir}`, ...args, ...(options.autoApprove ? ["-auto-approve"] : [])],
  });
  const groups = stack.resources.filter((r) => r.type === "aws_autoscaling_group").map((r) => literalString(r.attributes.name) ?? r.address);
  const autoscaling = (why: string, subcommand: string, ...args: string[]) =>
    groups.map((group): Command => ({
      why: `${why} ${group}`,
      argv: ["aws", "autoscaling", subcommand, "--auto-scaling-group-name", group, ...args, "--region", region],
    }));
  const sessionVariables = [...new Set(stack.resources.flatMap((r) => (r.count.kind === "variable" ? [r.count.variable] : [])))];
  // The caches persist: the cache volume, or the cache bucket with every setting that hardens it.
  const kept = stack.resources.filter((r) => r.type === "aws_ebs_volume" || r.type.startsWith("aws_s3_bucket") || r.type === "aws_budgets_budget").map((r) => r.address);
  const idle = estimateMonthlyCost(json, config).lines.filter((l) => l.idle && l.monthlyUsd > 0);

  const outcomes: Record<TeardownAction, () => Outcome> = {
    pause: () => ({
      commands: [
        ...(sessionVariables.length > 0 ? [tofu("session resources to 0", "apply", ...sessionVariables.flatMap((v) => ["-var", `${v}=0`]))] : []),
        ...autoscaling("suspend scheduled starts of", "suspend-processes", "--scaling-processes", "ScheduledActions"),
        ...autoscaling("stop the instance of", "update-auto-scaling-group", "--min-size", "0", "--desired-capacity", "0"),
      ],
      remaining: idle,
      warnings: idle.some((l) => l.address.startsWith("aws_nat_gateway."))
        ? ['A NAT gateway cannot be paused: it bills until destroyed. Set network.nat to "instance", synth and apply, or use "destroy".']
        : [],
    }),
    resume: () => ({ commands: autoscaling("resume scheduled starts of", "resume-processes", "--scaling-processes", "ScheduledActions"), remaining: idle }),
    destroy: () => ({
      commands: [tofu("destroy everything but the persistent caches (volume or bucket) and the budget", "destroy", ...kept.flatMap((a) => ["-exclude", a]))],
      remaining: idle.filter((l) => kept.includes(l.address)),
    }),
    "destroy-all": () => ({ commands: [tofu("destroy everything, persistent volumes included", "destroy")], remaining: [] }),
    verify: () => ({ commands: [], remaining: idle }),
  };
  const outcome = outcomes[options.action]();
  return {
    commands: [...outcome.commands, ...verificationCommands(region)],
    remaining: outcome.remaining,
    remainingUsd: outcome.remaining.reduce((total, l) => total + l.monthlyUsd, 0),
    warnings: outcome.warnings ?? [],
  };
}
