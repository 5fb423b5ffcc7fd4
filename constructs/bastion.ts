import { Construct } from "constructs";
import { ConfigError } from "../config/load.js";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { NetworkInterface } from "@cdktf/provider-aws/lib/network-interface";
import { ScheduledInstance, type PolicyStatement, type ScheduledInstanceProps } from "./scheduled-instance.js";
import { ROLE_TAG, type ResourceArns } from "./arns.js";
import { CACHE_VOLUME_TAG } from "../templates/bastion-boot.js";
import { USER_DATA_LIMIT_BYTES } from "../templates/cloud-init.js";
import { resourceName } from "../config/site-view.js";
import { securityGroup, securityGroupRules } from "./hardening.js";

export const BASTION_ROLE = "bastion";
const DNS_PORT = 53;

/** Props of {@link Bastion}; the instance settings are those of {@link ScheduledInstanceProps}. */
export interface BastionProps
  extends Pick<ScheduledInstanceProps, "architecture" | "instanceType" | "rootVolumeGb" | "schedule" | "cpuCredits" | "market" | "tags"> {
  /** Fixed address of the persistent ENI, e.g. "10.20.13.140". */
  readonly privateIp: string;
  readonly privateSubnetId: string;
  /** bastion-sg: on the persistent ENI, and on the instance's own interface unless {@link ownNat} is set. */
  readonly securityGroupId: string;
  /**
   * The bastion is the private subnet's NAT (network.nat "bastion"): it launches in the public
   * subnet with a public IPv4 behind an egress-only group, and its persistent ENI forwards (source/dest
   * check off). The route to the ENI and the forwarded traffic's ingress rule are the NAT construct's.
   * @default undefined: the bastion launches in the private subnet without a public address
   */
  readonly ownNat?: { readonly vpcId: string; readonly publicSubnetId: string };
  /** The VPC block: every instance in it gets Pi-hole from the DHCP options and may query it. */
  readonly vpcCidr: string;
  /**
   * Where the registry caches live: a persistent gp3 volume (registry caches, matchbox assets,
   * Pi-hole state) in the private subnet's AZ, or a bucket whose statements the role gets.
   */
  readonly cache:
    | { readonly storage: "ebs"; readonly volumeGb: number; readonly availabilityZone: string }
    | { readonly storage: "s3"; readonly policyStatements: readonly PolicyStatement[] };
  /** Rendered cloud-init user-data (templates/cloud-init.ts); at most 16 KB. */
  readonly userData: string;
  /** Names of the SSM parameters the boot script reads; the role may read exactly these. */
  readonly secretParameterNames: readonly string[];
  readonly arns: ResourceArns;
}

/**
 * The bastion: a scheduled instance (launch template + ASG) whose identity outlives it. The
 * address lives on a persistent ENI and the caches on a persistent volume (or in a bucket); the
 * boot script attaches what there is, so any replacement comes back as the same host with the same caches.
 */
export class Bastion extends Construct {
  readonly networkInterface: NetworkInterface;
  /** The persistent cache volume; undefined when the caches live in a bucket. */
  readonly cacheVolume: EbsVolume | undefined;
  readonly instance: ScheduledInstance;

  constructor(scope: Construct, id: string, props: BastionProps) {
    super(scope, id);
    validate(props);
    this.networkInterface = this.persistentInterface(props);
    this.cacheVolume = props.cache.storage === "ebs" ? this.persistentVolume(props.cache) : undefined;
    this.dnsIngress(props);
    this.instance = new ScheduledInstance(this, "instance", {
      name: BASTION_ROLE,
      instanceType: props.instanceType,
      architecture: props.architecture,
      ...(props.ownNat
        ? { subnetId: props.ownNat.publicSubnetId, securityGroupIds: [this.publicGroup(props.ownNat.vpcId)], associatePublicIp: true }
        : { subnetId: props.privateSubnetId, securityGroupIds: [props.securityGroupId] }),
      userData: props.userData,
      policyStatements: this.policyStatements(props),
      schedule: props.schedule,
      rootVolumeGb: props.rootVolumeGb,
      cpuCredits: props.cpuCredits,
      market: props.market,
      tags: { ...props.tags, [ROLE_TAG]: BASTION_ROLE },
    });
  }

  private persistentInterface(props: BastionProps): NetworkInterface {
    const eni = new NetworkInterface(this, "eni", {
      subnetId: props.privateSubnetId,
      privateIps: [props.privateIp],
      securityGroups: [props.securityGroupId],
      // As the NAT's route target it forwards packets that are neither from nor to itself.
      ...(props.ownNat ? { sourceDestCheck: false } : {}),
      description: props.ownNat
        ? "Bastion persistent interface: netboot, registry caches, DNS, NAT for the private subnet (route target)"
        : "Bastion persistent interface: netboot, registry caches, DNS",
      tags: { Name: resourceName("bastion") },
    });
    eni.overrideLogicalId("bastion");
    return eni;
  }

