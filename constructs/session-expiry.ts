import { Construct } from "constructs";
import { Fn, Op, TerraformCount, TerraformResource, TerraformVariable, hashMapper, anyToTerraform, propertyAccess, type TerraformResourceLifecycle } from "cdktf";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { SchedulerSchedule } from "@cdktf/provider-aws/lib/scheduler-schedule";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { resourceName } from "../config/site-view.js";
import type { ResourceArns } from "./arns.js";
import { TALOS_NODE_ROLE, type TalosNodes } from "./talos-nodes.js";

/**
 * EventBridge Scheduler's universal target for EC2 TerminateInstances (an AWS SDK call, no Lambda),
 * in the stack's partition: `arn:<partition>:scheduler:::aws-sdk:<service>:<apiAction>`
 * (EventBridge Scheduler user guide, "Using universal targets").
 */
export function terminateInstancesTarget(partition: string): string {
  return `arn:${partition}:scheduler:::aws-sdk:ec2:terminateInstances`;
}

/**
 * How long a failed termination waits in the dead-letter queue: SQS's maximum, 14 days, so a
 * failure noticed late can still be read (the alarm has mailed budget.email by then).
 */
const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600;

/** Props of {@link SessionExpiry}. */
export interface SessionExpiryProps {
  /**
   * Default of `-var talos_session_hours`: how long the nodes of a session live, counted from the
   * `tofu apply` that launches them, e.g. 3.
   */
  readonly hours: number;
  /** The most hours `-var talos_session_hours` accepts. */
  readonly maxHours: number;
  /** The session's nodes: `aws_instance.talos_node` and `talos_node_count`. */
  readonly nodes: TalosNodes;
  readonly arns: ResourceArns;
  /** Who hears of a termination that failed: budget.email, e.g. "owner@example.com". */
  readonly alertEmail: string;
}

/**
 * A dead-man switch for a session's nodes: one one-time EventBridge Scheduler schedule per node
 * calls EC2 TerminateInstances on that node alone at apply time + `talos_session_hours`, from AWS's
 * side, so a session forgotten with the laptop shut still ends.
 *
 * One call per node, because the API fails as a whole: "If you specify multiple instances and the
 * request fails (for example, because of a single incorrect instance ID), none of the instances are
 * terminated", and a terminated instance stays visible only "for approximately one hour" (EC2 API
 * reference, TerminateInstances). A node reclaimed by spot or ended by hand earlier than that would
 * make a single call for every node fail on every retry, and the others would run on.
 *
 * A call that still fails after its retries goes to a dead-letter queue (the schedule's
 * DeadLetterConfig: Scheduler delivers the failed event "after exhausting the maximum number of
 * retries", EventBridge Scheduler user guide, "Configuring a schedule's dead-letter queue"); an
 * alarm on the queue mails budget.email through an SNS topic, so a deadline does not fail silently.
 * The queue, topic and alarm stay at rest: the alarm is the stack's one fixed charge here
 * ($0.10/month), the queue and topic bill nothing at this volume.
 *
 * The deadline is `terraform_data.talos_session`: taken from plantimestamp() when the nodes are
 * (re)created or the hours change, and otherwise kept (ignore_changes on its input), so later
 * plans of the same session stay empty. When the schedule has fired, the next plan has nothing
 * to do for the nodes (refresh finds them terminated and drops them from the state); with
 * `talos_node_count=0` it removes the schedule and the deadline, with N > 0 it starts a new
 * session with a new deadline. Scheduler costs nothing at this volume (14 million invocations a
 * month are free).
 *
 * The role exists whether or not a session runs: a role created in the same apply as the schedule
 * can fail Scheduler's assume-role check while IAM propagates.
 */
export class SessionExpiry extends Construct {
  readonly hours: TerraformVariable;
  readonly schedule: SchedulerSchedule;
  readonly deadLetters: SqsQueue;

  constructor(scope: Construct, id: string, props: SessionExpiryProps) {
    super(scope, id);
    this.hours = this.hoursVariable(props);
    this.deadLetters = this.deadLetterQueue();
    this.failureAlarm(props.alertEmail);
    const role = this.schedulerRole(props.arns);
    this.schedule = this.expirySchedules(props, role);
  }

  private deadLetterQueue(): SqsQueue {
    const queue = new SqsQueue(this, "dead-letters", {
      // A standard queue: Scheduler does not support a FIFO queue as a dead-letter queue.
      name: resourceName("talos-node-expiry-dead-letters"),
      messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
      // SSE-SQS: encrypted at rest with an SQS-owned key, free, and usable by Scheduler without a key policy.
      sqsManagedSseEnabled: true,
    });
    queue.overrideLogicalId("talos_node_expiry_dead_letters");
    return queue;
  }

