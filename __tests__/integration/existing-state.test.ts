/**
 * Keeping an existing hand-written setup, with the real tools against moto. The fixture
 * (__tests__/fixtures/existing: a VPC module and a scheduled bastion module with security groups,
 * IAM role, launch template and an Auto Scaling Group with start/stop schedules) is applied first
 * with tofu; then the stack takes its state over two ways:
 *   1. module mode: the config lists the fixture's modules, the stack calls them under their old
 *      names, and the plan against the old state only adds;
 *   2. adopt mode: `npm run adopt -- <state>` matches the old resources to ours and writes moved
 *      blocks (same state) or import blocks (other state, then the old state's `tofu state rm`
 *      script from docs/existing-state.md runs); its own preflight plan and ours destroy nothing.
 * adopt's preflight plans in cdktf.out/stacks/deathstar, so each scenario synthesizes once
 * without the adopt file first and puts the test-only moto override there (synth carries it over).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MotoServer, standInAmis } from "../helpers/moto.js";
import { REPO_ROOT, synthProject } from "../helpers/project.js";
import { motoTargets, planActions, motoProxy, Tofu, writeMotoOverride, type PlanJson } from "../helpers/tofu.js";
import { siteConfig } from "../helpers/synth.js";
import { toolchain, type Toolchain } from "../helpers/toolchain.js";
import { blockCommandsWith } from "../helpers/docs.js";
import { overrideForMoto, UserShell, userEnv } from "../helpers/user-shell.js";
import { scratchDir } from "../helpers/processes.js";
import { bundled } from "../helpers/build.js";

const execFileAsync = promisify(execFile);
const FIXTURE = join(REPO_ROOT, "__tests__", "fixtures", "existing");
/** Where the fixture lives inside each throwaway project root. */
const LEGACY_DIR = "legacy";
const FIXTURE_STATE = join(LEGACY_DIR, "terraform.tfstate");
/** What the fixture calls (it has no synthesized JSON to derive it from): one default provider. */
const FIXTURE_TARGETS = { services: ["autoscaling", "ec2", "iam", "sts"], aliases: [undefined] };

let tools: Toolchain;
let moto: MotoServer;
const root = scratchDir("existing");

/** The fixture's module calls as `existing.modules` config: same names, same inputs. */
const MODULE_MODE = {
  modules: [
    {
      name: "vpc",
      source: `${LEGACY_DIR}/modules/vpc`,
      inputs: { cidr_block: "10.20.0.0/16", public_subnet_cidr: "10.20.1.0/24", private_subnet_cidr: "10.20.13.0/24", availability_zone: "eu-west-1a" },
      outputs: { vpcId: "vpc_id", publicSubnetId: "public_subnet_id", privateSubnetId: "private_subnet_id", privateRouteTableId: "private_route_table_id" },
    },
    {
      name: "bastion",
      source: `${LEGACY_DIR}/modules/bastion`,
      inputs: {
        vpc_id: { fromModule: "vpc", output: "vpc_id" },
        subnet_id: { fromModule: "vpc", output: "private_subnet_id" },
        operator_ssh_source: "2001:db8::10/128",
        schedule_time_zone: "Europe/Dublin",
      },
      outputs: { bastionSecurityGroupId: "bastion_security_group_id", talosNodesSecurityGroupId: "talos_nodes_security_group_id" },
    },
  ],
};

beforeAll(async () => {
  tools = toolchain();
  moto = await MotoServer.start(tools.venv, { amis: standInAmis(siteConfig()) });
  cpSync(FIXTURE, join(root, LEGACY_DIR), { recursive: true });
  writeMotoOverride(join(root, LEGACY_DIR), moto.endpoint, tools.awsProviderVersion, FIXTURE_TARGETS);
  const legacy = new Tofu(tools, join(root, LEGACY_DIR));
  await legacy.init();
  await legacy.apply();
});

afterAll(async () => {
  await moto?.stop();
});

/** A copy of the fixture's state under `name`, so each scenario starts from the same old state. */
function stateCopy(name: string): string {
  copyFileSync(join(root, FIXTURE_STATE), join(root, name));
  return name;
}

/** A new cdktf.out for `config` (without its adopt file, which adopt has yet to write), with the moto override in it. */
async function freshStackDir(config: { existing?: object }): Promise<void> {
  rmSync(join(root, "cdktf.out"), { recursive: true, force: true });
  const { stackDir } = await synthProject(root, { ...config, existing: { ...config.existing, adoptFile: undefined } });
  overrideForMoto(stackDir, moto.endpoint, tools);
}

async function stackTofu(config: Record<string, unknown>): Promise<Tofu> {
  const { stackDir, json } = await synthProject(root, config);
  writeMotoOverride(stackDir, moto.endpoint, tools.awsProviderVersion, motoTargets(json));
  const tofu = new Tofu(tools, stackDir, motoProxy(moto.endpoint));
  await tofu.init();
  return tofu;
}

