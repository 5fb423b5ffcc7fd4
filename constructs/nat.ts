import { Construct } from "constructs";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { NetworkInterface } from "@cdktf/provider-aws/lib/network-interface";
import { Route } from "@cdktf/provider-aws/lib/route";
import { ScheduledInstance } from "./scheduled-instance.js";
import { securityGroup, securityGroupRules } from "./hardening.js";
import { renderNatInstanceUserData } from "../templates/nat-instance.js";
import { ROLE_TAG, type ResourceArns } from "./arns.js";
import { resourceName } from "../config/site-view.js";
import type { Architecture, CpuCredits, NatMode } from "../config/schema.js";

export const NAT_INSTANCE_ROLE = "nat_instance";


/** What every NAT mode needs: where the private subnet's default route goes. */
interface NatCommonProps {
  readonly vpcId: string;
  readonly publicSubnetId: string;
  readonly privateRouteTableId: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** Mode "instance": a scheduled NAT instance behind a persistent ENI. */
export interface NatInstanceProps extends NatCommonProps {
  readonly mode: "instance";
  readonly vpcCidr: string;
  /** The public subnet's VPC router (its .1). */
  readonly publicSubnetRouter: string;
  /** Private subnet block: the only source the NAT instance accepts. */
  readonly privateSubnetCidr: string;
  readonly architecture: Architecture;
  readonly instance: {
    readonly instanceType: string;
    readonly eniAddress: string;
    readonly schedule: { readonly start: string; readonly stop: string; readonly timeZone: string };
    readonly cpuCredits: CpuCredits;
  };
  readonly arns: ResourceArns;
}

/** Mode "bastion": the bastion is the NAT; its persistent ENI is the route target. */
export interface NatOnBastionProps extends NatCommonProps {
  readonly mode: "bastion";
  /** The bastion's persistent ENI (source/dest check off, made by the Bastion construct). */
  readonly networkInterfaceId: string;
  /** The ENI's security group: it checks forwarded traffic on the way in. */
  readonly securityGroupId: string;
  /** Private subnet block: what the ENI forwards. */
  readonly privateSubnetCidr: string;
}

/**
 * Props of {@link Nat}, one shape per mode, so an instance without its settings does not compile.
 * "gateway" and "none" need nothing beyond the route's ends.
 */
export type NatProps = NatInstanceProps | NatOnBastionProps | (NatCommonProps & { readonly mode: Exclude<NatMode, "instance" | "bastion"> });

/**
 * Egress for the private subnet.
 * - gateway: the managed NAT Gateway and its Elastic IP, always on (~$38.7/month before traffic).
 * - instance: a t4g.nano on the bastion's schedule. The private route targets a persistent ENI that
 *   the instance attaches at boot, so the route survives replacement and costs nothing while stopped.
 * - bastion: the bastion masquerades the private subnet out of its own public IPv4; the private
 *   route targets its persistent ENI. No instance, address or volume of its own.
 * - none: no default route; the private subnet has no internet access.
 */
export class Nat extends Construct {
  constructor(scope: Construct, id: string, props: NatProps) {
    super(scope, id);
    if (props.mode === "gateway") this.gateway(props);
    if (props.mode === "instance") this.instance(props);
    if (props.mode === "bastion") this.onBastion(props);
  }

  private privateDefaultRoute(props: NatProps, target: { natGatewayId?: string; networkInterfaceId?: string }): void {
    const route = new Route(this, "private-default", {
      routeTableId: props.privateRouteTableId,
      destinationCidrBlock: "0.0.0.0/0",
      ...target,
    });
    route.overrideLogicalId("private_default");
  }

  private gateway(props: NatProps): void {
    const eip = new Eip(this, "eip", { domain: "vpc", tags: { Name: resourceName("nat") } });
    eip.overrideLogicalId("nat");
    const gateway = new NatGateway(this, "gateway", {
      allocationId: eip.allocationId,
      subnetId: props.publicSubnetId,
      tags: { Name: resourceName("nat") },
    });
    gateway.overrideLogicalId("main");
    this.privateDefaultRoute(props, { natGatewayId: gateway.id });
  }

  private onBastion(props: NatOnBastionProps): void {
    securityGroupRules(this, props.securityGroupId, [
      {
        id: "bastion-forward-in",
        direction: "ingress",
        logicalId: "bastion_forward_from_private",
        nameTag: "bastion-forward-from-private",
        description: `All traffic from the private subnet ${props.privateSubnetCidr} (to be forwarded by the bastion)`,
        ipProtocol: "-1",
        cidrIpv4: props.privateSubnetCidr,
      },
    ]);
    this.privateDefaultRoute(props, { networkInterfaceId: props.networkInterfaceId });
  }

  private instance(props: NatInstanceProps): void {
    const group = securityGroup(this, "sg", {
      logicalId: "nat_instance",
      name: "nat-instance-sg",
      description: "NAT instance: forwards the private subnet to the internet",
      vpcId: props.vpcId,
    });
    securityGroupRules(this, group.id, [
      {
        id: "sg-in",
        direction: "ingress",
        logicalId: "nat_instance_from_private",
        nameTag: "nat-instance-from-private",
        description: `All traffic from the private subnet ${props.privateSubnetCidr} (to be forwarded)`,
        ipProtocol: "-1",
        cidrIpv4: props.privateSubnetCidr,
      },
      {
        id: "sg-out",
        direction: "egress",
        logicalId: "nat_instance_all",
        nameTag: "nat-instance-all",
        description: "All egress: forwarded traffic and package updates",
        ipProtocol: "-1",
        cidrIpv4: "0.0.0.0/0",
      },
    ]);

    // Source/dest check off: this interface forwards packets that are neither from nor to itself.
    const eni = new NetworkInterface(this, "eni", {
      subnetId: props.publicSubnetId,
      privateIps: [props.instance.eniAddress],
      securityGroups: [group.id],
      sourceDestCheck: false,
      description: "NAT instance persistent interface (private route target)",
      tags: { Name: resourceName("nat-instance") },
    });
    eni.overrideLogicalId("nat_instance");
    this.privateDefaultRoute(props, { networkInterfaceId: eni.id });

    new ScheduledInstance(this, "instance", {
      name: NAT_INSTANCE_ROLE,
      instanceType: props.instance.instanceType,
      architecture: props.architecture,
      subnetId: props.publicSubnetId,
      securityGroupIds: [group.id],
      associatePublicIp: true,
      userData: renderNatInstanceUserData({
        eniAddress: props.instance.eniAddress,
        vpcCidr: props.vpcCidr,
        publicSubnetRouter: props.publicSubnetRouter,
      }),
      policyStatements: [
        { Sid: "AttachOwnEni", Effect: "Allow", Action: ["ec2:AttachNetworkInterface"], Resource: eni.arn },
        props.arns.instancesWithRole("AttachToNatInstance", ["ec2:AttachNetworkInterface"], NAT_INSTANCE_ROLE),
        // Describe calls have no resource-level permissions in EC2.
        { Sid: "DescribeEni", Effect: "Allow", Action: ["ec2:DescribeNetworkInterfaces"], Resource: "*" },
      ],
      schedule: props.instance.schedule,
      rootVolumeGb: 8,
      cpuCredits: props.instance.cpuCredits,
      tags: { ...props.tags, [ROLE_TAG]: NAT_INSTANCE_ROLE },
    });
  }
}
