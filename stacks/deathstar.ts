import { Construct } from "constructs";
import { LocalBackend, S3Backend, TerraformDataSource, TerraformResource, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { resolve } from "node:path";
import type { SiteConfig } from "../config/schema.js";
import { readAdoptFile } from "../config/adopt-file.js";
import { ConfigError } from "../config/load.js";
import { resourceName, siteView } from "../config/site-view.js";
import { DhcpOptions, Network, type NetworkIds } from "../constructs/network.js";
import { SecurityGroups, type SecurityGroupIds } from "../constructs/security.js";
import { Nat } from "../constructs/nat.js";
import { ResourceArns } from "../constructs/arns.js";
import { ExistingModules } from "../constructs/existing-modules.js";
import { CacheBucket } from "../constructs/cache-bucket.js";
import { Bastion } from "../constructs/bastion.js";
import { MonthlyBudget } from "../constructs/budget.js";
import { enforceSecurityRules } from "../analysis/rules/aspect.js";
import { bastionSecretParameterNames } from "../templates/bastion-boot.js";
import { renderBastionUserData } from "../templates/cloud-init.js";
import { TalosNodes } from "../constructs/talos-nodes.js";
import { SessionExpiry } from "../constructs/session-expiry.js";
import { nodeArchitecture, TALOS_SESSION_MAX_HOURS } from "../config/talos.js";
import { renderIpxeScript } from "../templates/ipxe.js";
import { kubernetesEndpoint, talosApiEndpoint } from "../templates/talos-cluster.js";

/** The stack's name: its output lands in cdktf.out/stacks/deathstar/. */
export const STACK_NAME = "deathstar";
/** cdktf.out/stacks/<name>/ → the repo root, where the local state (`state.path`) lives. */
const STACK_DIR_TO_REPO_ROOT = "../../..";

/** Options of {@link DeathStarStack}. */
export interface DeathStarStackOptions {
  /**
   * The project root: config paths (existing modules, adopt file) are relative to it.
   * @default process.cwd()
   */
  readonly projectRoot?: string;
}

/**
 * Everything the AWS site deploys, composed from constructs that each take typed props
 * derived here once from the validated config.
 */
export class DeathStarStack extends TerraformStack {
  constructor(scope: Construct, config: Readonly<SiteConfig>, options: DeathStarStackOptions = {}) {
    super(scope, STACK_NAME);
    const projectRoot = resolve(options.projectRoot ?? process.cwd());
    const view = siteView(config);
    const tags = { Project: "third-death-star", Site: config.site.name, ManagedBy: "opentofu-cdktf", ...config.tags };

    this.backend(config.state);
    // Kept modules inherit the default provider, as they did in their old configuration: it
    // carries none of our default tags (which would show up as a change to everything they made),
    // and no `providers` mapping means no "undefined provider" warning for a module without
    // required_providers. Our own resources then use an aliased provider with the tags.
    const keepsModules = config.existing.modules.length > 0;
    if (keepsModules) new AwsProvider(this, "aws-modules", { region: config.aws.region });
    const provider = new AwsProvider(this, "aws", { region: config.aws.region, defaultTags: [{ tags }], alias: keepsModules ? STACK_NAME : undefined });
    const arns = new ResourceArns(this, "arns", config.aws.region);
    const existing = new ExistingModules(this, "existing", { modules: config.existing.modules, projectRoot, projectRootFromStack: STACK_DIR_TO_REPO_ROOT });

    const network = this.network(config, existing);
    new DhcpOptions(this, "dhcp", { vpcId: network.vpcId, domainName: config.network.domainName, dnsServers: view.dhcpDnsServers });
    const security = this.securityGroups(config, existing, network);
    const nat = config.network.nat;
    const { bastion } = config;
    const cacheBucket =
      bastion.cacheStorage === "s3"
        ? new CacheBucket(this, "cache-bucket", {
            region: config.aws.region,
            accountId: arns.accountId,
            vpcId: network.vpcId,
            // The private subnet's instances. A bastion that is its own NAT (public subnet, own
            // public IPv4) reaches S3 through the internet gateway: free within the region too.
            routeTableIds: [network.privateRouteTableId],
            expiryDays: bastion.cacheExpiryDays,
          })
        : undefined;
    const bastionInstance = new Bastion(this, "bastion", {
      privateIp: view.bastionAddress,
      privateSubnetId: network.privateSubnetId,
      securityGroupId: security.bastionSecurityGroupId,
      ownNat: nat === "bastion" ? { vpcId: network.vpcId, publicSubnetId: network.publicSubnetId } : undefined,
      vpcCidr: config.network.vpcCidr,
      architecture: config.architecture,
      instanceType: bastion.instanceType,
      rootVolumeGb: bastion.rootVolumeGb,
      cache: cacheBucket
        ? { storage: "s3", policyStatements: cacheBucket.policyStatements() }
        : { storage: "ebs", volumeGb: bastion.cacheVolumeGb, availabilityZone: config.aws.availabilityZone },
      schedule: bastion.schedule,
      cpuCredits: bastion.cpuCredits,
      market: bastion.market,
      userData: renderBastionUserData(config),
      secretParameterNames: bastionSecretParameterNames(config),
      arns,
      tags,
    });
    const natRoute = { vpcId: network.vpcId, publicSubnetId: network.publicSubnetId, privateRouteTableId: network.privateRouteTableId, tags };
    const privateSubnetCidr = config.network.privateSubnet.cidr;
    new Nat(
      this,
      "nat",
      nat === "instance"
        ? {
            ...natRoute,
            mode: nat,
            vpcCidr: config.network.vpcCidr,
            publicSubnetRouter: view.publicSubnetRouter,
            privateSubnetCidr,
            architecture: config.architecture,
            // The NAT instance runs on the bastion's schedule: the private subnet needs egress only while the bastion is up.
            instance: { ...config.network.natInstance, schedule: config.bastion.schedule, cpuCredits: config.bastion.cpuCredits },
            arns,
          }
        : nat === "bastion"
          ? { ...natRoute, mode: nat, networkInterfaceId: bastionInstance.networkInterface.id, securityGroupId: security.bastionSecurityGroupId, privateSubnetCidr }
          : { ...natRoute, mode: nat },
    );
    const talosNodes = new TalosNodes(this, "talos-nodes", {
      talos: config.talos,
      nodes: view.nodes,
      architecture: nodeArchitecture(config),
      region: config.aws.region,
      subnetId: network.privateSubnetId,
      securityGroupId: security.talosNodesSecurityGroupId,
      boot: config.talos.boot === "ipxe" ? { mode: "ipxe", amiId: config.talos.ipxeAmiId!, script: renderIpxeScript(config) } : { mode: "talos-ami" },
      endpoints: { talosApi: talosApiEndpoint(config), kubernetes: kubernetesEndpoint(config) },
      tags,
    });
    new SessionExpiry(this, "session-expiry", { hours: config.talos.sessionHours, maxHours: TALOS_SESSION_MAX_HOURS, nodes: talosNodes, arns, alertEmail: config.budget.email });
    new MonthlyBudget(this, "budget", { name: resourceName(config.site.name), limitUsd: config.budget.monthlyUsd, email: config.budget.email });
    if (keepsModules) {
      for (const node of this.node.findAll()) {
        // aws_* only: terraform_data (the session deadline) is OpenTofu's own and takes no provider.
        if ((node instanceof TerraformResource || node instanceof TerraformDataSource) && node.terraformResourceType.startsWith("aws_")) node.provider ??= provider;
      }
    }
    if (config.existing.adoptFile) this.adopt(resolve(projectRoot, config.existing.adoptFile));
    // Last, so the rules see every resource above: a violation fails synth before anything is written.
    enforceSecurityRules(this);
  }

  /**
   * Our own network, the one an existing module provides (all four ids), or a module's VPC and
   * public subnet with our private subnet and route table inside that VPC (the schema allows
   * nothing else), so a module's VPC is never planned a second time.
   */
  private network(config: Readonly<SiteConfig>, existing: ExistingModules): NetworkIds {
    const vpcId = existing.feed("vpcId");
    const privateSubnetId = existing.feed("privateSubnetId");
    if (vpcId !== undefined && privateSubnetId !== undefined) {
      return { vpcId, publicSubnetId: existing.feed("publicSubnetId")!, privateSubnetId, privateRouteTableId: existing.feed("privateRouteTableId")! };
    }
    return new Network(this, "network", {
      vpcCidr: config.network.vpcCidr,
      publicSubnetCidr: config.network.publicSubnet.cidr,
      privateSubnetCidr: config.network.privateSubnet.cidr,
      availabilityZone: config.aws.availabilityZone,
      existing: vpcId === undefined ? undefined : { vpcId, publicSubnetId: existing.feed("publicSubnetId")! },
    });
  }

  /** Our own security groups, or the pair an existing module provides (with its own rules). */
  private securityGroups(config: Readonly<SiteConfig>, existing: ExistingModules, network: NetworkIds): SecurityGroupIds {
    const bastionSecurityGroupId = existing.feed("bastionSecurityGroupId");
    if (bastionSecurityGroupId !== undefined) {
      return { bastionSecurityGroupId, talosNodesSecurityGroupId: existing.feed("talosNodesSecurityGroupId")! };
    }
    return new SecurityGroups(this, "security", {
      vpcId: network.vpcId,
      operatorSshSources: config.access.operatorSshSources,
      mikrotik: config.access.mikrotik.enabled ? config.access.mikrotik : undefined,
    });
  }

  /**
   * The decisions of `npm run adopt`: moved blocks (same state), import blocks (other state),
   * removed blocks (old resources left in AWS) and attributes kept at their existing values so
   * that nothing adopted is replaced. Every target
   * must be one of our resources; a stale file is an error, not a silent no-op.
   */
  private adopt(file: string): void {
    const decisions = readAdoptFile(file);
    const resources = new Map<string, TerraformResource>();
    for (const node of this.node.findAll()) {
      if (node instanceof TerraformResource) resources.set(`${node.terraformResourceType}.${node.friendlyUniqueId}`, node);
    }
    const target = (address: string, entry: string): TerraformResource => {
      const found = resources.get(address);
      if (!found) {
        throw new ConfigError([`existing.adoptFile: ${entry} of ${file}: ${address} is not a resource of this stack; run "npm run adopt" again for the current config`], file);
      }
      return found;
    };
    decisions.keep.forEach(({ address, attribute, value }, i) => target(address, `keep.${i}.address`).addOverride(attribute, value));
    decisions.moved.forEach(({ to }, i) => target(to, `moved.${i}.to`));
    decisions.import.forEach(({ to }, i) => target(to, `import.${i}.to`));
    // Stack-level blocks: cdktf's importFrom() would also probe for a `terraform` binary at synth.
    if (decisions.moved.length > 0) this.addOverride("moved", decisions.moved);
    if (decisions.import.length > 0) this.addOverride("import", decisions.import);
    const removed = decisions.removed ?? [];
    if (removed.length > 0) this.addOverride("removed", removed.map(({ from }) => ({ from, lifecycle: { destroy: false } })));
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
