/** `npm run adopt`: copying an old state into place, reading a v4 state safely, matching its resources to ours, the preflight's rules. */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importId, inlineInstances, matchResources } from "../ops/adopt/match.js";
import { preflightProblems, type PlanJson } from "../ops/adopt/preflight.js";
import { readState, StateError, type StateInstance } from "../ops/adopt/state.js";
import { siteConfig, synthStack } from "./helpers/synth.js";
import { scratchDir } from "./helpers/processes.js";
import { bundled } from "./helpers/build.js";

const AWS = 'provider["registry.opentofu.org/hashicorp/aws"]';

function stateResource(module: string | undefined, type: string, name: string, attributes: Record<string, unknown>, indexKey?: number) {
  return { mode: "managed", type, name, ...(module ? { module } : {}), provider: AWS, instances: [{ ...(indexKey === undefined ? {} : { index_key: indexKey }), attributes }] };
}

/** A state shaped like the fixture's: a VPC module with two subnets and route tables, plus security groups. */
const LEGACY = {
  version: 4,
  terraform_version: "1.12.6",
  resources: [
    stateResource("module.vpc", "aws_vpc", "this", { id: "vpc-1", cidr_block: "10.20.0.0/16" }),
    stateResource("module.vpc", "aws_subnet", "a", { id: "subnet-pub", vpc_id: "vpc-1", cidr_block: "10.20.1.0/24", availability_zone: "eu-west-1b" }),
    stateResource("module.vpc", "aws_subnet", "b", { id: "subnet-priv", vpc_id: "vpc-1", cidr_block: "10.20.13.0/24", availability_zone: "eu-west-1a" }),
    stateResource("module.vpc", "aws_route_table", "x", { id: "rtb-pub", vpc_id: "vpc-1" }),
    stateResource("module.vpc", "aws_route_table", "y", { id: "rtb-priv", vpc_id: "vpc-1" }),
    stateResource("module.vpc", "aws_route_table_association", "x", { id: "rtbassoc-1", subnet_id: "subnet-pub", route_table_id: "rtb-pub" }),
    stateResource("module.vpc", "aws_route_table_association", "y", { id: "rtbassoc-2", subnet_id: "subnet-priv", route_table_id: "rtb-priv" }),
    stateResource("module.vpc", "aws_route", "inet", { id: "r-rtb-pub1080289494", route_table_id: "rtb-pub", destination_cidr_block: "0.0.0.0/0" }),
    stateResource(undefined, "aws_security_group", "bastion", { id: "sg-b", vpc_id: "vpc-1", name: "bastion-sg", description: "old words" }),
    stateResource(undefined, "aws_security_group", "elsewhere", { id: "sg-e", vpc_id: "vpc-other", name: "talos-nodes-sg" }),
    stateResource(undefined, "aws_eip", "one", { id: "eipalloc-1", tags: { Name: "deathstar-nat" } }, 0),
    stateResource(undefined, "aws_eip", "one", { id: "eipalloc-2", tags: { Name: "deathstar-nat" } }, 1),
    { mode: "data", type: "aws_ami", name: "al2023", provider: AWS, instances: [{ attributes: { id: "ami-1" } }] },
    { mode: "managed", type: "random_id", name: "x", provider: 'provider["registry.opentofu.org/hashicorp/random"]', instances: [{ attributes: { id: "r" } }] },
  ],
};

const dir = scratchDir("adopt");
function stateFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

describe("readState", () => {
  it("lists managed hashicorp/aws instances with module, index and attributes; other providers as foreign", () => {
    const state = readState(stateFile("legacy.tfstate", LEGACY));
    expect(state.instances.map((i) => i.address)).toContain("module.vpc.aws_subnet.a");
    expect(state.instances.map((i) => i.address)).toContain("aws_eip.one[1]");
    expect(state.instances.map((i) => i.address)).not.toContain("aws_ami.al2023");
    expect(state.foreign).toEqual(["random_id.x"]);
  });

  it.each([
    ["missing", undefined, /cannot read .*missing\.tfstate: ENOENT/],
    ["garbage", "not json", /is not JSON/],
    ["v3", { version: 3, terraform_version: "0.11.0", modules: [] }, /state format version 3; only version 4/],
    ["array", [], /top level is not an object/],
    ["no-resources", { version: 4, terraform_version: "1.0.0" }, /"terraform_version" or "resources" is missing/],
    ["foreign", { ...LEGACY, resources: LEGACY.resources.slice(-1) }, /holds no hashicorp\/aws resources \(only random_id\.x\); nothing to adopt/],
  ])("refuses %s state with a clear error", (name, content, message) => {
    const path = content === undefined ? join(dir, `${name}.tfstate`) : stateFile(`${name}.tfstate`, content);
    expect(() => readState(path)).toThrow(StateError);
    expect(() => readState(path)).toThrow(message);
  });
});

