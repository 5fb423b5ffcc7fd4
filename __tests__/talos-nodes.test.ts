import { describe, expect, it } from "vitest";
import { AnnotationMetadataEntryType, TerraformStack, Testing } from "cdktf";
import { decodeUserData, resource, resourceAddresses, siteConfig, synthStack, type SynthesizedStack } from "./helpers/synth.js";
import { DeathStarStack } from "../stacks/deathstar.js";
import { COZYSTACK_MIN_NODE } from "../config/cozystack.js";
import { SPOT_UNLIMITED_WARNING, TALOS_AMI_OWNER, TalosNodes, talosNodeWarnings, type TalosBoot, type TalosNodesProps } from "../constructs/talos-nodes.js";
import { KUBERNETES_API_PORT, TALOS_API_PORT } from "../constructs/security.js";
import { renderIpxeScript } from "../templates/ipxe.js";
import { VANILLA_SCHEMATIC_ID } from "../config/talos.js";
import { siteView } from "../config/site-view.js";

const IPXE_AMI = "ami-0123456789abcdef0";
const ipxeConfig = () => siteConfig({ talos: { boot: "ipxe", ipxeAmiId: IPXE_AMI } });

function dataSource(stack: SynthesizedStack, type: string, name: string): Record<string, unknown> {
  const found = stack.data?.[type]?.[name];
  if (!found) throw new Error(`data.${type}.${name} is not in the stack`);
  return found;
}

function filters(ami: Record<string, unknown>): Record<string, unknown[]> {
  return Object.fromEntries((ami.filter as { name: string; values: unknown[] }[]).map((f) => [f.name, f.values]));
}

