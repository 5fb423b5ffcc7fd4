/**
 * docs/existing-state.md's journeys as a user types them, in a fresh copy of the repository, with
 * the real tools against moto, over a hand-written lab applied first (__tests__/fixtures/owner-lab):
 *
 * - adopt: `npm run adopt` copies the lab's state into place, the preflight plan passes, the first
 *   apply succeeds, the second plan and a later synth are empty, and nothing adopted changed its id;
 * - module mode: the lab's modules are kept and joined, and no second VPC is ever planned.
 *
 * The commands are read out of the docs' shell blocks and run one by one through bash in the
 * directory the user would be in. The README's own journey (synth → apply → synth again with an
 * empty plan → cost → nodes → teardown → destroy) runs in runbooks.test.ts, on the one default
 * stack every runbook shares.
 *
 * The test's own additions, never part of what the user runs: a moto_override.tf.json in the
 * stack directory (provider endpoints on moto; every synth carries override files over), the
 * toolchain's tofu on PATH with its offline provider mirror, and AWS_ENDPOINT_URL for the aws CLI.
 * Each journey's moto goes when the journey ends, with everything applied to it: no cleanup
 * destroy (one spends minutes in the provider's waiters and proves nothing asked here).
 */
import { createHash } from "node:crypto";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, it } from "vitest";
import { MotoServer, standInAmis } from "../helpers/moto.js";
import { siteConfig } from "../helpers/synth.js";
import { OWNER_LAB_DIR, ownerLabModules } from "../helpers/owner-lab.js";
import { synthProject } from "../helpers/project.js";
import { planActions, motoProxy, Tofu, writeMotoOverride } from "../helpers/tofu.js";
import { toolchain, type Toolchain } from "../helpers/toolchain.js";
import { scratchDir } from "../helpers/processes.js";
import { blockCommandsWith } from "../helpers/docs.js";
import { freshCopy, overrideForMoto, UserShell, userEnv } from "../helpers/user-shell.js";

const STACK_DIR = join("cdktf.out", "stacks", "deathstar");
const REGION = siteConfig().aws.region;

let tools: Toolchain;
/** The fresh copies: made inside concurrent tests, so removed with this directory after the file. */
const work = scratchDir("journey");

beforeAll(() => {
  tools = toolchain();
});

/**
 * A moto server of the test's own, stopped when the test finishes: the journeys run side by side
 * (each mostly waits on the provider's waiters), so none may see another's resources.
 */
async function motoFor(onTestFinished: (fn: () => Promise<void>) => void): Promise<MotoServer> {
  // The owner's lab attaches an AWS managed policy: moto knows them only when asked to load them.
  const moto = await MotoServer.start(tools.venv, { amis: standInAmis(siteConfig()), env: { MOTO_IAM_LOAD_MANAGED_POLICIES: "true" } });
  onTestFinished(() => moto.stop());
  return moto;
}

// Concurrent tests take `expect` and `onTestFinished` from their own context.
/** What the old lab calls (it has no synthesized JSON to derive it from): one default provider. */
const OWNER_LAB_TARGETS = { services: ["autoscaling", "ec2", "iam", "sts"], aliases: [undefined] };

/**
 * A fresh copy, with the owner's hand-written lab (__tests__/fixtures/owner-lab) in its legacy/
 * folder, applied against `moto` with its own local state: where either journey over the lab starts.
 */
async function freshCopyWithOwnerLab(moto: MotoServer): Promise<{ root: string; stackDir: string; legacyDir: string }> {
  const root = freshCopy("journey", work);
  const legacyDir = join(root, "legacy");
  cpSync(OWNER_LAB_DIR, legacyDir, { recursive: true });
  writeMotoOverride(legacyDir, moto.endpoint, tools.awsProviderVersion, OWNER_LAB_TARGETS);
  const legacy = new Tofu(tools, legacyDir);
  await legacy.init();
  await legacy.apply();
  return { root, stackDir: join(root, STACK_DIR), legacyDir };
}

interface StateFile {
  resources: { module?: string; type: string; name: string; instances: { attributes: Record<string, unknown> }[] }[];
}