describe("matchResources", () => {
  const ours = synthStack(siteConfig({ network: { nat: "gateway" } })).resource;
  const existing = readState(stateFile("legacy.tfstate", LEGACY)).instances;
  const result = matchResources(ours, existing);
  const matchOf = (address: string) => result.matched.find((m) => m.ours === address);

  it("matches by identifying attributes, following references through earlier matches", () => {
    expect(matchOf("aws_vpc.main")?.existing.address).toBe("module.vpc.aws_vpc.this");
    expect(matchOf("aws_subnet.public")?.existing.address).toBe("module.vpc.aws_subnet.a");
    expect(matchOf("aws_subnet.private")?.by).toBe("vpc_id=vpc-1 cidr_block=10.20.13.0/24");
    // Route tables carry no identifying name: the subnets they serve decide.
    expect(matchOf("aws_route_table.public")?.existing.address).toBe("module.vpc.aws_route_table.x");
    expect(matchOf("aws_route_table.private")?.existing.address).toBe("module.vpc.aws_route_table.y");
    expect(matchOf("aws_route.public_default")?.existing.address).toBe("module.vpc.aws_route.inet");
    expect(matchOf("aws_security_group.bastion")?.existing.address).toBe("aws_security_group.bastion");
  });

  it("never matches across VPCs", () => {
    expect(matchOf("aws_security_group.talos_nodes")).toBeUndefined();
    expect(result.unmatchedOurs).toContainEqual({ ours: "aws_security_group.talos_nodes", reason: "no existing aws_security_group with vpc_id=vpc-1 name=talos-nodes-sg" });
    expect(result.unmatchedExisting.map((e) => e.address)).toContain("aws_security_group.elsewhere");
  });

  it("keeps attributes whose change would replace the matched object", () => {
    expect(matchOf("aws_security_group.bastion")?.keep).toEqual([{ attribute: "description", value: "old words" }]);
    expect(matchOf("aws_subnet.public")?.keep).toEqual([{ attribute: "availability_zone", value: "eu-west-1b" }]);
    expect(matchOf("aws_subnet.private")?.keep).toEqual([]);
  });

  it("reports two equally good candidates as ambiguous and adopts neither", () => {
    expect(result.ambiguous).toEqual([{ ours: "aws_eip.nat", by: "tags.Name=deathstar-nat", candidates: ["aws_eip.one[0]", "aws_eip.one[1]"] }]);
    expect(result.matched.map((m) => m.existing.address)).not.toContain("aws_eip.one[0]");
  });

  it("explains why ours matched nothing", () => {
    expect(result.unmatchedOurs).toContainEqual({
      ours: "aws_vpc_security_group_ingress_rule.talos_nodes_from_self",
      reason: "depends on ${aws_security_group.talos_nodes.id}, which matched nothing",
    });
    expect(result.unmatchedOurs).toContainEqual({ ours: "aws_nat_gateway.main", reason: "no existing aws_nat_gateway with subnet_id=subnet-pub" });
  });

  it("derives import ids the provider accepts", () => {
    const byAddress = (address: string): StateInstance => existing.find((e) => e.address === address)!;
    expect(importId(byAddress("module.vpc.aws_route.inet"))).toBe("rtb-pub_0.0.0.0/0");
    expect(importId(byAddress("module.vpc.aws_route_table_association.x"))).toBe("subnet-pub/rtb-pub");
    expect(importId(byAddress("module.vpc.aws_vpc.this"))).toBe("vpc-1");
  });
});