describe("talos-node launch template (both boot modes)", () => {
  for (const [mode, config] of [["talos-ami", siteConfig()], ["ipxe", ipxeConfig()]] as const) {
    it(`${mode}: arm64 type, talos-nodes-sg, IMDSv2, encrypted gp3 root on the AMI's root device, unlimited credits (a session bootstraps a cluster)`, () => {
      const template = resource(synthStack(config), "aws_launch_template", "talos_node");
      expect(template.name).toBe("deathstar-talos-node");
      expect(template.instance_type).toBe(config.talos.nodeInstanceType);
      expect(template.image_id).toBe("${data.aws_ami.talos_node.id}");
      expect(template.vpc_security_group_ids).toEqual(["${aws_security_group.talos_nodes.id}"]);
      expect(template.metadata_options).toMatchObject({ http_tokens: "required", http_endpoint: "enabled", http_put_response_hop_limit: 1 });
      expect(template.credit_specification).toEqual({ cpu_credits: "unlimited" });
      expect(template.block_device_mappings).toEqual([
        {
          device_name: "${data.aws_ami.talos_node.root_device_name}",
          ebs: { volume_size: config.talos.nodeRootVolumeGb, volume_type: "gp3", encrypted: "true", delete_on_termination: "true" },
        },
      ]);
      // Manual launch only: no Auto Scaling group uses this template.
      const groups = Object.values(synthStack(config).resource.aws_autoscaling_group ?? {});
      expect(groups.some((group) => JSON.stringify(group).includes("aws_launch_template.talos_node"))).toBe(false);
    });
  }

  it("talos-ami: official Talos AMI by owner and exact name for version, region and arch; no user-data", () => {
    const stack = synthStack(siteConfig());
    const ami = dataSource(stack, "aws_ami", "talos_node");
    expect(ami.owners).toEqual([TALOS_AMI_OWNER]);
    expect(ami.most_recent).toBe(true);
    expect(filters(ami)).toEqual({ name: ["talos-v1.11.6-eu-west-1-arm64"], architecture: ["arm64"] });
    expect(resource(stack, "aws_launch_template", "talos_node").user_data).toBeUndefined();
  });

  it("talos-ami: the AMI name follows the configured version and architecture", () => {
    const config = siteConfig({
      architecture: "x86_64",
      bastion: { instanceType: "t3.small" },
      network: { natInstance: { instanceType: "t3.nano" } },
      // No CozyStack: its pinned release ships another Talos version.
      talos: { version: "v1.12.0", nodeInstanceType: "t3.large", cozystack: { enabled: false } },
    });
    const ami = dataSource(synthStack(config), "aws_ami", "talos_node");
    expect(filters(ami)).toEqual({ name: ["talos-v1.12.0-eu-west-1-amd64"], architecture: ["x86_64"] });
  });

  it("ipxe: the configured iPXE AMI (checked to be of the nodes' architecture at plan time) and the iPXE script as user-data", () => {
    const config = ipxeConfig();
    const stack = synthStack(config);
    expect(filters(dataSource(stack, "aws_ami", "talos_node"))).toEqual({ "image-id": [IPXE_AMI], architecture: ["arm64"] });
    const template = resource(stack, "aws_launch_template", "talos_node");
    const userData = decodeUserData(template);
    expect(userData).toBe(renderIpxeScript(config));
    expect(userData.startsWith("#!ipxe\n")).toBe(true);
    expect(userData).toContain(`chain --autofree http://10.20.13.140:${config.services.matchboxPort}/ipxe?ip=\${net0/ip}&mac=\${mac:hexhyp}&uuid=\${uuid}`);
  });

  it("talos.architecture moves the nodes alone: amd64 Talos AMI or iPXE AMI, x86 type, beside the Graviton bastion and NAT instance", () => {
    const amd64 = { architecture: "x86_64", nodeInstanceType: "t3a.xlarge" };
    // With a NAT instance, so that both Graviton instances of the site can be seen to stay arm64.
    const ami = synthStack(siteConfig({ talos: amd64, network: { nat: "instance" } }));
    expect(filters(dataSource(ami, "aws_ami", "talos_node"))).toEqual({ name: ["talos-v1.11.6-eu-west-1-amd64"], architecture: ["x86_64"] });
    const ipxe = synthStack(siteConfig({ talos: { ...amd64, boot: "ipxe", ipxeAmiId: IPXE_AMI }, network: { nat: "instance" } }));
    expect(filters(dataSource(ipxe, "aws_ami", "talos_node"))).toEqual({ "image-id": [IPXE_AMI], architecture: ["x86_64"] });
    for (const stack of [ami, ipxe]) {
      expect(resource(stack, "aws_launch_template", "talos_node").instance_type).toBe("t3a.xlarge");
      expect(resource(stack, "aws_launch_template", "bastion")).toMatchObject({ instance_type: "t4g.small", image_id: expect.stringMatching(/-arm64$/) });
      expect(resource(stack, "aws_launch_template", "nat_instance")).toMatchObject({ instance_type: "t4g.nano", image_id: expect.stringMatching(/-arm64$/) });
    }
  });

  it("talos.nodeMarket on-demand (the default): the template asks for no market options", () => {
    expect(siteConfig().talos.nodeMarket).toBe("on-demand");
    expect(resource(synthStack(siteConfig()), "aws_launch_template", "talos_node")).not.toHaveProperty("instance_market_options");
  });

  for (const [mode, config] of [
    ["talos-ami", siteConfig({ talos: { nodeMarket: "spot" } })],
    ["ipxe", siteConfig({ talos: { nodeMarket: "spot", boot: "ipxe", ipxeAmiId: IPXE_AMI } })],
  ] as const) {
    it(`${mode}, talos.nodeMarket spot: one-time spot requests terminated on interruption, no max price; same addresses, hardening kept`, () => {
      const stack = synthStack(config); // runs the security rules, as cdktf synth does
      const template = resource(stack, "aws_launch_template", "talos_node");
      expect(template.instance_market_options).toEqual({
        market_type: "spot",
        spot_options: { spot_instance_type: "one-time", instance_interruption_behavior: "terminate" },
      });
      // No max_price: EC2 charges the spot price, capped at the on-demand price.
      expect(JSON.stringify(template.instance_market_options)).not.toContain("max_price");
      expect(template.metadata_options).toMatchObject({ http_tokens: "required", http_put_response_hop_limit: 1 });
      expect(template.block_device_mappings).toEqual([expect.objectContaining({ ebs: expect.objectContaining({ encrypted: "true", delete_on_termination: "true" }) })]);
      // The nodes take the market from the template: aws_instance.talos_node is unchanged.
      const onDemand = synthStack(siteConfig(mode === "ipxe" ? { talos: { boot: "ipxe", ipxeAmiId: IPXE_AMI } } : {}));
      expect(resource(stack, "aws_instance", "talos_node")).toEqual(resource(onDemand, "aws_instance", "talos_node"));
      expect(resourceAddresses(stack)).toEqual(resourceAddresses(onDemand));
      const { instance_market_options: _market, ...rest } = template;
      expect(rest).toEqual(resource(onDemand, "aws_launch_template", "talos_node"));
    });
  }

  it.each(["m7g.xlarge", "a1.metal"])("%s: no credit specification, whatever talos.nodeCpuCredits says (EC2 refuses one for a type without credits)", (nodeInstanceType) => {
    const config = siteConfig({ talos: { nodeInstanceType, nodeCpuCredits: "unlimited" } });
    const template = resource(synthStack(config), "aws_launch_template", "talos_node");
    expect(template.instance_type).toBe(nodeInstanceType);
    expect(template.credit_specification).toBeUndefined();
  });
});

