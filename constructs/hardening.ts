/**
 * What every instance of the lab shares, whoever launches it: the launch-template settings that
 * harden an instance, and security groups with their rules written as tables through one helper each.
 */
import { Construct } from "constructs";
import type { LaunchTemplateConfig } from "@cdktf/provider-aws/lib/launch-template";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { CpuCredits } from "../config/schema.js";
import { INSTANCE_TYPES } from "../config/instance-types.js";

/** The instance facts the hardened settings depend on. */
export interface HardenedInstance {
  readonly instanceType: string;
  readonly cpuCredits: CpuCredits;
  /** The AMI's root device, e.g. "/dev/xvda" (Amazon Linux) or the AMI's own `root_device_name`. */
  readonly rootDeviceName: string;
  readonly rootVolumeGb: number;
}

/**
 * IMDSv2 only, with a hop limit of 1 so containers behind a bridge cannot reach the instance's
 * credentials; instance tags kept out of IMDS; an encrypted gp3 root volume deleted with the
 * instance; a credit specification only for the types the price table marks burstable (EC2 refuses to
 * launch a template that gives one to any other type, whatever the credit mode says).
 */
export function hardenedLaunchTemplate(instance: HardenedInstance): Pick<LaunchTemplateConfig, "metadataOptions" | "creditSpecification" | "blockDeviceMappings"> {
  return {
    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
    creditSpecification: INSTANCE_TYPES[instance.instanceType]?.burstable ? { cpuCredits: instance.cpuCredits } : undefined,
    blockDeviceMappings: [
      {
        deviceName: instance.rootDeviceName,
        ebs: { volumeSize: instance.rootVolumeGb, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
      },
    ],
  };
}

/** One security-group rule, a row of a rule table. */
export interface SecurityGroupRuleRow {
  readonly direction: "ingress" | "egress";
  /** The resource name, e.g. "bastion_dns_udp" → aws_vpc_security_group_ingress_rule.bastion_dns_udp. */
  readonly logicalId: string;
  /** Its Name tag, e.g. "bastion-dns-udp". */
  readonly nameTag: string;
  readonly description: string;
  /** "tcp", "udp" or "-1" (all). */
  readonly ipProtocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly cidrIpv4?: string;
  readonly cidrIpv6?: string;
  readonly referencedSecurityGroupId?: string;
}

/**
 * A security group at `aws_security_group.<logicalId>`, named and tagged `name`. Its rules live in
 * their own resources (securityGroupRules): an inline block here would fight them.
 */
export function securityGroup(scope: Construct, id: string, props: { readonly logicalId: string; readonly name: string; readonly description: string; readonly vpcId: string }): SecurityGroup {
  const group = new SecurityGroup(scope, id, { name: props.name, description: props.description, vpcId: props.vpcId, tags: { Name: props.name } });
  group.overrideLogicalId(props.logicalId);
  return group;
}

/**
 * Adds each row as its own `aws_vpc_security_group_{ingress,egress}_rule`, so every rule carries
 * its own description and tag; each row's `id` is its construct id (stable paths in cdk.tf.json).
 */
export function securityGroupRules(scope: Construct, securityGroupId: string, rows: readonly (SecurityGroupRuleRow & { readonly id: string })[]): void {
  for (const { id, direction, logicalId, nameTag, ...rule } of rows) {
    const config = { securityGroupId, ...rule, tags: { Name: nameTag } };
    const resource = direction === "ingress" ? new VpcSecurityGroupIngressRule(scope, id, config) : new VpcSecurityGroupEgressRule(scope, id, config);
    resource.overrideLogicalId(logicalId);
  }
}