describe("inline routes and rules", () => {
  /** A route table with its default route inline, and a group with inline rules (one listing two sources). */
  const INLINE = {
    ...LEGACY,
    resources: [
      stateResource("module.net", "aws_vpc", "v", { id: "vpc-9", cidr_block: "10.20.0.0/16" }),
      stateResource("module.net", "aws_subnet", "pub", { id: "subnet-9", vpc_id: "vpc-9", cidr_block: "10.20.1.0/24", availability_zone: "eu-west-1a" }),
      stateResource("module.net", "aws_internet_gateway", "gw", { id: "igw-9", vpc_id: "vpc-9" }),
      stateResource("module.net", "aws_route_table", "pub", {
        id: "rtb-9",
        vpc_id: "vpc-9",
        route: [{ cidr_block: "0.0.0.0/0", gateway_id: "igw-9", ipv6_cidr_block: "" }],
      }),
      stateResource("module.net", "aws_route_table_association", "pub", { id: "rtbassoc-9", subnet_id: "subnet-9", route_table_id: "rtb-9" }),
      stateResource(undefined, "aws_security_group", "jump", {
        id: "sg-9",
        vpc_id: "vpc-9",
        name: "bastion-sg",
        ingress: [{ protocol: "tcp", from_port: 22, to_port: 22, cidr_blocks: [], ipv6_cidr_blocks: ["2001:db8::10/128", "2001:db8::11/128"], security_groups: [], self: false }],
        egress: [{ protocol: "-1", from_port: 0, to_port: 0, cidr_blocks: ["0.0.0.0/0"], ipv6_cidr_blocks: [], security_groups: [], self: false }],
      }),
    ],
  };
  const instances = readState(stateFile("inline.tfstate", INLINE)).instances;
  const inline = inlineInstances(instances);
  const ours = synthStack(siteConfig()).resource;
  const result = matchResources(ours, [...instances, ...inline]);
  const matchOf = (address: string) => result.matched.find((m) => m.ours === address);

  it("lists each inline route and each source of an inline rule as a standalone instance of its owner", () => {
    expect(inline.map((i) => [i.type, i.address, i.inlineIn])).toEqual([
      ["aws_route", 'module.net.aws_route_table.pub.route["0.0.0.0/0"]', "module.net.aws_route_table.pub"],
      ["aws_vpc_security_group_ingress_rule", 'aws_security_group.jump.ingress["tcp:22-22:2001:db8::10/128"]', "aws_security_group.jump"],
      ["aws_vpc_security_group_ingress_rule", 'aws_security_group.jump.ingress["tcp:22-22:2001:db8::11/128"]', "aws_security_group.jump"],
      ["aws_vpc_security_group_egress_rule", 'aws_security_group.jump.egress["-1:0-0:0.0.0.0/0"]', "aws_security_group.jump"],
    ]);
  });

  it("matches the stack's standalone default route to the inline one, importable by table and destination", () => {
    const route = matchOf("aws_route.public_default");
    expect(route?.existing.inlineIn).toBe("module.net.aws_route_table.pub");
    expect(importId(route!.existing)).toBe("rtb-9_0.0.0.0/0");
  });

  it("matches the stack's SSH rule to the inline rule with the same source, and only that one", () => {
    expect(matchOf("aws_vpc_security_group_ingress_rule.bastion_ssh_operator_0")?.existing.address).toBe('aws_security_group.jump.ingress["tcp:22-22:2001:db8::10/128"]');
    expect(result.unmatchedExisting.map((e) => e.address)).toContain('aws_security_group.jump.ingress["tcp:22-22:2001:db8::11/128"]');
  });
});