  private persistentVolume(cache: { readonly volumeGb: number; readonly availabilityZone: string }): EbsVolume {
    const volume = new EbsVolume(this, "cache", {
      availabilityZone: cache.availabilityZone,
      size: cache.volumeGb,
      type: "gp3",
      encrypted: true,
      tags: { Name: resourceName("bastion-cache"), [CACHE_VOLUME_TAG.key]: CACHE_VOLUME_TAG.value },
    });
    volume.overrideLogicalId("bastion_cache");
    return volume;
  }

  /**
   * The group of the primary interface, the one with the public IPv4: egress only. Nothing on the
   * internet reaches the bastion; what it serves, it serves on the persistent ENI.
   */
  private publicGroup(vpcId: string): string {
    const group = securityGroup(this, "public-sg", {
      logicalId: "bastion_public",
      name: "bastion-public-sg",
      description: "Bastion primary interface (public IPv4): egress only, no ingress",
      vpcId,
    });
    securityGroupRules(this, group.id, [
      {
        id: "public-out",
        direction: "egress",
        logicalId: "bastion_public_all",
        nameTag: "bastion-public-all",
        description: "All egress: the bastion's own traffic and the private subnet's, masqueraded",
        ipProtocol: "-1",
        cidrIpv4: "0.0.0.0/0",
      },
    ]);
    return group.id;
  }

  /** Pi-hole answers the whole VPC (the DHCP options list it first); bastion-sg otherwise admits only the nodes. */
  private dnsIngress(props: BastionProps): void {
    securityGroupRules(
      this,
      props.securityGroupId,
      (["udp", "tcp"] as const).map((protocol) => ({
        id: `dns-${protocol}`,
        direction: "ingress",
        logicalId: `bastion_dns_${protocol}`,
        nameTag: `bastion-dns-${protocol}`,
        description: `Pi-hole DNS over ${protocol.toUpperCase()} for instances in the VPC ${props.vpcCidr}`,
        ipProtocol: protocol,
        fromPort: DNS_PORT,
        toPort: DNS_PORT,
        cidrIpv4: props.vpcCidr,
      })),
    );
  }

  /** Attach exactly this ENI and volume (or use the cache bucket), read exactly these parameters, and Session Manager. */
  private policyStatements(props: BastionProps): PolicyStatement[] {
    const volume = this.cacheVolume;
    return [
      { Sid: "AttachOwnEni", Effect: "Allow", Action: ["ec2:AttachNetworkInterface"], Resource: this.networkInterface.arn },
      ...(volume ? [{ Sid: "AttachOwnCacheVolume", Effect: "Allow" as const, Action: ["ec2:AttachVolume"], Resource: volume.arn }] : []),
      props.arns.instancesWithRole("AttachToBastion", ["ec2:AttachNetworkInterface", ...(volume ? ["ec2:AttachVolume"] : [])], BASTION_ROLE),
      // Describe calls have no resource-level permissions in EC2.
      {
        Sid: volume ? "FindEniAndVolume" : "FindEni",
        Effect: "Allow",
        Action: ["ec2:DescribeNetworkInterfaces", ...(volume ? ["ec2:DescribeVolumes"] : [])],
        Resource: "*",
      },
      ...(props.cache.storage === "s3" ? props.cache.policyStatements : []),
      {
        Sid: "ReadOwnParameters",
        Effect: "Allow",
        Action: ["ssm:GetParameter"],
        Resource: props.secretParameterNames.map((name) => props.arns.ssmParameter(name)),
      },
      { Sid: "SessionManagerRegistration", Effect: "Allow", Action: ["ssm:UpdateInstanceInformation"], Resource: props.arns.instances() },
      // The Session Manager channel actions have no resource-level permissions.
      {
        Sid: "SessionManagerChannels",
        Effect: "Allow",
        Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
        Resource: "*",
      },
    ];
  }
}

function validate(props: BastionProps): void {
  const size = Buffer.byteLength(props.userData, "utf8");
  if (size > USER_DATA_LIMIT_BYTES) {
    // The config decides the size (caches, names, images): a config error, not a crash.
    throw new ConfigError(
      [`services.registryCaches: the bastion user-data rendered from this config is ${size} bytes; EC2 accepts at most ${USER_DATA_LIMIT_BYTES}. Fewer registry caches or shorter names will fit`],
      "bastion user-data",
    );
  }
  if (props.secretParameterNames.length === 0) throw new Error("the bastion reads at least one SSM parameter (the Pi-hole web password)");
}
