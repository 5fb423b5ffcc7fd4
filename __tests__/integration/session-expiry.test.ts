/**
 * The session's dead-man switch with the real tools: OpenTofu and the hashicorp/aws provider
 * against moto. moto stores the schedule but never fires it; the test fires it by hand (EC2
 * TerminateInstances on the schedule's own input, with the schedule's role checked) and then
 * checks that the next plan does what docs/cost.md says: nothing for the nodes, the deadline and
 * schedule removed at count 0, a fresh deadline for a new session.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TERMINATE_INSTANCES_TARGET } from "../../constructs/session-expiry.js";
import type { AwsApi } from "../helpers/aws-api.js";
import type { MotoServer } from "../helpers/moto.js";
import { applyAgainstMoto, type MotoStack } from "../helpers/moto-stack.js";
import { siteConfig } from "../helpers/synth.js";
import { planActions, type Tofu } from "../helpers/tofu.js";

const site = siteConfig();
const REGION = site.aws.region;
const SCHEDULE = "deathstar-talos-node-expiry";
const NODES = { talos_node_count: 2 };

/** The deadline of `at(YYYY-MM-DDThh:mm:ss)` in UTC, as epoch milliseconds. */
const atTime = (expression: string) => Date.parse(`${/^at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)$/.exec(expression)![1]}Z`);

describe("session expiry against moto", () => {
  let stack: MotoStack;
  let api: AwsApi;
  let tofu: Tofu;
  let moto: MotoServer;

  beforeAll(async () => {
    // Terminated nodes free their fixed addresses, as in EC2, so a new session can launch there again.
    stack = await applyAgainstMoto("session-expiry", site, {}, { releaseTerminatedAddresses: true });
    ({ api, tofu, moto } = stack);
  });

  afterAll(async () => {
    await stack?.close();
  });

  const schedule = async () => (await api.call("scheduler", "get_schedule", { Name: SCHEDULE })) as { ScheduleExpression: string; ScheduleExpressionTimezone: string; Target: { Arn: string; RoleArn: string; Input: string } };
  const running = async () => (await moto.inventory(REGION)).instances;

  it("at rest: no schedule", async () => {
    const { Schedules } = await api.call("scheduler", "list_schedules", {});
    expect(Schedules).toEqual([]);
  });

  let firstDeadline = 0;
  it("a session's apply schedules the termination of exactly its nodes, talos_session_hours later", async () => {
    const before = Date.now();
    await tofu.apply(NODES);
    const after = Date.now();
    const nodes = await running();
    expect(nodes).toHaveLength(2);
    const { ScheduleExpression, ScheduleExpressionTimezone, Target } = await schedule();
    expect(ScheduleExpressionTimezone).toBe("UTC");
    firstDeadline = atTime(ScheduleExpression);
    const hours = site.talos.sessionHours * 3_600_000;
    // plantimestamp() is taken at plan time, to the second.
    expect(firstDeadline).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + hours - 1000);
    expect(firstDeadline).toBeLessThanOrEqual(after + hours);
    expect(Target.Arn).toBe(TERMINATE_INSTANCES_TARGET);
    expect(Target.RoleArn).toMatch(/:role\/deathstar-talos-node-expiry$/);
    expect(JSON.parse(Target.Input).InstanceIds.sort()).toEqual([...nodes].sort());
    const { Role } = await api.call("iam", "get_role", { RoleName: "deathstar-talos-node-expiry" });
    expect(JSON.stringify(Role.AssumeRolePolicyDocument)).toContain("scheduler.amazonaws.com");
  });

  it("later plans of the same session are empty: the deadline does not move", async () => {
    const plan = await tofu.planExitCode(NODES);
    expect(plan.code, plan.stdout).toBe(0);
    expect(atTime((await schedule()).ScheduleExpression)).toBe(firstDeadline);
  });

  it("after the schedule fired, the next plan leaves the nodes alone and removes the deadline and schedule", async () => {
    const { Target } = await schedule();
    const instanceIds: string[] = JSON.parse(Target.Input).InstanceIds;
    await api.call("ec2", "terminate_instances", { InstanceIds: instanceIds });
    expect(await running()).toEqual([]);
    // The end-of-session command of the docs: count back to 0.
    const actions = planActions(await tofu.planJson({ talos_node_count: 0 }));
    expect(actions).toEqual({
      delete: ["aws_scheduler_schedule.talos_node_expiry[0]", "terraform_data.talos_session[0]"],
      "no-op": expect.any(Array),
    });
    expect(actions["no-op"]!.filter((address) => address.startsWith("aws_instance."))).toEqual([]);
  });

  it("a new session after the expiry gets new nodes and a new deadline; count 0 ends it cleanly", async () => {
    const actions = planActions(await tofu.planJson(NODES));
    expect(actions.create).toEqual(["aws_instance.talos_node[0]", "aws_instance.talos_node[1]"]);
    expect(actions.replace).toEqual(["terraform_data.talos_session[0]"]);
    expect(actions.update).toEqual(["aws_scheduler_schedule.talos_node_expiry[0]"]);
    await tofu.apply(NODES);
    expect(await running()).toHaveLength(2);
    expect(atTime((await schedule()).ScheduleExpression)).toBeGreaterThan(firstDeadline);
    await tofu.apply({ talos_node_count: 0 });
    expect((await tofu.planExitCode()).code).toBe(0);
    const { Schedules } = await api.call("scheduler", "list_schedules", {});
    expect(Schedules).toEqual([]);
  });
});