/** `type.name` (module-qualified) → the id of its first instance. */
function idsOf(path: string): Record<string, unknown> {
  const state = JSON.parse(readFileSync(path, "utf8")) as StateFile;
  return Object.fromEntries(state.resources.filter((r) => r.instances.length > 0).map((r) => [`${r.module ? `${r.module}.` : ""}${r.type}.${r.name}`, r.instances[0]!.attributes.id]));
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

describe.concurrent("docs/existing-state.md's adopt journey in a fresh copy", () => {
  it("adopts a hand-written lab: copy, preflight, first apply succeeds, empty plans after it and after a synth", async ({ expect, onTestFinished }) => {
    const moto = await motoFor(onTestFinished);
    const { root, legacyDir } = await freshCopyWithOwnerLab(moto);
    const oldState = join(legacyDir, "terraform.tfstate");
    const oldIds = idsOf(oldState);
    const oldStateHash = sha256(oldState);
    // The test-only override must be in the stack directory before adopt's preflight plans there.
    const { stackDir: synthesized } = await synthProject(root, { existing: { modules: [] } });
    overrideForMoto(synthesized, moto.endpoint, tools);
    rmSync(join(root, "config.json"));

    const user = new UserShell(root, userEnv(tools, moto.endpoint));
    const adoptBlock = blockCommandsWith("docs/existing-state.md", "npm run adopt", root);
    let adoptOutput = "";
    for (const command of adoptBlock) adoptOutput += await user.ok(command);
    expect(adoptOutput).toMatch(/^Copied legacy\/terraform\.tfstate to terraform\.deathstar\.tfstate \(state\.path\)/m);
    expect(sha256(oldState), "the old state is only read").toBe(oldStateHash);
    expect(adoptOutput).toMatch(/^moved +module\.network\.aws_vpc\.this +aws_vpc\.main /m);
    expect(adoptOutput).toMatch(/^moved +module\.network\.aws_subnet\.public\[0\] +aws_subnet\.public /m);
    expect(adoptOutput).toMatch(/^import +module\.network\.aws_route_table\.public\.route\["0\.0\.0\.0\/0"\] +aws_route\.public_default /m);
    expect(adoptOutput).toMatch(/^TAKEOVER +default SG sg-\S+ +aws_default_security_group\.default +every rule/m);
    expect(adoptOutput).toMatch(/^TAKEOVER +DHCP options \S+ +aws_vpc_dhcp_options_association\.main +the VPC's DNS servers become/m);
    expect(adoptOutput).toMatch(/^unmatched +module\.jump\.aws_autoscaling_group\.this +- +forgotten: leaves the state, stays in AWS/m);
    expect(adoptOutput).toMatch(/^Preflight passed: tofu plan would .*destroy 0; nothing adopted is destroyed or replaced/m);

    const applyBlock = blockCommandsWith("docs/existing-state.md", "tofu apply", root);
    expect(applyBlock).toEqual(["cd cdktf.out/stacks/deathstar", "tofu apply", "tofu plan -detailed-exitcode"]);
    for (const command of applyBlock) await user.ok(command);

    const ids = idsOf(join(root, "terraform.deathstar.tfstate"));
    expect(ids["aws_vpc.main"], "the VPC kept its id").toBe(oldIds["module.network.aws_vpc.this"]);
    expect(ids["aws_subnet.public"]).toBe(oldIds["module.network.aws_subnet.public"]);
    expect(ids["aws_route_table.public"]).toBe(oldIds["module.network.aws_route_table.public"]);
    expect(ids["aws_internet_gateway.main"]).toBe(oldIds["module.network.aws_internet_gateway.this"]);
    expect(Object.keys(ids).filter((address) => address.startsWith("module.")), "forgotten resources left the stack's state").toEqual([]);
    // Forgotten, not destroyed: the old jump host's group is still in AWS.
    const groups = await user.ok("aws autoscaling describe-auto-scaling-groups --region eu-west-1 --query 'AutoScalingGroups[].AutoScalingGroupName' --output text");
    expect(groups).toMatch(/homelab-jump/);

    for (const command of blockCommandsWith("docs/existing-state.md", "cd ../../..", root)) await user.ok(command);
  });
});

describe.concurrent("module mode over the owner's lab", () => {
  it("keeps its modules, joins a VPC module that has only a public subnet, and never plans a second VPC", async ({ expect, onTestFinished }) => {
    const moto = await motoFor(onTestFinished);
    const { root, stackDir, legacyDir } = await freshCopyWithOwnerLab(moto);
    const oldIds = idsOf(join(legacyDir, "terraform.tfstate"));

    const { network, jump } = ownerLabModules("legacy/modules");
    const modules = [network, jump];
    writeFileSync(join(root, "site.json"), JSON.stringify({ existing: { modules } }));
    const user = new UserShell(root, { ...userEnv(tools, moto.endpoint), DEATHSTAR_CONFIG: "site.json" });
    // No existing.adoptFile: adopt only copies the old state into place.
    expect(await user.ok("npm run adopt -- legacy/terraform.tfstate")).toMatch(/^existing\.adoptFile is not set: nothing else to decide/m);
    await user.ok("npm run synth");
    overrideForMoto(stackDir, moto.endpoint, tools);
    const tofu = new Tofu(tools, stackDir, motoProxy(moto.endpoint));
    const init = await tofu.init();
    expect(`${init.stdout}${init.stderr}`).not.toMatch(/undefined provider/i);
    const actions = planActions(await tofu.planJson());
    expect([...(actions.delete ?? []), ...(actions.replace ?? []), ...(actions.update ?? [])], "the old modules plan exactly as before").toEqual([]);
    expect((actions.create ?? []).filter((address) => address.startsWith("module.") || address.startsWith("aws_vpc."))).toEqual([]);
    expect(actions.create).toEqual(expect.arrayContaining(["aws_subnet.private", "aws_route_table.private", "aws_route.private_default"]));
    await tofu.apply();
    expect((await tofu.planExitCode()).code, "a second plan shows no changes").toBe(0);
    const ids = idsOf(join(root, "terraform.deathstar.tfstate"));
    expect(ids["module.network.aws_vpc.this"]).toBe(oldIds["module.network.aws_vpc.this"]);
    const { vpcs } = await moto.inventory(REGION);
    expect(vpcs, "one VPC: the module's").toEqual([oldIds["module.network.aws_vpc.this"]]);
  });
});