async function adopt(statePath: string, ...options: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return execFileAsync(process.execPath, [bundled("scripts/adopt.ts"), statePath, ...options], {
    cwd: root,
    // tofu on PATH for the preflight, every AWS call on moto.
    env: { ...userEnv(tools, moto.endpoint), DEATHSTAR_CONFIG: join(root, "config.json") },
    timeout: 120_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, stdout: error.stdout ?? "", stderr: error.stderr ?? "" }),
  );
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

describe.sequential("an existing hand-written setup", () => {
  it("adopt mode, same state: moved blocks, and the plan destroys nothing that matched", async () => {
    const state = stateCopy("adopt-moved.tfstate");
    const config = { state: { backend: "local", path: state }, network: { nat: "instance" }, existing: { modules: [], adoptFile: "adopt.json" } };
    await freshStackDir(config);
    writeFileSync(join(root, "config.json"), JSON.stringify(config));
    const before = sha256(join(root, state));
    const run = await adopt(state);
    expect(run.code, run.stderr).toBe(0);
    expect(sha256(join(root, state)), "adopt must not modify the state file").toBe(before);

    const decisions = JSON.parse(readFileSync(join(root, "adopt.json"), "utf8")) as { moved: { from: string; to: string }[]; import: unknown[] };
    expect(decisions.import).toEqual([]);
    expect(decisions.moved).toEqual(
      expect.arrayContaining([
        { from: "module.vpc.aws_vpc.this", to: "aws_vpc.main" },
        { from: "module.vpc.aws_subnet.public", to: "aws_subnet.public" },
        { from: "module.vpc.aws_subnet.private", to: "aws_subnet.private" },
        { from: "module.vpc.aws_internet_gateway.this", to: "aws_internet_gateway.main" },
        { from: "module.vpc.aws_route_table.public", to: "aws_route_table.public" },
        { from: "module.vpc.aws_route_table.private", to: "aws_route_table.private" },
        { from: "module.vpc.aws_route.public_internet", to: "aws_route.public_default" },
        { from: "module.bastion.aws_security_group.bastion", to: "aws_security_group.bastion" },
        { from: "module.bastion.aws_security_group.talos", to: "aws_security_group.talos_nodes" },
        { from: "module.bastion.aws_vpc_security_group_ingress_rule.bastion_from_talos", to: "aws_vpc_security_group_ingress_rule.bastion_from_talos_nodes" },
      ]),
    );
    expect(run.stdout).toMatch(/^moved +module\.vpc\.aws_vpc\.this +aws_vpc\.main +cidr_block=10\.20\.0\.0\/16/m);
    expect(run.stdout).toMatch(/^unmatched +module\.bastion\.aws_autoscaling_group\.bastion +- +forgotten/m);
    expect(run.stdout).toMatch(/^Preflight passed: .*destroy 0;/m);

    const tofu = await stackTofu(config);
    const plan = await tofu.planJson();
    const actions = planActions(plan);
    expect([...(actions.delete ?? []), ...(actions.replace ?? [])], "--unmatched forget (the default) destroys nothing").toEqual([]);
    // What the plan forgets is exactly what adopt reported as unmatched (and so said it would).
    expect(actions.forget?.length).toBeGreaterThan(0);
    for (const address of actions.forget ?? []) expect(run.stdout).toMatch(new RegExp(`^unmatched +${escape(address)} `, "m"));
    expect(previousAddresses(plan)).toEqual(expect.arrayContaining(decisions.moved.map((m) => [m.to, m.from])));
  });

  it("adopt mode, --unmatched destroy: the plan destroys exactly what nothing matched, and the preflight accepts it", async () => {
    const state = stateCopy("adopt-destroy.tfstate");
    const config = { state: { backend: "local", path: state }, network: { nat: "instance" }, existing: { modules: [], adoptFile: "adopt.json" } };
    await freshStackDir(config);
    writeFileSync(join(root, "config.json"), JSON.stringify(config));
    const run = await adopt(state, "--unmatched", "destroy");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^unmatched +module\.bastion\.aws_autoscaling_group\.bastion +- +DESTROYED by the next apply/m);
    const decisions = JSON.parse(readFileSync(join(root, "adopt.json"), "utf8")) as { moved: { to: string }[]; removed: unknown[] };
    expect(decisions.removed).toEqual([]);

    const actions = planActions(await (await stackTofu(config)).planJson());
    expect(actions.replace ?? []).toEqual([]);
    expect(actions.delete).toEqual(expect.arrayContaining(["module.bastion.aws_autoscaling_group.bastion"]));
    for (const address of actions.delete ?? []) expect(run.stdout).toMatch(new RegExp(`^unmatched +${escape(address)} `, "m"));
    expect((actions.delete ?? []).filter((address) => decisions.moved.some((m) => m.to === address))).toEqual([]);
  });

  it("adopt mode, other state: import blocks that take the existing objects over, and the old state forgets them", async () => {
    const state = stateCopy("adopt-import-source.tfstate");
    const config = { state: { backend: "local", path: "adopt-import.tfstate" }, network: { nat: "instance" }, existing: { modules: [], adoptFile: "adopt.json" } };
    // The stack has a state of its own already, so adopt copies nothing and imports.
    writeFileSync(join(root, "adopt-import.tfstate"), JSON.stringify({ version: 4, terraform_version: tools.tofuVersion, serial: 1, lineage: "3c1e6f0a-0000-4000-8000-000000000001", outputs: {}, resources: [] }));
    await freshStackDir(config);
    writeFileSync(join(root, "config.json"), JSON.stringify(config));
    const run = await adopt(state);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(/^Copied/m);
    const decisions = JSON.parse(readFileSync(join(root, "adopt.json"), "utf8")) as { moved: unknown[]; import: { to: string; id: string }[] };
    expect(decisions.moved).toEqual([]);
    expect(decisions.import.find((i) => i.to === "aws_vpc.main")?.id).toMatch(/^vpc-/);
    expect(decisions.import.find((i) => i.to === "aws_route.public_default")?.id).toMatch(/^rtb-[0-9a-f]+_0\.0\.0\.0\/0$/);
    expect(run.stdout).toMatch(/^  tofu state rm -state='adopt-import-source\.tfstate' 'module\.vpc\.aws_vpc\.this'$/m);

    const tofu = await stackTofu(config);
    const plan = await tofu.planJson();
    const imported = new Set((plan.resource_changes ?? []).filter((c) => c.change.importing).map((c) => c.address));
    expect([...imported].sort()).toEqual(decisions.import.map((i) => i.to).sort());
    const actions = planActions(plan);
    expect([...(actions.delete ?? []), ...(actions.replace ?? [])]).toEqual([]);
    expect((actions.create ?? []).filter((address) => imported.has(address))).toEqual([]);

    // docs/existing-state.md: the old state forgets what the stack adopted.
    const shell = new UserShell(root, userEnv(tools, moto.endpoint));
    for (const command of blockCommandsWith("docs/existing-state.md", "sh adopt.state-rm.sh")) await shell.ok(command);
    const left = (JSON.parse(readFileSync(join(root, state), "utf8")) as { resources: { module?: string; type: string; name: string }[] }).resources.map(
      (r) => `${r.module ? `${r.module}.` : ""}${r.type}.${r.name}`,
    );
    expect(left).not.toContain("module.vpc.aws_vpc.this");
    expect(left).not.toContain("module.bastion.aws_security_group.bastion");
    expect(left, "what nothing matched stays in the old state").toContain("module.bastion.aws_autoscaling_group.bastion");
  });

  it("adopt refuses unreadable or foreign state and leaves the file untouched", async () => {
    writeFileSync(join(root, "config.json"), JSON.stringify({ existing: { modules: [], adoptFile: "adopt-refused.json" } }));
    const cases: Record<string, string> = {
      "garbage.tfstate": "this is not json\n",
      "v3.tfstate": JSON.stringify({ version: 3, terraform_version: "0.11.14", modules: [] }),
      "google.tfstate": JSON.stringify({
        version: 4,
        terraform_version: "1.9.0",
        resources: [{ mode: "managed", type: "google_compute_network", name: "main", provider: 'provider["registry.terraform.io/hashicorp/google"]', instances: [{ attributes: { id: "n" } }] }],
      }),
    };
    for (const [name, content] of Object.entries(cases)) {
      writeFileSync(join(root, name), content);
      const before = sha256(join(root, name));
      const run = await adopt(name);
      expect(run.code, `${name}: ${run.stdout}`).toBe(2);
      expect(run.stderr).toMatch(/^adopt: .*\n.*state file was not modified/m);
      expect(sha256(join(root, name))).toBe(before);
    }
    expect(() => readFileSync(join(root, "adopt-refused.json"))).toThrow();
  });

  it("module mode: the old modules keep their addresses, the plan only adds, and it applies", async () => {
    const state = stateCopy("module-mode.tfstate");
    rmSync(join(root, "cdktf.out"), { recursive: true, force: true });
    const tofu = await stackTofu({ state: { backend: "local", path: state }, network: { nat: "instance" }, existing: MODULE_MODE });
    const actions = planActions(await tofu.planJson());
    expect(actions.delete ?? [], "nothing destroyed").toEqual([]);
    expect(actions.replace ?? [], "nothing replaced").toEqual([]);
    expect(actions.update ?? [], "the old modules are called exactly as before").toEqual([]);
    expect(actions.create).toEqual(expect.arrayContaining(["aws_route.private_default", "aws_network_interface.nat_instance", "aws_vpc_dhcp_options.main"]));
    expect((actions.create ?? []).filter((address) => address.startsWith("module."))).toEqual([]);

    await tofu.apply();
    expect((await tofu.planExitCode()).code, "a second plan must show no changes").toBe(0);
    await tofu.destroy();
    const { vpcs, instances, networkInterfaces, volumes, addresses } = await moto.inventory("eu-west-1");
    expect({ vpcs, instances, networkInterfaces, volumes, addresses }).toEqual({ vpcs: [], instances: [], networkInterfaces: [], volumes: [], addresses: [] });
  });
});

function previousAddresses(plan: PlanJson): [string, string][] {
  return (plan.resource_changes ?? []).filter((c) => c.previous_address).map((c) => [c.address, c.previous_address!]);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
