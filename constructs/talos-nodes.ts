import { Construct } from "constructs";
import { Annotations, Fn, Op, TerraformCount, TerraformLocal, TerraformOutput, TerraformVariable, propertyAccess } from "cdktf";
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { LaunchTemplate, type LaunchTemplateInstanceMarketOptions } from "@cdktf/provider-aws/lib/launch-template";
import type { InstanceMarket, SiteConfig } from "../config/schema.js";
import { resourceName, type TalosNodeView } from "../config/site-view.js";
import { INSTANCE_TYPES } from "../config/instance-types.js";
import { COZYSTACK_MIN_NODE } from "../config/cozystack.js";
import { TALOS_CONTROL_PLANE_MIN_MEMORY_GIB, VANILLA_SCHEMATIC_ID } from "../config/talos.js";
import { talosArch } from "../templates/talos-assets.js";
import { ROLE_TAG } from "./arns.js";
import { hardenedLaunchTemplate } from "./hardening.js";

/** Sidero Labs' AWS account, owner of the official Talos AMIs. */
export const TALOS_AMI_OWNER = "540036508848";
/** `deathstar:role` of the node instances: the session expiry may terminate exactly these. */
export const TALOS_NODE_ROLE = "talos-node";


/**
 * `talos.nodeMarket: "spot"`: every node the template launches (tofu's aws_instance.talos_node) is
 * a one-time spot request. No max price is set, so EC2 charges
 * the current spot price and never more than the on-demand price: when the spot price would rise
 * above it, or EC2 needs the capacity back, the node is reclaimed. It is terminated, not stopped or
 * hibernated, and its root volume goes with it (delete on termination); the request is not renewed.
 */
export const SPOT_MARKET_OPTIONS = {
  marketType: "spot",
  spotOptions: { spotInstanceType: "one-time", instanceInterruptionBehavior: "terminate" },
} as const satisfies LaunchTemplateInstanceMarketOptions;

/** The launch template's market options for `talos.nodeMarket`: none means on-demand. */
export function nodeMarketOptions(market: InstanceMarket): LaunchTemplateInstanceMarketOptions | undefined {
  return market === "spot" ? SPOT_MARKET_OPTIONS : undefined;
}

/**
 * Spot nodes with unlimited credits: a warning, not a refusal. AWS: "If you launch Spot Instances
 * as unlimited and plan to use them immediately and for a short duration, with no idle time for
 * accruing CPU credits, you incur charges for surplus credits. We recommend that you launch your
 * Spot Instances in standard mode to avoid paying higher costs." (EC2 user guide, "Unlimited mode
 * for burstable performance instances",
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/burstable-performance-instances-unlimited-mode.html).
 * A session's node is exactly that, so every vCPU-hour above the
 * baseline is a surplus credit billed at $0.04. The combination still works and the cost model
 * prices that surplus (the "surplus CPU credits" line); standard credits would make the bootstrap
 * crawl at the baseline. The operator chooses, knowing the price.
 */
export const SPOT_UNLIMITED_WARNING = (type: string) =>
  `talos.nodeMarket is spot and talos.nodeCpuCredits unlimited on ${type}: AWS advises that burstable spot instances used immediately and for a short duration, ` +
  `"with no idle time for accruing CPU credits", launch in standard mode "to avoid paying higher costs" (EC2 user guide, "Unlimited mode for burstable performance instances"). ` +
  "Every vCPU-hour above the baseline bills as surplus credits (npm run cost shows the line); nodeCpuCredits standard avoids it at the price of a bootstrap at the baseline";

/** The site's Talos settings the nodes read; the boot mode comes as {@link TalosBoot}, with its payload. */
export type TalosNodeSettings = Readonly<Omit<SiteConfig["talos"], "boot" | "ipxeAmiId">>;

/**
 * How the nodes boot, with what that mode needs, so a mode without its payload does not compile.
 * - talos-ami: Sidero's official AMI, no user-data: the node waits in maintenance mode.
 * - ipxe: the iPXE AMI (`talos.ipxeAmiId`) with the iPXE script as user-data, chaining to matchbox.
 */
export type TalosBoot = { readonly mode: "talos-ami" } | { readonly mode: "ipxe"; readonly amiId: string; readonly script: string };

