/** Existing setups: `existing` config rules, module mode synth, and the adopt file at synth. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config/load.js";
import { DeathStarStack } from "../stacks/deathstar.js";
import { ownerLabModules } from "./helpers/owner-lab.js";
import { configProblems, resource, resourceAddresses, siteConfig, type SynthesizedStack } from "./helpers/synth.js";
import { scratchDir } from "./helpers/processes.js";

const FIXTURE_MODULES = "__tests__/fixtures/existing/modules";
const vpcModule = {
  name: "vpc",
  source: `${FIXTURE_MODULES}/vpc`,
  inputs: { cidr_block: "10.20.0.0/16", public_subnet_cidr: "10.20.1.0/24", private_subnet_cidr: "10.20.13.0/24", availability_zone: "eu-west-1a" },
  outputs: { vpcId: "vpc_id", publicSubnetId: "public_subnet_id", privateSubnetId: "private_subnet_id", privateRouteTableId: "private_route_table_id" },
};
const bastionModule = {
  name: "bastion",
  source: `${FIXTURE_MODULES}/bastion`,
  inputs: { vpc_id: { fromModule: "vpc", output: "vpc_id" }, subnet_id: { fromModule: "vpc", output: "private_subnet_id" }, operator_ssh_source: "${oops}", schedule_time_zone: "UTC" },
  outputs: { bastionSecurityGroupId: "bastion_security_group_id", talosNodesSecurityGroupId: "talos_nodes_security_group_id" },
};

const problems = (existing: unknown) => configProblems({ existing } as Record<string, unknown>);

function synth(config = siteConfig(), projectRoot?: string): SynthesizedStack {
  return JSON.parse(Testing.synth(new DeathStarStack(Testing.app(), config, { projectRoot }))) as SynthesizedStack;
}

describe("existing.modules config", () => {
  it("accepts the fixture's modules in dependency order", () => {
    expect(problems({ modules: [vpcModule, bastionModule] })).toEqual([]);
  });

  it.each([
    ["../outside", /existing\.modules\.0\.source: must stay inside the project/],
    ["/abs/path", /existing\.modules\.0\.source: (must stay inside the project|must be a relative path)/],
    ["modules/$(rm)", /existing\.modules\.0\.source: must be a relative path of plain characters/],
  ])("rejects the module source %s", (source, message) => {
    expect(problems({ modules: [{ ...vpcModule, source }] }).join("\n")).toMatch(message);
  });

  it("rejects a reference to a module listed later, naming the fix", () => {
    expect(problems({ modules: [bastionModule, vpcModule] })).toContain(
      'existing.modules.0.inputs.vpc_id: refers to module "vpc", which is not listed before "bastion"; list the modules in dependency order',
    );
  });

  it("rejects part of a network, a feed given twice, and duplicate names", () => {
    const partial = { ...vpcModule, outputs: { vpcId: "vpc_id" } };
    expect(problems({ modules: [partial] }).join("\n")).toMatch(/outputs provide part of the network \(vpcId\); also map publicSubnetId, privateSubnetId, privateRouteTableId, or none of them/);
    const twice = { ...vpcModule, name: "vpc2" };
    expect(problems({ modules: [vpcModule, twice] })).toContain('existing.modules.1.outputs.vpcId: is already provided by module "vpc"');
    expect(problems({ modules: [vpcModule, { ...vpcModule, outputs: {} }] })).toContain('existing.modules.1.name: module "vpc" is listed twice');
  });

  it("rejects unknown feeds", () => {
    expect(problems({ modules: [{ ...vpcModule, outputs: { natGatewayId: "x" } }] }).join("\n")).toMatch(/unknown key "natGatewayId"/);
  });
});

describe("module mode synth", () => {
  const stack = synth(siteConfig({ network: { nat: "instance" }, existing: { modules: [vpcModule, bastionModule] } } as Record<string, unknown>));
  const modules = (stack as unknown as { module: Record<string, Record<string, unknown>> }).module;

  it("calls the modules under their old names, by a path relative to the stack directory", () => {
    expect(Object.keys(modules).sort()).toEqual(["bastion", "vpc"]);
    expect(modules.vpc!.source).toBe(`../../../${FIXTURE_MODULES}/vpc`);
    expect(modules.bastion!.vpc_id).toBe("${module.vpc.vpc_id}");
  });

  it("lets the modules inherit a default provider without our tags, so nothing they made changes; ours carry the tags", () => {
    expect(modules.vpc!.providers, "no mapping: no \"undefined provider\" warning for a module without required_providers").toBeUndefined();
    const providers = stack.provider.aws as Record<string, unknown>[];
    expect(providers.find((p) => p.alias === undefined)).toEqual({ region: "eu-west-1" });
    expect(providers.find((p) => p.alias === "deathstar")?.default_tags).toBeDefined();
    expect(resource(stack, "aws_route", "private_default").provider).toBe("aws.deathstar");
    // Every aws_* resource of ours uses the alias; OpenTofu's own terraform_data takes no provider.
    const ours = Object.entries(stack.resource).flatMap(([type, byName]) => Object.values(byName).map((r) => [type, r.provider] as const));
    expect(ours.filter(([type, provider]) => type.startsWith("aws_") && provider !== "aws.deathstar")).toEqual([]);
    expect(resource(stack, "terraform_data", "talos_session").provider).toBeUndefined();
    expect((stack.data?.aws_caller_identity?.current as Record<string, unknown> | undefined)?.provider ?? Object.values(stack.data?.aws_caller_identity ?? {})[0]?.provider).toBe("aws.deathstar");
  });

  it("passes literals as data: template syntax in a config value is escaped", () => {
    expect(modules.bastion!.operator_ssh_source).toBe("$${oops}");
  });

  it("creates no network or security groups of its own and wires ours to the module outputs", () => {
    const addresses = resourceAddresses(stack);
    for (const own of ["aws_vpc.main", "aws_subnet.public", "aws_route_table.private", "aws_security_group.bastion", "aws_default_security_group.default"]) {
      expect(addresses).not.toContain(own);
    }
    expect(resource(stack, "aws_route", "private_default").route_table_id).toBe("${module.vpc.private_route_table_id}");
    expect(resource(stack, "aws_network_interface", "nat_instance").subnet_id).toBe("${module.vpc.public_subnet_id}");
    expect(resource(stack, "aws_vpc_dhcp_options_association", "main").vpc_id).toBe("${module.vpc.vpc_id}");
  });

  it("refuses a missing module directory as a config error naming existing.modules.0.source", () => {
    expect(() => siteConfig({ existing: { modules: [{ ...vpcModule, source: "no/such/module" }] } } as Record<string, unknown>)).toThrow(
      /existing\.modules\.0\.source: "no\/such\/module" is not a directory/,
    );
  });
});

describe("module mode with a module that provides only the VPC and a public subnet", () => {
  const { network, jump } = ownerLabModules("__tests__/fixtures/owner-lab/modules");
  const stack = synth(siteConfig({ network: { nat: "instance" }, existing: { modules: [network, jump] } } as Record<string, unknown>));
  const modules = (stack as unknown as { module: Record<string, Record<string, unknown>> }).module;

  it("accepts the VPC and public subnet alone, and indexed outputs and inputs", () => {
    expect(problems({ modules: [network, jump] })).toEqual([]);
    expect(problems({ modules: [{ ...network, outputs: { vpcId: "vpc_id", publicSubnetId: "x", privateSubnetId: "y" } }] }).join("\n")).toMatch(
      /outputs provide part of the network \(vpcId, publicSubnetId, privateSubnetId\); also map privateRouteTableId, or none of them \(or only vpcId and publicSubnetId/,
    );
    expect(problems({ modules: [{ ...network, outputs: { vpcId: { output: "vpc_id", index: -1 } } }] }).join("\n")).toMatch(/existing\.modules\.0\.outputs\.vpcId/);
  });

  it("indexes list outputs, as inputs of another module and as our inputs", () => {
    expect(modules.jump!.subnet_id).toBe("${module.network.public_subnet_ids[0]}");
    expect(resource(stack, "aws_network_interface", "nat_instance").subnet_id).toBe("${module.network.public_subnet_ids[0]}");
  });

  it("with the bastion as its own NAT: the bastion in the module's public subnet, its egress-only group in the module's VPC, the security rules pass", () => {
    const own = synth(siteConfig({ network: { nat: "bastion" }, existing: { modules: [network, jump] } } as Record<string, unknown>));
    expect(resource(own, "aws_autoscaling_group", "bastion").vpc_zone_identifier).toEqual(["${module.network.public_subnet_ids[0]}"]);
    expect(resource(own, "aws_security_group", "bastion_public").vpc_id).toBe("${module.network.vpc_id}");
    expect(resource(own, "aws_route", "private_default").network_interface_id).toBe("${aws_network_interface.bastion.id}");
  });

  it("adds only the private subnet and its route table, inside the module's VPC: never a second VPC", () => {
    const addresses = resourceAddresses(stack);
    for (const own of ["aws_vpc.main", "aws_subnet.public", "aws_internet_gateway.main", "aws_route_table.public", "aws_route.public_default"]) {
      expect(addresses).not.toContain(own);
    }
    expect(resource(stack, "aws_subnet", "private")).toMatchObject({ vpc_id: "${module.network.vpc_id}", cidr_block: "10.20.13.0/24" });
    expect(resource(stack, "aws_route_table", "private").vpc_id).toBe("${module.network.vpc_id}");
    expect(resource(stack, "aws_route_table_association", "private")).toMatchObject({ subnet_id: "${aws_subnet.private.id}", route_table_id: "${aws_route_table.private.id}" });
    expect(resource(stack, "aws_route", "private_default").route_table_id).toBe("${aws_route_table.private.id}");
  });
});

describe("adopt file at synth", () => {
  const dir = scratchDir("adopt-synth");
  const withAdoptFile = (content: unknown) => {
    writeFileSync(join(dir, "adopt.json"), JSON.stringify(content));
    return siteConfig({ network: { nat: "instance" }, existing: { modules: [], adoptFile: "adopt.json" } } as Record<string, unknown>);
  };
  const decisions = {
    version: 1,
    state: "terraform.tfstate",
    moved: [{ from: "module.vpc.aws_vpc.this", to: "aws_vpc.main" }],
    import: [{ to: "aws_iam_role.nat_instance", id: "deathstar-nat_instance" }],
    keep: [
      { address: "aws_security_group.bastion", attribute: "description", value: "bastion" },
      // A rule the old group holds inline stays inline: ours is not created beside it.
      { address: "aws_vpc_security_group_ingress_rule.bastion_ssh_operator_0", attribute: "count", value: 0 },
    ],
    removed: [{ from: "module.bastion.aws_autoscaling_group.bastion" }],
  };

  it("emits moved and import blocks and keeps replacing attributes at their existing values", () => {
    const stack = synth(withAdoptFile(decisions), dir);
    expect(stack.moved).toEqual(decisions.moved);
    expect(stack.import).toEqual(decisions.import);
    expect(resource(stack, "aws_security_group", "bastion").description).toBe("bastion");
    expect(resource(stack, "aws_vpc_security_group_ingress_rule", "bastion_ssh_operator_0").count).toBe(0);
    expect(stack.removed).toEqual([{ from: "module.bastion.aws_autoscaling_group.bastion", lifecycle: { destroy: false } }]);
  });

  it("refuses a target that is not one of our resources (stale file)", () => {
    const stale = { ...decisions, moved: [{ from: "aws_vpc.old", to: "aws_vpc.gone" }] };
    expect(() => synth(withAdoptFile(stale), dir)).toThrow(/aws_vpc\.gone is not a resource of this stack; run "npm run adopt" again/);
  });

  it("refuses a malformed file with the field that is wrong", () => {
    expect(() => synth(withAdoptFile({ ...decisions, moved: [{ from: "x", to: "aws_vpc.main" }] }), dir)).toThrow(ConfigError);
  });
});