  /**
   * ALARM as soon as one failed termination waits in the queue, mailed to `email`. The topic is not
   * KMS-encrypted: CloudWatch alarms cannot publish to a topic under the AWS-managed aws/sns key, and
   * a customer-managed key costs $1/month (SNS developer guide, "Enable compatibility between event
   * sources from AWS services and encrypted topics"); the message carries the alarm's name only.
   * The email subscription stays pending until its confirmation link is followed (docs/cost.md).
   */
  private failureAlarm(email: string): void {
    const name = resourceName("talos-node-expiry-failed");
    const topic = new SnsTopic(this, "topic", { name });
    topic.overrideLogicalId("talos_node_expiry_failed");
    new SnsTopicSubscription(this, "email", { topicArn: topic.arn, protocol: "email", endpoint: email }).overrideLogicalId("talos_node_expiry_failed");
    new CloudwatchMetricAlarm(this, "alarm", {
      alarmName: name,
      alarmDescription: `A Talos node's session deadline failed: read the queue ${resourceName("talos-node-expiry-dead-letters")} and terminate what still runs (docs/cost.md, "The session deadline")`,
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: this.deadLetters.name },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      // An empty queue publishes no data points while idle: no data is no failure.
      treatMissingData: "notBreaching",
      actionsEnabled: true,
      alarmActions: [topic.arn],
    }).overrideLogicalId("talos_node_expiry_failed");
  }

  private hoursVariable(props: SessionExpiryProps): TerraformVariable {
    const variable = new TerraformVariable(this, "hours", {
      type: "number",
      default: props.hours,
      description: `Hours the Talos nodes of a session live after the apply that launches them (1-${props.maxHours}); EventBridge Scheduler terminates them then.`,
    });
    variable.overrideLogicalId("talos_session_hours");
    const value = variable.numberValue;
    variable.addValidation({
      condition: Op.and(Op.and(Op.lte(1, value), Op.lte(value, props.maxHours)), Op.eq(Fn.floor(value), value)),
      errorMessage: `talos_session_hours must be a whole number of hours from 1 to ${props.maxHours}.`,
    });
    return variable;
  }

  private schedulerRole(arns: ResourceArns): IamRole {
    const name = resourceName("talos-node-expiry");
    const role = new IamRole(this, "role", {
      name,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "scheduler.amazonaws.com" },
            Action: "sts:AssumeRole",
            // Only schedules of this account may use the role (confused-deputy guard).
            Condition: { StringEquals: { "aws:SourceAccount": arns.accountId } },
          },
        ],
      }),
    });
    role.overrideLogicalId("talos_node_expiry");
    const policy = new IamRolePolicy(this, "policy", {
      name,
      role: role.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          arns.instancesWithRole("TerminateTalosNodes", ["ec2:TerminateInstances"], TALOS_NODE_ROLE),
          // Scheduler delivers dead letters with the schedule's execution role.
          { Sid: "SendDeadLetters", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: this.deadLetters.arn },
        ],
      }),
    });
    policy.overrideLogicalId("talos_node_expiry");
    return role;
  }

  private expirySchedules({ nodes, arns }: SessionExpiryProps, role: IamRole): SchedulerSchedule {
    // One deadline while nodes run and one schedule per node, none at rest.
    const instanceIds = propertyAccess(nodes.instances, ["*", "id"]);
    const deadline = new SessionDeadline(this, "deadline", {
      count: TerraformCount.of(Fn.min([1, nodes.nodeCount.numberValue])),
      input: { deadline: Fn.timeadd(Fn.plantimestamp(), Fn.format("%dh", [this.hours.numberValue])) },
      // New nodes or new hours: a new deadline from this plan's time. Anything else keeps it.
      triggersReplace: { nodes: instanceIds, hours: this.hours.numberValue },
      lifecycle: { ignoreChanges: ["input"] },
    });
    deadline.overrideLogicalId("talos_session");
    const count = TerraformCount.of(nodes.nodeCount.numberValue);
    const schedule = new SchedulerSchedule(this, "schedule", {
      count,
      // talos-node-expiry-1 ends node 1 (deathstar-talos-1), and so on.
      name: Fn.format("%s-%d", [resourceName("talos-node-expiry"), Op.add(count.index, 1)]),
      description: "Terminates one Talos node at its session's deadline (talos_session_hours after launch)",
      scheduleExpression: `at(${Fn.formatdate("YYYY-MM-DD'T'hh:mm:ss", Fn.one(propertyAccess(deadline, ["*", "output", "deadline"])))})`,
      scheduleExpressionTimezone: "UTC",
      flexibleTimeWindow: { mode: "OFF" },
      target: {
        arn: terminateInstancesTarget(arns.partition),
        roleArn: role.arn,
        // This node alone: another node's failure cannot keep it running.
        input: Fn.jsonencode({ InstanceIds: [Fn.element(instanceIds, count.index)] }),
        // A node already gone (terminated by hand) is not worth retrying for a day: after the
        // retries or the hour, the event goes to the dead-letter queue and the alarm mails.
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
        deadLetterConfig: { arn: this.deadLetters.arn },
      },
    });
    schedule.overrideLogicalId("talos_node_expiry");
    return schedule;
  }
}

/** Props of {@link SessionDeadline}. */
interface SessionDeadlineProps {
  readonly count: TerraformCount;
  /** Stored in state and read back as `output`. */
  readonly input: Record<string, unknown>;
  /** A change of any of these replaces the deadline. */
  readonly triggersReplace: Record<string, unknown>;
  readonly lifecycle: TerraformResourceLifecycle;
}

/**
 * The built-in `terraform_data` resource, declared directly. cdktf's own `DataResource` adds a
 * check that runs `terraform version` at every synth: it fails where only OpenTofu is installed,
 * and it would check a tool this stack is not applied with. OpenTofu has `terraform_data` from its
 * first release.
 */
class SessionDeadline extends TerraformResource {
  constructor(
    scope: Construct,
    id: string,
    private readonly props: SessionDeadlineProps,
  ) {
    super(scope, id, {
      terraformResourceType: "terraform_data",
      terraformGeneratorMetadata: { providerName: "terraform" },
      count: props.count,
      lifecycle: props.lifecycle,
    });
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return {
      input: hashMapper(anyToTerraform)(this.props.input),
      triggers_replace: hashMapper(anyToTerraform)(this.props.triggersReplace),
    };
  }
}