/** Props of {@link TalosNodes}. */
export interface TalosNodesProps {
  /** The site's Talos settings: boot mode, AMI, instance type, root volume, fixed addresses, versions. */
  readonly talos: TalosNodeSettings;
  readonly boot: TalosBoot;
  /** The nodes with their fixed addresses and EC2 names (the site view of `talos.nodeIps`), in launch order. */
  readonly nodes: readonly TalosNodeView[];
  readonly architecture: SiteConfig["architecture"];
  readonly region: string;
  /** The private subnet every node lives in. */
  readonly subnetId: string;
  /** talos-nodes-sg. */
  readonly securityGroupId: string;
  /** Talos API (`host:port`) and Kubernetes API (URL) endpoints, for the outputs. */
  readonly endpoints: { readonly talosApi: string; readonly kubernetes: string };
  /** Tags for the instances' volumes and interfaces (default_tags do not reach launch-template tag specifications). */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Sizing and consistency problems worth a warning but not a failed synth: the operator may run
 * an undersized lab on purpose.
 */
export function talosNodeWarnings(talos: TalosNodeSettings, boot: TalosBoot["mode"]): string[] {
  const warnings: string[] = [];
  const type = INSTANCE_TYPES[talos.nodeInstanceType];
  if (!type) {
    warnings.push(`talos.nodeInstanceType ${talos.nodeInstanceType} is not in config/instance-types.ts INSTANCE_TYPES; its memory cannot be checked`);
  } else if (type.memoryGiB < TALOS_CONTROL_PLANE_MIN_MEMORY_GIB) {
    warnings.push(
      `talos.nodeInstanceType ${talos.nodeInstanceType} has ${type.memoryGiB} GiB; Talos control-plane nodes need at least ${TALOS_CONTROL_PLANE_MIN_MEMORY_GIB} GiB`,
    );
  }
  if (talos.cozystack.enabled) {
    if (type && (type.memoryGiB < COZYSTACK_MIN_NODE.memoryGiB || type.vcpus < COZYSTACK_MIN_NODE.vcpus)) {
      warnings.push(
        `talos.nodeInstanceType ${talos.nodeInstanceType} has ${type.vcpus} vCPU / ${type.memoryGiB} GiB; CozyStack documents ` +
          `${COZYSTACK_MIN_NODE.vcpus} cores / ${COZYSTACK_MIN_NODE.memoryGiB} GB per node (e.g. t4g.xlarge); see docs/cozystack.md for small-node sizing`,
      );
    }
    if (talos.nodeRootVolumeGb < COZYSTACK_MIN_NODE.systemDiskGb) {
      warnings.push(`talos.nodeRootVolumeGb is ${talos.nodeRootVolumeGb}; CozyStack documents a system disk of at least ${COZYSTACK_MIN_NODE.systemDiskGb} GB`);
    }
    if (talos.schematicId === VANILLA_SCHEMATIC_ID) {
      warnings.push(
        "talos.schematicId is the empty Image Factory schematic: the drbd and zfs modules CozyStack loads are not in it; build a schematic with siderolabs/drbd and siderolabs/zfs (docs/cozystack.md)",
      );
    }
  }
  if (talos.nodeMarket === "spot" && talos.nodeCpuCredits === "unlimited" && type?.burstable) {
    warnings.push(SPOT_UNLIMITED_WARNING(talos.nodeInstanceType));
  }
  if (boot === "talos-ami" && talos.machineConfigUrl) {
    warnings.push("talos.machineConfigUrl is only used by the iPXE/matchbox boot; talos-ami nodes start in maintenance mode and take their config from talosctl apply-config");
  }
  return warnings;
}

/**
 * Talos nodes launched by `-var talos_node_count=N` (no Auto Scaling: a node is a cluster member
 * with a fixed address, not cattle). There is no hand launch: a node started outside OpenTofu
 * would get neither the stack's tags nor a session deadline (constructs/session-expiry.ts
 * schedules one per aws_instance.talos_node), so every node is one of these. One launch template `talos-node` for every
 * node; `aws_instance.talos_node[i]` takes talos.nodeIps[i], so the cluster endpoint is known
 * before anything runs.
 *
 * The AMI is looked up as `data.aws_ami.talos_node` in both boot modes so the root volume mapping
 * uses the image's own root device name (official Talos AMIs register /dev/xvda, iPXE's
 * aws-import registers /dev/sda1; on Graviton both appear as /dev/nvme0n1) and a wrong-architecture
 * iPXE AMI fails at plan time.
 */
export class TalosNodes extends Construct {
  readonly launchTemplate: LaunchTemplate;
  readonly nodeCount: TerraformVariable;
  readonly instances: Instance;

  constructor(scope: Construct, id: string, props: TalosNodesProps) {
    super(scope, id);
    this.validate(props);
    const ami = this.image(props);
    this.launchTemplate = this.template(props, ami);
    this.nodeCount = this.countVariable(props.nodes.length);
    this.instances = this.nodes(props);
    this.outputs(props);
    for (const warning of talosNodeWarnings(props.talos, props.boot.mode)) Annotations.of(this).addWarning(warning);
  }

  private validate(props: TalosNodesProps): void {
    if (props.boot.mode === "ipxe" && !props.boot.script.startsWith("#!ipxe")) {
      throw new Error("TalosNodes: user-data of the iPXE AMI must be an iPXE script starting with #!ipxe");
    }
  }

