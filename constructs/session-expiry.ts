import { Construct } from "constructs";
import { Fn, Op, TerraformCount, TerraformResource, TerraformVariable, hashMapper, anyToTerraform, propertyAccess, type TerraformResourceLifecycle } from "cdktf";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { SchedulerSchedule } from "@cdktf/provider-aws/lib/scheduler-schedule";
import { resourceName } from "../config/site-view.js";
import type { ResourceArns } from "./arns.js";
import { TALOS_NODE_ROLE, type TalosNodes } from "./talos-nodes.js";

/** EventBridge Scheduler's universal target for EC2 TerminateInstances (an AWS SDK call, no Lambda). */
export const TERMINATE_INSTANCES_TARGET = "arn:aws:scheduler:::aws-sdk:ec2:terminateInstances";

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
}

/**
 * A dead-man switch for a session's nodes: a one-time EventBridge Scheduler schedule calls EC2
 * TerminateInstances on them at apply time + `talos_session_hours`, from AWS's side, so a session
 * forgotten with the laptop shut still ends.
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

  constructor(scope: Construct, id: string, props: SessionExpiryProps) {
    super(scope, id);
    this.hours = this.hoursVariable(props);
    const role = this.schedulerRole(props.arns);
    this.schedule = this.expirySchedule(props.nodes, role);
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
      policy: JSON.stringify({ Version: "2012-10-17", Statement: [arns.instancesWithRole("TerminateTalosNodes", ["ec2:TerminateInstances"], TALOS_NODE_ROLE)] }),
    });
    policy.overrideLogicalId("talos_node_expiry");
    return role;
  }

  private expirySchedule(nodes: TalosNodes, role: IamRole): SchedulerSchedule {
    // One deadline and one schedule while nodes run, none at rest.
    const count = TerraformCount.of(Fn.min([1, nodes.nodeCount.numberValue]));
    const instanceIds = propertyAccess(nodes.instances, ["*", "id"]);
    const deadline = new SessionDeadline(this, "deadline", {
      count,
      input: { deadline: Fn.timeadd(Fn.plantimestamp(), Fn.format("%dh", [this.hours.numberValue])) },
      // New nodes or new hours: a new deadline from this plan's time. Anything else keeps it.
      triggersReplace: { nodes: instanceIds, hours: this.hours.numberValue },
      lifecycle: { ignoreChanges: ["input"] },
    });
    deadline.overrideLogicalId("talos_session");
    const schedule = new SchedulerSchedule(this, "schedule", {
      count,
      name: resourceName("talos-node-expiry"),
      description: "Terminates the Talos nodes of a session at its deadline (talos_session_hours after launch)",
      scheduleExpression: `at(${Fn.formatdate("YYYY-MM-DD'T'hh:mm:ss", Fn.one(propertyAccess(deadline, ["*", "output", "deadline"])))})`,
      scheduleExpressionTimezone: "UTC",
      flexibleTimeWindow: { mode: "OFF" },
      target: {
        arn: TERMINATE_INSTANCES_TARGET,
        roleArn: role.arn,
        input: Fn.jsonencode({ InstanceIds: instanceIds }),
        // A node already gone (terminated by hand) is not worth retrying for a day.
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
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