describe("talos_node_count", () => {
  it("is a number variable, default 0, validated to 0..number of node addresses", () => {
    const variable = synthStack(siteConfig()).variable?.talos_node_count;
    expect(variable).toMatchObject({ type: "number", default: 0 });
    const [validation] = variable!.validation as { condition: string; error_message: string }[];
    expect(validation!.condition).toBe(
      "${(((0 <= var.talos_node_count) && (var.talos_node_count <= 3)) && (floor(var.talos_node_count) == var.talos_node_count))}",
    );
    expect(validation!.error_message).toContain("0 to 3");
  });

  it("follows the number of configured addresses", () => {
    const config = siteConfig({ talos: { nodeIps: ["10.20.13.21"] }, usage: { nodesPerSession: 1 } });
    const [validation] = synthStack(config).variable!.talos_node_count!.validation as { condition: string }[];
    expect(validation!.condition).toContain("var.talos_node_count <= 1)");
  });

  it("creates that many instances from the template, node i at talos.nodeIps[i] in the private subnet", () => {
    const stack = synthStack(siteConfig()) as SynthesizedStack & { locals: Record<string, unknown> };
    const instance = resource(stack, "aws_instance", "talos_node");
    expect(instance).toEqual({
      count: "${var.talos_node_count}",
      launch_template: { id: "${aws_launch_template.talos_node.id}", version: "${aws_launch_template.talos_node.latest_version}" },
      subnet_id: "${aws_subnet.private.id}",
      private_ip: "${element(local.talos_node_ips, count.index)}",
      tags: { Name: "${element(local.talos_node_names, count.index)}", "deathstar:role": "talos-node" },
      // EC2 reports the template's user-data on the instance; it is not the instance's to change.
      lifecycle: { ignore_changes: ["user_data"] },
    });
    expect(stack.locals.talos_node_ips).toEqual(["10.20.13.11", "10.20.13.12", "10.20.13.13"]);
    expect(stack.locals.talos_node_names).toEqual(["deathstar-talos-1", "deathstar-talos-2", "deathstar-talos-3"]);
  });
});

describe("outputs", () => {
  it("node addresses, talosctl and Kubernetes endpoints, and no command that launches a node outside OpenTofu", () => {
    const output = synthStack(siteConfig()).output!;
    expect(output.talos_node_ips!.value).toEqual(["10.20.13.11", "10.20.13.12", "10.20.13.13"]);
    expect(output.talos_node_instance_ids!.value).toBe("${aws_instance.talos_node[*].id}");
    expect(output.talosctl_endpoint!.value).toBe(`10.20.13.11:${TALOS_API_PORT}`);
    expect(output.kubernetes_endpoint!.value).toBe(`https://10.20.13.11:${KUBERNETES_API_PORT}`);
    // A node launched by hand would carry no session deadline and none of the stack's tags.
    expect(Object.keys(output).sort()).toEqual(["kubernetes_endpoint", "talos_node_instance_ids", "talos_node_ips", "talosctl_endpoint"]);
  });
});

