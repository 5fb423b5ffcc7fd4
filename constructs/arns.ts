import { Construct } from "constructs";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import type { PolicyStatement } from "./scheduled-instance.js";

/** Tag every scheduled instance carries, naming its role; IAM conditions match on it. */
export const ROLE_TAG = "deathstar:role";

/**
 * ARN builders for policies scoped to this account and region, so no statement needs "*"
 * for an action that supports resource-level permissions.
 */
export class ResourceArns extends Construct {
  /** This account's id (data.aws_caller_identity.current). */
  readonly accountId: string;
  /** This partition ("aws", "aws-cn", "aws-us-gov"; data.aws_partition.current). */
  readonly partition: string;
  private readonly prefix: string;
  private readonly ssmPrefix: string;

  constructor(scope: Construct, id: string, region: string) {
    super(scope, id);
    const identity = new DataAwsCallerIdentity(this, "identity");
    identity.overrideLogicalId("current");
    const partition = new DataAwsPartition(this, "partition");
    partition.overrideLogicalId("current");
    this.accountId = identity.accountId;
    this.partition = partition.partition;
    this.prefix = `arn:${partition.partition}:ec2:${region}:${identity.accountId}`;
    this.ssmPrefix = `arn:${partition.partition}:ssm:${region}:${identity.accountId}`;
  }

  /** Instances of this account/region carrying `deathstar:role = role`: the statement holds the condition. */
  instancesWithRole(sid: string, actions: readonly string[], role: string): PolicyStatement {
    return {
      Sid: sid,
      Effect: "Allow",
      Action: actions,
      Resource: `${this.prefix}:instance/*`,
      Condition: { StringEquals: { [`aws:ResourceTag/${ROLE_TAG}`]: role } },
    };
  }

  /**
   * Every instance of this account/region, for actions that accept an instance ARN but no
   * documented tag condition (e.g. ssm:UpdateInstanceInformation, which an instance calls for itself).
   */
  instances(): string {
    return `${this.prefix}:instance/*`;
  }

  /** ARN of an SSM parameter given its name ("/deathstar/..."). */
  ssmParameter(name: string): string {
    return `${this.ssmPrefix}:parameter${name}`;
  }
}