  private image(props: TalosNodesProps): DataAwsAmi {
    const { talos, boot, architecture, region } = props;
    const archFilter = { name: "architecture", values: [architecture] };
    const ami =
      boot.mode === "ipxe"
        ? new DataAwsAmi(this, "ami", { filter: [{ name: "image-id", values: [boot.amiId] }, archFilter] })
        : new DataAwsAmi(this, "ami", {
            owners: [TALOS_AMI_OWNER],
            mostRecent: true,
            // Sidero's uploader names each image talos-<version>-<region>-<arch>.
            filter: [{ name: "name", values: [`talos-${talos.version}-${region}-${talosArch(architecture)}`] }, archFilter],
          });
    ami.overrideLogicalId("talos_node");
    return ami;
  }

  private template(props: TalosNodesProps, ami: DataAwsAmi): LaunchTemplate {
    const { talos } = props;
    // Instances get their per-node Name and role from aws_instance.talos_node.
    const tagSpecifications = ["volume", "network-interface"].map((resourceType) => ({
      resourceType,
      tags: { ...props.tags, Name: resourceName("talos-node") },
    }));
    const template = new LaunchTemplate(this, "launch-template", {
      name: resourceName("talos-node"),
      description: `Talos ${talos.version} node, boot mode ${props.boot.mode}`,
      imageId: ami.id,
      instanceType: talos.nodeInstanceType,
      vpcSecurityGroupIds: [props.securityGroupId],
      // iPXE's EC2 build reads its script from user-data; the Talos AMI without user-data waits in maintenance mode.
      userData: props.boot.mode === "ipxe" ? Buffer.from(props.boot.script, "utf8").toString("base64") : undefined,
      instanceMarketOptions: nodeMarketOptions(talos.nodeMarket),
      updateDefaultVersion: true,
      ...hardenedLaunchTemplate({ instanceType: talos.nodeInstanceType, cpuCredits: talos.nodeCpuCredits, rootDeviceName: ami.rootDeviceName, rootVolumeGb: talos.nodeRootVolumeGb }),
      tagSpecifications,
    });
    template.overrideLogicalId("talos_node");
    return template;
  }

  private countVariable(max: number): TerraformVariable {
    const variable = new TerraformVariable(this, "count", {
      type: "number",
      default: 0,
      description: `Talos nodes to run from the talos-node launch template (0-${max}); node i gets talos.nodeIps[i]. 0 removes them.`,
    });
    variable.overrideLogicalId("talos_node_count");
    const value = variable.numberValue;
    variable.addValidation({
      // 0 on the left: cdktf 0.21 drops a right-hand operand that is 0.
      condition: Op.and(Op.and(Op.lte(0, value), Op.lte(value, max)), Op.eq(Fn.floor(value), value)),
      errorMessage: `talos_node_count must be a whole number from 0 to ${max} (one per address in talos.nodeIps).`,
    });
    return variable;
  }

  private nodes(props: TalosNodesProps): Instance {
    const ips = new TerraformLocal(this, "ips", props.nodes.map((node) => node.address));
    ips.overrideLogicalId("talos_node_ips");
    const names = new TerraformLocal(this, "names", props.nodes.map((node) => node.instanceName));
    names.overrideLogicalId("talos_node_names");
    const count = TerraformCount.of(this.nodeCount.numberValue);
    const instance = new Instance(this, "instance", {
      count,
      launchTemplate: { id: this.launchTemplate.id, version: this.launchTemplate.latestVersion.toString() },
      subnetId: props.subnetId,
      privateIp: Fn.element(ips.asList, count.index),
      tags: { Name: Fn.element(names.asList, count.index), [ROLE_TAG]: TALOS_NODE_ROLE },
      // The user-data belongs to the launch template. EC2 reports it on the instance too, and the
      // provider reads it into user_data, which this config leaves unset: without this every plan
      // after the first would show the iPXE script being removed from the running nodes.
      lifecycle: { ignoreChanges: ["user_data"] },
    });
    instance.overrideLogicalId("talos_node");
    return instance;
  }

  private outputs(props: TalosNodesProps): void {
    const output = (id: string, value: unknown, description: string) =>
      new TerraformOutput(this, id, { value, description }).overrideLogicalId(id);
    output("talos_node_ips", props.nodes.map((node) => node.address), "Fixed private addresses of the Talos nodes, in launch order");
    output("talos_node_instance_ids", propertyAccess(this.instances, ["*", "id"]), "Instances created by talos_node_count");
    output("talosctl_endpoint", props.endpoints.talosApi, "talosctl --endpoints value (the first node)");
    output("kubernetes_endpoint", props.endpoints.kubernetes, "Kubernetes API (the first node; a VPC has no L2 VIP)");
  }
}