describe("sizing warnings", () => {
  it("warn (not fail) when CozyStack is enabled on nodes smaller than it documents", () => {
    const warnings = talosNodeWarnings(siteConfig({ talos: { architecture: "x86_64", nodeInstanceType: "t3.small", cozystack: { enabled: true } } }).talos, "talos-ami");
    expect(warnings.join("\n")).toMatch(/t3\.small has 2 vCPU \/ 2 GiB; CozyStack documents 4 cores \/ 16 GB/);
    expect(warnings.join("\n")).toMatch(new RegExp(`nodeRootVolumeGb is 20; .*at least ${COZYSTACK_MIN_NODE.systemDiskGb} GB`));
    expect(warnings.join("\n")).toContain("empty Image Factory schematic");
  });

  it("are silent for a node CozyStack's documentation accepts", () => {
    const schematic = "a".repeat(64);
    const talos = siteConfig({ talos: { architecture: "x86_64", nodeInstanceType: "t3a.xlarge", nodeRootVolumeGb: 64, schematicId: schematic, cozystack: { enabled: true } } }).talos;
    expect(talos.cozystack.enabled).toBe(true);
    expect(schematic).not.toBe(VANILLA_SCHEMATIC_ID);
    expect(talosNodeWarnings(talos, "talos-ami")).toEqual([]);
  });

  it("only Talos' own minimum applies when CozyStack is off", () => {
    expect(talosNodeWarnings(siteConfig({ talos: { cozystack: { enabled: false } } }).talos, "talos-ami")).toEqual([]);
    expect(talosNodeWarnings(siteConfig({ talos: { nodeInstanceType: "t4g.micro", cozystack: { enabled: false } } }).talos, "talos-ami")).toEqual([
      "talos.nodeInstanceType t4g.micro has 1 GiB; Talos control-plane nodes need at least 2 GiB",
    ]);
  });

  it("quote AWS's advice when spot nodes have unlimited credits, and only then", () => {
    const spot = (credits: "standard" | "unlimited") => siteConfig({ talos: { nodeMarket: "spot", nodeCpuCredits: credits, cozystack: { enabled: false } } }).talos;
    expect(talosNodeWarnings(spot("unlimited"), "talos-ami")).toEqual([SPOT_UNLIMITED_WARNING("t4g.small")]);
    expect(SPOT_UNLIMITED_WARNING("t4g.small")).toMatch(/"to avoid paying higher costs"/);
    expect(talosNodeWarnings(spot("standard"), "talos-ami")).toEqual([]);
    expect(talosNodeWarnings(siteConfig({ talos: { nodeCpuCredits: "unlimited", cozystack: { enabled: false } } }).talos, "talos-ami")).toEqual([]);
  });

  it("name a machine config URL that only the iPXE boot reads", () => {
    const talos = siteConfig({ talos: { machineConfigUrl: "http://10.20.13.140:8080/config", cozystack: { enabled: false } } }).talos;
    expect(talosNodeWarnings(talos, "talos-ami").join("\n")).toContain("talos.machineConfigUrl is only used by the iPXE/matchbox boot");
    expect(talosNodeWarnings(talos, "ipxe")).toEqual([]);
  });

  it("reach cdktf's annotations, which `cdktf synth` prints, and do not fail the synth", () => {
    const app = Testing.app();
    const stack = new DeathStarStack(app, siteConfig());
    expect(() => Testing.synth(stack)).not.toThrow();
    const warnings = stack.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === AnnotationMetadataEntryType.WARN)
      .map((entry) => String(entry.data));
    expect(warnings).toEqual(talosNodeWarnings(siteConfig().talos, "talos-ami"));
  });
});

describe("TalosNodes props", () => {
  const props = (boot: TalosBoot): TalosNodesProps => ({
    talos: siteConfig().talos,
    boot,
    nodes: siteView(siteConfig()).nodes,
    architecture: "arm64",
    region: "eu-west-1",
    subnetId: "subnet-1",
    securityGroupId: "sg-1",
    endpoints: { talosApi: "10.20.13.11:50000", kubernetes: "https://10.20.13.11:6443" },
    tags: {},
  });
  const build = (p: TalosNodesProps) => () => new TalosNodes(new TerraformStack(Testing.app(), "stack"), "nodes", p);

  it("a boot mode without its payload, or with a payload it does not take, does not compile", () => {
    // tsc --noEmit (npm test, npm run test:fast) fails if any of these lines compiles.
    // @ts-expect-error iPXE needs its AMI and script
    const noPayload: TalosBoot = { mode: "ipxe" };
    // @ts-expect-error the Talos AMI takes no user-data
    const stray: TalosBoot = { mode: "talos-ami", script: renderIpxeScript(siteConfig()) };
    expect([noPayload, stray]).toHaveLength(2);
  });

  it("reject user-data for the iPXE AMI that is not an iPXE script", () => {
    expect(build(props({ mode: "ipxe", amiId: IPXE_AMI, script: "#!/bin/sh\n" }))).toThrow(/must be an iPXE script/);
    expect(build(props({ mode: "ipxe", amiId: IPXE_AMI, script: renderIpxeScript(ipxeConfig()) }))).not.toThrow();
  });
});
