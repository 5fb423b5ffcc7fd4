/**
 * The default site applied once by OpenTofu and the hashicorp/aws provider against moto, and two
 * of its features read back through the AWS APIs: the registry caches' bucket, at rest, and then
 * the session's dead-man switch through two sessions.
 *
 * The caches in S3 (bastion.cacheStorage "s3", the default): the bucket with its encryption,
 * public access block, ownership, TLS-only policy and expiry rule; the gateway endpoint on the
 * private route table; the bastion's role scoped to the bucket; no cache volume; a second plan
 * with no changes.
 *
 * The session expiry: moto stores the schedules but never fires them; the test fires them by hand
 * (EC2 TerminateInstances on each schedule's own input, with the schedule's role checked) and then
 * checks that the next plan does what docs/cost.md says: nothing for the nodes, the deadline and
 * schedules removed at count 0, a fresh deadline for a new session.
 *
 * Where moto's EC2 answers differently from AWS's, the test answers as AWS does (terminateAsAws):
 * - AWS forgets a terminated instance "approximately one hour" after termination, and then
 *   answers InvalidInstanceID.NotFound for its id; moto keeps terminated instances forever, so a
 *   node terminated by hand more than an hour before the deadline would still be found.
 * - AWS terminates none of the instances of a call that fails ("If you specify multiple instances
 *   and the request fails (for example, because of a single incorrect instance ID), none of the
 *   instances are terminated", EC2 API reference, TerminateInstances).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { terminateInstancesTarget } from "../../constructs/session-expiry.js";
import type { AwsApi } from "../helpers/aws-api.js";
import type { MotoServer } from "../helpers/moto.js";
import { applyAgainstMoto, type MotoStack } from "../helpers/moto-stack.js";
import { siteConfig } from "../helpers/synth.js";
import { planActions, type Tofu } from "../helpers/tofu.js";

const site = siteConfig();
const REGION = site.aws.region;
const SCHEDULE_PREFIX = "deathstar-talos-node-expiry-";
const DEAD_LETTERS = "deathstar-talos-node-expiry-dead-letters";
const NODES = { talos_node_count: 2 };
/** The registry caches' bucket: moto's default account. */
const BUCKET = "deathstar-registry-cache-eu-west-1-123456789012";

/** The deadline of `at(YYYY-MM-DDThh:mm:ss)` in UTC, as epoch milliseconds. */
const atTime = (expression: string) => Date.parse(`${/^at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)$/.exec(expression)![1]}Z`);

interface Schedule {
  readonly Name: string;
  readonly ScheduleExpression: string;
  readonly ScheduleExpressionTimezone: string;
  readonly Target: { Arn: string; RoleArn: string; Input: string; DeadLetterConfig?: { Arn: string } };
}

let stack: MotoStack;
let api: AwsApi;
let tofu: Tofu;
let moto: MotoServer;

beforeAll(async () => {
  // Terminated nodes free their fixed addresses, as in EC2, so a new session can launch there again.
  stack = await applyAgainstMoto("default-site", site, {}, { releaseTerminatedAddresses: true });
  ({ api, tofu, moto } = stack);
});

afterAll(async () => {
  await stack?.close();
});

