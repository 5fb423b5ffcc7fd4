import { Construct } from "constructs";
import { AutoscalingGroup, type AutoscalingGroupMixedInstancesPolicy } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingSchedule } from "@cdktf/provider-aws/lib/autoscaling-schedule";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { resourceName } from "../config/site-view.js";
import { hardenedLaunchTemplate } from "./hardening.js";
import type { Architecture, CpuCredits, InstanceMarket } from "../config/schema.js";

/** Amazon Linux 2023, resolved by EC2 at launch time so a new AMI never shows up as a plan diff. */
export const AL2023_AMI = {
  arm64: "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
  x86_64: "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
} as const;

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** Props of {@link ScheduledInstance}. */
export interface ScheduledInstanceProps {
  /** Resource name for every resource of this instance, e.g. "bastion" → aws_autoscaling_group.bastion. */
  readonly name: string;
  readonly instanceType: string;
  readonly architecture: Architecture;
  readonly subnetId: string;
  readonly securityGroupIds: readonly string[];
  /** Boot payload (plain text, no Terraform references), base64-encoded at synth time. */
  readonly userData: string;
  /** Inline policy statements of the instance role; scope each to ARNs. */
  readonly policyStatements: readonly PolicyStatement[];
  readonly schedule: { readonly start: string; readonly stop: string; readonly timeZone: string };
  readonly rootVolumeGb: number;
  readonly cpuCredits: CpuCredits;
  /**
   * How the group buys its instance: "spot" makes it a spot-only mixed instances policy.
   * @default "on-demand"
   */
  readonly market?: InstanceMarket;
  /**
   * Give the primary interface a public IPv4 (billed only while running).
   * @default false
   */
  readonly associatePublicIp?: boolean;
  /** Tags for the instance, its volumes and interfaces (default_tags do not reach ASG launches). */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * An instance that exists only on a schedule: launch template + Auto Scaling Group (min 0, max 1)
 * + start/stop scheduled actions + its role. Auto Scaling owns the desired capacity, so OpenTofu
 * ignores it; a new launch template version rolls the running instance (instance refresh).
 */
export class ScheduledInstance extends Construct {
  readonly role: IamRole;
  readonly launchTemplate: LaunchTemplate;
  readonly autoscalingGroup: AutoscalingGroup;

  constructor(scope: Construct, id: string, props: ScheduledInstanceProps) {
    super(scope, id);
    const { name } = props;
    this.role = this.instanceRole(name, props.policyStatements);
    const profile = new IamInstanceProfile(this, "profile", { name: resourceName(name), role: this.role.name });
    profile.overrideLogicalId(name);
    this.launchTemplate = this.template(props, profile);
    this.autoscalingGroup = this.group(props);
    this.scheduledActions(name, props.schedule);
  }

  private instanceRole(name: string, statements: readonly PolicyStatement[]): IamRole {
    const role = new IamRole(this, "role", {
      name: resourceName(name),
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    });
    role.overrideLogicalId(name);
    const policy = new IamRolePolicy(this, "policy", {
      name: resourceName(name),
      role: role.id,
      // A JSON string with references inside: readable in cdk.tf.json and in `tofu plan`.
      policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
    });
    policy.overrideLogicalId(name);
    return role;
  }

  private template(props: ScheduledInstanceProps, profile: IamInstanceProfile): LaunchTemplate {
    const tagSpecifications = ["instance", "volume", "network-interface"].map((resourceType) => ({
      resourceType,
      tags: { ...props.tags, Name: resourceName(props.name) },
    }));
    const template = new LaunchTemplate(this, "launch-template", {
      name: resourceName(props.name),
      imageId: AL2023_AMI[props.architecture],
      instanceType: props.instanceType,
      iamInstanceProfile: { arn: profile.arn },
      userData: Buffer.from(props.userData, "utf8").toString("base64"),
      updateDefaultVersion: true,
      // Amazon Linux 2023 registers its root volume as /dev/xvda.
      ...hardenedLaunchTemplate({ instanceType: props.instanceType, cpuCredits: props.cpuCredits, rootDeviceName: "/dev/xvda", rootVolumeGb: props.rootVolumeGb }),
      networkInterfaces: [
        {
          deviceIndex: 0,
          associatePublicIpAddress: String(props.associatePublicIp ?? false),
          securityGroups: [...props.securityGroupIds],
          deleteOnTermination: "true",
        },
      ],
      tagSpecifications,
    });
    template.overrideLogicalId(props.name);
    return template;
  }

  private group(props: ScheduledInstanceProps): AutoscalingGroup {
    const version = this.launchTemplate.latestVersion.toString();
    const group = new AutoscalingGroup(this, "asg", {
      name: autoscalingGroupName(props.name),
      minSize: 0,
      maxSize: 1,
      vpcZoneIdentifier: [props.subnetId],
      ...(props.market === "spot"
        ? { mixedInstancesPolicy: spotOnly(this.launchTemplate.id, version, props.instanceType) }
        : { launchTemplate: { id: this.launchTemplate.id, version } }),
      healthCheckType: "EC2",
      healthCheckGracePeriod: 300,
      instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 0 } },
      tag: [{ key: "Name", value: resourceName(props.name), propagateAtLaunch: false }],
      lifecycle: { ignoreChanges: ["desired_capacity"] },
    });
    group.overrideLogicalId(props.name);
    return group;
  }

  private scheduledActions(name: string, schedule: ScheduledInstanceProps["schedule"]): void {
    for (const [action, recurrence, size] of [["start", schedule.start, 1], ["stop", schedule.stop, 0]] as const) {
      const scheduled = new AutoscalingSchedule(this, `schedule-${action}`, {
        autoscalingGroupName: this.autoscalingGroup.name,
        scheduledActionName: resourceName(name, action),
        recurrence,
        timeZone: schedule.timeZone,
        minSize: 0,
        maxSize: 1,
        desiredCapacity: size,
      });
      scheduled.overrideLogicalId(`${name}_${action}`);
    }
  }
}

/**
 * A group that launches spot instances only: no on-demand base or share, the template's type, from
 * the pool EC2 expects to be interrupted least at a low price (price-capacity-optimized). EC2 Auto
 * Scaling has no automatic on-demand fallback: without spot capacity the group keeps retrying, and
 * `bastion.market: "on-demand"` is the way back.
 */
function spotOnly(templateId: string, version: string, instanceType: string): AutoscalingGroupMixedInstancesPolicy {
  return {
    instancesDistribution: { onDemandBaseCapacity: 0, onDemandPercentageAboveBaseCapacity: 0, spotAllocationStrategy: "price-capacity-optimized" },
    launchTemplate: { launchTemplateSpecification: { launchTemplateId: templateId, version }, override: [{ instanceType }] },
  };
}

/** The Auto Scaling Group of a scheduled instance, e.g. "deathstar-bastion" (scripts/session.ts starts it). */
export function autoscalingGroupName(role: string): string {
  return resourceName(role);
}
