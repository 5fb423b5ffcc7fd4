import { Construct } from "constructs";
import { LocalBackend, S3Backend, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { SiteConfig } from "../config/schema.js";
import { nthAddress, parseIpv4Cidr } from "../config/net.js";
import { Network } from "../constructs/network.js";
import { SecurityGroups } from "../constructs/security.js";
import { Nat } from "../constructs/nat.js";
import { ResourceArns } from "../constructs/arns.js";
import { Bastion } from "../constructs/bastion.js";
import { MonthlyBudget } from "../constructs/budget.js";
import { enforceSecurityRules } from "../constructs/rules/aspect.js";
import { renderBastionUserData } from "../templates/cloud-init.js";
import { TalosNodes } from "../constructs/talos-nodes.js";
import { renderIpxeScript } from "../templates/ipxe.js";
import { kubernetesEndpoint, talosApiEndpoint } from "../templates/talos-cluster.js";

/** The stack's name: its output lands in cdktf.out/stacks/deathstar/. */
export const STACK_NAME = "deathstar";
/** cdktf.out/stacks/<name>/ → the repo root, where the operator's terraform.tfstate lives. */
const STACK_DIR_TO_REPO_ROOT = "../../..";

/**
 * Everything the AWS site deploys, composed from constructs that each take typed props
 * derived here once from the validated config.
 */
export class DeathStarStack extends TerraformStack {
  constructor(scope: Construct, config: Readonly<SiteConfig>) {
    super(scope, STACK_NAME);
    const tags = { Project: "third-death-star", Site: config.site.name, ManagedBy: "opentofu-cdktf", ...config.tags };

    this.backend(config.state);
    new AwsProvider(this, "aws", { region: config.aws.region, defaultTags: [{ tags }] });
    const arns = new ResourceArns(this, "arns", config.aws.region);

    const network = new Network(this, "network", {
      vpcCidr: config.network.vpcCidr,
      publicSubnetCidr: config.network.publicSubnet.cidr,
      privateSubnetCidr: config.network.privateSubnet.cidr,
      availabilityZone: config.aws.availabilityZone,
      domainName: config.network.domainName,
      dnsServers: config.network.dnsServers,
    });
    const security = new SecurityGroups(this, "security", {
      vpcId: network.vpc.id,
      operatorSshSources: config.access.operatorSshSources,
      mikrotik: config.access.mikrotik.enabled ? config.access.mikrotik : undefined,
    });
    new Nat(this, "nat", {
      mode: config.network.nat,
      vpcId: network.vpc.id,
      vpcCidr: config.network.vpcCidr,
      publicSubnetId: network.publicSubnet.id,
      publicSubnetRouter: nthAddress(parseIpv4Cidr(config.network.publicSubnet.cidr)!, 1),
      privateSubnetCidr: config.network.privateSubnet.cidr,
      privateRouteTableId: network.privateRouteTable.id,
      architecture: config.architecture,
      instance: {
        ...config.network.natInstance,
        schedule: config.bastion.schedule,
        cpuCredits: config.bastion.cpuCredits,
      },
      arns,
      tags,
    });
    const { bastion } = config;
    new Bastion(this, "bastion", {
      privateIp: bastion.privateIp,
      privateSubnetId: network.privateSubnet.id,
      availabilityZone: config.aws.availabilityZone,
      securityGroupId: security.bastion.id,
      vpcCidr: config.network.vpcCidr,
      architecture: config.architecture,
      instanceType: bastion.instanceType,
      rootVolumeGb: bastion.rootVolumeGb,
      cacheVolumeGb: bastion.cacheVolumeGb,
      schedule: bastion.schedule,
      cpuCredits: bastion.cpuCredits,
      userData: renderBastionUserData(config),
      secretParameterNames: [bastion.secrets.piholeWebPassword, ...(bastion.tailscale.enabled ? [bastion.secrets.tailscaleAuthKey] : [])],
      arns,
      tags,
    });
    new TalosNodes(this, "talos-nodes", {
      talos: config.talos,
      architecture: config.architecture,
      region: config.aws.region,
      subnetId: network.privateSubnet.id,
      securityGroupId: security.talosNodes.id,
      ipxeScript: config.talos.boot === "ipxe" ? renderIpxeScript(config) : undefined,
      endpoints: { talosApi: talosApiEndpoint(config), kubernetes: kubernetesEndpoint(config) },
      tags,
    });
    new MonthlyBudget(this, "budget", { name: `deathstar-${config.site.name}`, limitUsd: config.budget.monthlyUsd, email: config.budget.email });
    // Last, so the rules see every resource above: a violation fails synth before anything is written.
    enforceSecurityRules(this);
  }

  private backend(state: SiteConfig["state"]): void {
    if (state.backend === "local") {
      new LocalBackend(this, { path: `${STACK_DIR_TO_REPO_ROOT}/${state.path}` });
    } else {
      // use_lockfile: S3-native locking, no DynamoDB table.
      new S3Backend(this, { bucket: state.bucket, key: state.key, region: state.region, encrypt: true });
      this.addOverride("terraform.backend.s3.use_lockfile", true);
    }
  }
}