describe.sequential("registry caches in S3 against moto, at rest", () => {
  it("creates the bucket named after the region and account, encrypted, closed to the public, owner-enforced", async () => {
    expect(site.bastion.cacheStorage, "the default site caches in S3").toBe("s3");
    const { Buckets } = await api.call("s3", "list_buckets");
    expect(Buckets.map((b: { Name: string }) => b.Name)).toEqual([BUCKET]);
    const encryption = await api.call("s3", "get_bucket_encryption", { Bucket: BUCKET });
    expect(encryption.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: "AES256" });
    const access = await api.call("s3", "get_public_access_block", { Bucket: BUCKET });
    expect(access.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    const ownership = await api.call("s3", "get_bucket_ownership_controls", { Bucket: BUCKET });
    expect(ownership.OwnershipControls.Rules).toEqual([{ ObjectOwnership: "BucketOwnerEnforced" }]);
  });

  it("denies plain HTTP in the bucket policy and expires objects after cacheExpiryDays", async () => {
    const policy = JSON.parse((await api.call("s3", "get_bucket_policy", { Bucket: BUCKET })).Policy);
    expect(policy.Statement).toEqual([
      {
        Sid: "DenyPlainHttp",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
    const { Rules } = await api.call("s3", "get_bucket_lifecycle_configuration", { Bucket: BUCKET });
    expect(Rules).toHaveLength(1);
    expect(Rules[0]).toMatchObject({ ID: "expire-cached-blobs", Status: "Enabled", Expiration: { Days: site.bastion.cacheExpiryDays }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } });
  });

  it("puts a gateway endpoint for S3 on the private route table, and no cache volume exists", async () => {
    const { VpcEndpoints } = await api.call("ec2", "describe_vpc_endpoints");
    expect(VpcEndpoints).toHaveLength(1);
    const [endpoint] = VpcEndpoints;
    expect(endpoint).toMatchObject({ VpcEndpointType: "Gateway", ServiceName: "com.amazonaws.eu-west-1.s3" });
    const { RouteTables } = await api.call("ec2", "describe_route_tables", { Filters: [{ Name: "tag:Name", Values: ["deathstar-private"] }] });
    expect(RouteTables.map((t: { RouteTableId: string }) => t.RouteTableId)).toEqual(endpoint.RouteTableIds);
    const { Volumes } = await api.call("ec2", "describe_volumes");
    expect(Volumes).toEqual([]);
  });

  it("lets the bastion's role use exactly the cache bucket and its objects", async () => {
    const { PolicyDocument } = await api.call("iam", "get_role_policy", { RoleName: "deathstar-bastion", PolicyName: "deathstar-bastion" });
    const document = typeof PolicyDocument === "string" ? JSON.parse(decodeURIComponent(PolicyDocument)) : PolicyDocument;
    const s3 = document.Statement.filter((s: { Action: string[] }) => s.Action.some((a) => a.startsWith("s3:")));
    expect(s3.map((s: { Resource: string }) => s.Resource)).toEqual([`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`]);
  });

  it("plans no changes after the apply", async () => {
    const replan = await tofu.planExitCode();
    expect(replan.code, `a second plan must show no changes:\n${replan.stdout}`).toBe(0);
  });
});

describe.sequential("session expiry against moto", () => {
  /** Every schedule of the session, by name (talos-node-expiry-1 first). */
  const schedules = async (): Promise<Schedule[]> => {
    const { Schedules } = (await api.call("scheduler", "list_schedules", {})) as { Schedules: { Name: string }[] };
    const names = Schedules.map((s) => s.Name).sort();
    return Promise.all(names.map(async (Name) => (await api.call("scheduler", "get_schedule", { Name })) as Schedule));
  };
  const running = async () => (await moto.inventory(REGION)).instances;
  const instanceIds = (schedule: Schedule): string[] => JSON.parse(schedule.Target.Input).InstanceIds;

  /**
   * TerminateInstances as AWS answers it more than an hour after `forgotten` were terminated: those
   * ids are unknown, and a call naming one of them fails as a whole (see the header).
   */
  const terminateAsAws = async (ids: readonly string[], forgotten: ReadonlySet<string>) => {
    const unknown = ids.filter((id) => forgotten.has(id));
    if (unknown.length > 0) throw new Error(`InvalidInstanceID.NotFound: The instance ID '${unknown[0]}' does not exist (none of ${ids.join(", ")} terminated)`);
    await api.call("ec2", "terminate_instances", { InstanceIds: [...ids] });
  };

  it("at rest: no schedule", async () => {
    const { Schedules } = await api.call("scheduler", "list_schedules", {});
    expect(Schedules).toEqual([]);
  });

  let firstDeadline = 0;
  it("a session's apply schedules each node's termination alone, talos_session_hours later, with a dead-letter queue", async () => {
    const before = Date.now();
    await tofu.apply(NODES);
    const after = Date.now();
    const nodes = await running();
    expect(nodes).toHaveLength(2);
    const all = await schedules();
    expect(all.map((s) => s.Name)).toEqual([`${SCHEDULE_PREFIX}1`, `${SCHEDULE_PREFIX}2`]);
    const { QueueUrl } = await api.call("sqs", "get_queue_url", { QueueName: DEAD_LETTERS });
    const { Attributes } = await api.call("sqs", "get_queue_attributes", { QueueUrl, AttributeNames: ["QueueArn"] });
    const hours = site.talos.sessionHours * 3_600_000;
    firstDeadline = atTime(all[0]!.ScheduleExpression);
    for (const { ScheduleExpression, ScheduleExpressionTimezone, Target } of all) {
      expect(ScheduleExpressionTimezone).toBe("UTC");
      // One deadline for the session: every node's schedule fires at the same time.
      expect(atTime(ScheduleExpression)).toBe(firstDeadline);
      expect(Target.Arn).toBe(terminateInstancesTarget("aws"));
      expect(Target.RoleArn).toMatch(/:role\/deathstar-talos-node-expiry$/);
      expect(Target.DeadLetterConfig?.Arn).toBe(Attributes.QueueArn);
    }
    // plantimestamp() is taken at plan time, to the second.
    expect(firstDeadline).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + hours - 1000);
    expect(firstDeadline).toBeLessThanOrEqual(after + hours);
    // Each schedule names exactly one node, and together they name every node.
    expect(all.map((s) => instanceIds(s).length)).toEqual([1, 1]);
    expect(all.flatMap(instanceIds).sort()).toEqual([...nodes].sort());
    const { Role } = await api.call("iam", "get_role", { RoleName: "deathstar-talos-node-expiry" });
    expect(JSON.stringify(Role.AssumeRolePolicyDocument)).toContain("scheduler.amazonaws.com");
  });

  it("the queue's alarm mails budget.email through the topic", async () => {
    // moto cannot take the provider's CloudWatch calls (tofu.ts MOTO_MISSING: the override gives the
    // alarm count 0), so the synthesized alarm goes through CloudWatch's query API as written, its
    // two references resolved from what the apply created: the queue by name, the topic by name.
    const json = JSON.parse(readFileSync(join(stack.stackDir, "cdk.tf.json"), "utf8")) as { resource: Record<string, Record<string, Record<string, unknown>>> };
    const alarm = json.resource.aws_cloudwatch_metric_alarm!.talos_node_expiry_failed! as Record<string, unknown> & { dimensions: Record<string, string>; alarm_actions: string[] };
    expect(alarm.dimensions).toEqual({ QueueName: "${aws_sqs_queue.talos_node_expiry_dead_letters.name}" });
    expect(alarm.alarm_actions).toEqual(["${aws_sns_topic.talos_node_expiry_failed.arn}"]);
    const { QueueUrl } = await api.call("sqs", "get_queue_url", { QueueName: DEAD_LETTERS });
    expect(QueueUrl).toMatch(new RegExp(`/${DEAD_LETTERS}$`));
    const { Topics } = (await api.call("sns", "list_topics", {})) as { Topics: { TopicArn: string }[] };
    const topicArn = Topics.map((t) => t.TopicArn).find((arn) => arn.endsWith(":deathstar-talos-node-expiry-failed"))!;
    expect(topicArn).toBeDefined();
    await api.call("cloudwatch", "put_metric_alarm", {
      AlarmName: alarm.alarm_name,
      AlarmDescription: alarm.alarm_description,
      Namespace: alarm.namespace,
      MetricName: alarm.metric_name,
      Dimensions: [{ Name: "QueueName", Value: DEAD_LETTERS }],
      Statistic: alarm.statistic,
      Period: alarm.period,
      EvaluationPeriods: alarm.evaluation_periods,
      Threshold: alarm.threshold,
      ComparisonOperator: alarm.comparison_operator,
      TreatMissingData: alarm.treat_missing_data,
      ActionsEnabled: alarm.actions_enabled,
      AlarmActions: [topicArn],
    });
    const { MetricAlarms } = await api.call("cloudwatch", "describe_alarms", { AlarmNames: ["deathstar-talos-node-expiry-failed"] });
    expect(MetricAlarms).toHaveLength(1);
    expect(MetricAlarms[0].Dimensions).toEqual([{ Name: "QueueName", Value: DEAD_LETTERS }]);
    const [actionArn] = MetricAlarms[0].AlarmActions as string[];
    const { Subscriptions } = await api.call("sns", "list_subscriptions_by_topic", { TopicArn: actionArn });
    expect(Subscriptions.map((s: { Protocol: string; Endpoint: string }) => [s.Protocol, s.Endpoint])).toEqual([["email", site.budget.email]]);
  });

  it("later plans of the same session are empty: the deadline does not move", async () => {
    const plan = await tofu.planExitCode(NODES);
    expect(plan.code, plan.stdout).toBe(0);
    expect((await schedules()).map((s) => atTime(s.ScheduleExpression))).toEqual([firstDeadline, firstDeadline]);
  });

  it("a node terminated by hand more than an hour before the deadline: the other node still ends at it", async () => {
    const all = await schedules();
    const [gone, other] = all.map((s) => instanceIds(s)[0]!);
    await api.call("ec2", "terminate_instances", { InstanceIds: [gone] });
    const forgotten = new Set([gone!]);
    // The design this replaces: one call for every node fails as a whole and ends nothing.
    await expect(terminateAsAws([gone!, other!], forgotten)).rejects.toThrow(/InvalidInstanceID\.NotFound/);
    expect(await running()).toEqual([other]);
    // Scheduler makes each schedule's call; the one for the gone node fails (after its retries,
    // into the dead-letter queue), the other ends its node.
    const outcomes = await Promise.allSettled(all.map((s) => terminateAsAws(instanceIds(s), forgotten)));
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "fulfilled"]);
    expect(await running()).toEqual([]);
  });

  it("after the schedules fired, the next plan leaves the nodes alone and removes the deadline and schedules", async () => {
    // The end-of-session command of the docs: count back to 0.
    const actions = planActions(await tofu.planJson({ talos_node_count: 0 }));
    expect(actions).toEqual({
      delete: ["aws_scheduler_schedule.talos_node_expiry[0]", "aws_scheduler_schedule.talos_node_expiry[1]", "terraform_data.talos_session[0]"],
      "no-op": expect.any(Array),
    });
    expect(actions["no-op"]!.filter((address) => address.startsWith("aws_instance."))).toEqual([]);
  });

  it("a new session after the expiry gets new nodes and a new deadline; count 0 ends it cleanly", async () => {
    const actions = planActions(await tofu.planJson(NODES));
    expect(actions.create).toEqual(["aws_instance.talos_node[0]", "aws_instance.talos_node[1]"]);
    expect(actions.replace).toEqual(["terraform_data.talos_session[0]"]);
    expect(actions.update).toEqual(["aws_scheduler_schedule.talos_node_expiry[0]", "aws_scheduler_schedule.talos_node_expiry[1]"]);
    await tofu.apply(NODES);
    expect(await running()).toHaveLength(2);
    expect(atTime((await schedules())[0]!.ScheduleExpression)).toBeGreaterThan(firstDeadline);
    await tofu.apply({ talos_node_count: 0 });
    expect((await tofu.planExitCode()).code).toBe(0);
    expect(await schedules()).toEqual([]);
  });
});