describe("preflightProblems", () => {
  const decisions = { version: 1 as const, state: "s", moved: [{ from: "module.vpc.aws_vpc.this", to: "aws_vpc.main" }], import: [{ to: "aws_route.public_default", id: "rtb-1_0.0.0.0/0" }], keep: [] };
  const existing: StateInstance[] = [
    { address: "module.vpc.aws_route_table.public", type: "aws_route_table", module: "module.vpc", attributes: { id: "rtb-1", vpc_id: "vpc-1" } },
    { address: "module.vpc.aws_security_group.talos", type: "aws_security_group", module: "module.vpc", attributes: { id: "sg-1", vpc_id: "vpc-1", name: "talos-nodes-sg" } },
  ];
  const change = (address: string, type: string, actions: string[], extra: Record<string, unknown> = {}) => ({ address, type, change: { actions, after: {}, ...extra } });
  const problems = (changes: ReturnType<typeof change>[], destroyable: string[] = []) =>
    preflightProblems({ resource_changes: changes } as PlanJson, decisions, existing, new Set(destroyable));

  it("passes a plan that moves, imports, updates in place, forgets and creates only what is new", () => {
    expect(
      problems([
        change("aws_vpc.main", "aws_vpc", ["update"]),
        change("aws_route.public_default", "aws_route", ["no-op"], { importing: { id: "rtb-1_0.0.0.0/0" } }),
        change("module.old.aws_iam_role.x", "aws_iam_role", ["forget"]),
        change("aws_security_group.talos_nodes", "aws_security_group", ["create"], { after: { vpc_id: "vpc-2", name: "talos-nodes-sg" } }),
        // A second route table in a VPC is no duplicate.
        change("aws_route_table.private", "aws_route_table", ["create"], { after: { vpc_id: "vpc-1" } }),
      ]),
    ).toEqual([]);
  });

  it("refuses to destroy or replace what was adopted, or to destroy what adopt did not decide", () => {
    expect(problems([change("aws_vpc.main", "aws_vpc", ["delete", "create"]), change("module.old.aws_iam_role.x", "aws_iam_role", ["delete"])])).toEqual([
      "aws_vpc.main: the plan would replace an adopted object",
      "module.old.aws_iam_role.x: the plan would destroy it, which adopt did not decide",
    ]);
    expect(problems([change("module.old.aws_iam_role.x", "aws_iam_role", ["delete"])], ["module.old.aws_iam_role.x"])).toEqual([]);
  });

  it("refuses to create an adopted address anew, or an object the old state holds", () => {
    expect(
      problems([
        change("aws_route.public_default", "aws_route", ["create"]),
        change("aws_security_group.talos_nodes", "aws_security_group", ["create"], { after: { vpc_id: "vpc-1", name: "talos-nodes-sg" } }),
      ]),
    ).toEqual([
      "aws_route.public_default: adopted, yet the plan would create it anew",
      "aws_security_group.talos_nodes: the plan would create it, but module.vpc.aws_security_group.talos already exists with the same identity (AWS refuses the duplicate)",
    ]);
  });
});

describe("an old ./terraform.tfstate", () => {
  const project = scratchDir("adopt-copy");
  const adopt = () =>
    spawnSync(process.execPath, [bundled("scripts/adopt.ts")], {
      cwd: project,
      env: { ...process.env, DEATHSTAR_CONFIG: "" },
      encoding: "utf8",
      timeout: 60_000,
    });

  it("is copied to the stack's own state path, byte for byte, and left where it was; the user is told to move it", () => {
    const old = `${JSON.stringify(LEGACY, null, 1)}\n`;
    writeFileSync(join(project, "terraform.tfstate"), old);
    const run = adopt();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Copied terraform\.tfstate to terraform\.deathstar\.tfstate \(state\.path\), the stack's own state; terraform\.tfstate is unchanged\.$/m);
    expect(run.stdout).toMatch(/cdktf synth refuses to run while \.\/terraform\.tfstate exists.*\n.*"mv terraform\.tfstate terraform\.tfstate\.pre-deathstar"/);
    expect(readFileSync(join(project, "terraform.tfstate"), "utf8")).toBe(old);
    expect(readFileSync(join(project, "terraform.deathstar.tfstate"), "utf8")).toBe(old);
    expect(readdirSync(project).sort()).toEqual(["terraform.deathstar.tfstate", "terraform.tfstate"]);
  });

  it("is never copied over a state the stack already has", () => {
    writeFileSync(join(project, "terraform.deathstar.tfstate"), "the stack's own\n");
    const run = adopt();
    expect(run.status).toBe(2);
    expect(run.stdout).not.toMatch(/Copied/);
    expect(readFileSync(join(project, "terraform.deathstar.tfstate"), "utf8")).toBe("the stack's own\n");
  });
});
