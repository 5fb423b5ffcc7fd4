/**
 * The runbooks as a reader types them. Every shell block of README.md, SECURITY.md and docs/*.md
 * marked `runs: __tests__/integration/runbooks.test.ts` is read from the markdown (helpers/docs.ts)
 * and run by bash, unchanged, in a fresh copy of the repository: `npm ci` and `npm run synth`
 * there, OpenTofu and the AWS provider from the cached toolchain, the AWS CLI on PATH, moto as
 * the account. The blocks run in the order a reader follows them: deploy, nodes up and down,
 * secrets, the bastion, the scans, cost, pause, destroy, then the config and cost examples.
 * `tofu apply` prompts are answered "yes", as the reader would.
 *
 * What moto cannot show is not run here and says so in its marker (Session Manager sessions,
 * Talos nodes, downloads from the internet). Every `talosctl` line of the docs, and of the
 * rendered talos/README.md, is checked against the CLI of the pinned Talos release instead: each
 * subcommand exists and takes each flag used.
 */
import { execFile, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STACK_NAME } from "../../stacks/deathstar.js";
import { blockCommands, blockCommandsWith, docBlock, docFiles, inlineCommands, shellBlocks, type DocBlock } from "../helpers/docs.js";
import { MotoServer, standInAmis } from "../helpers/moto.js";
import { siteConfig } from "../helpers/synth.js";
import { MOTO_OVERRIDE_FILE, motoOverride, motoTargets, type TerraformJson } from "../helpers/tofu.js";
import { CACHE_DIR, toolchain, type Toolchain } from "../helpers/toolchain.js";
import { scratchDir, tail } from "../helpers/processes.js";
import { copyRepository, userEnv, userTofu } from "../helpers/user-shell.js";

const execFileAsync = promisify(execFile);
const THIS_TEST = "__tests__/integration/runbooks.test.ts";
const BLOCK_TIMEOUT_MS = 15 * 60_000;
const site = siteConfig();
const REGION = site.aws.region;

let tools: Toolchain;
let moto: MotoServer;
const work = scratchDir("runbooks");
/** The fresh copy of the repository the blocks run in. */
let root: string;
let stackDir: string;
let env: NodeJS.ProcessEnv;
/** Blocks this file ran, to check that it ran every block marked for it. */
const ran = new Set<string>();

const key = (block: DocBlock) => `${block.file}:${block.line}`;

interface BlockResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs blocks in one bash (so variables one block sets reach the next, as in the reader's shell),
 * with `set -eo pipefail` so that any failing command fails the block, and an endless "yes" on
 * stdin for OpenTofu's approval prompts. `commands` picks some commands of a single block instead.
 */
function runBlocks(blocks: readonly DocBlock[], cwd: string, options: { commands?: readonly string[]; strict?: boolean; path?: string } = {}): Promise<BlockResult> {
  for (const block of blocks) ran.add(key(block));
  const script = options.commands ? options.commands.join("\n") : blocks.map((block) => block.text).join("\n");
  const shell = options.strict === false ? "bash" : "bash -eo pipefail";
  return new Promise((resolve, reject) => {
    const blockEnv = options.path ? { ...env, PATH: `${options.path}:${env.PATH}` } : env;
    const child = spawn("bash", ["-c", `yes yes | ${shell} -c "$1"`, "runbook", script], { cwd, env: blockEnv, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), BLOCK_TIMEOUT_MS);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs blocks and expects exit 0, showing the tail of the output otherwise. */
async function runOk(blocks: readonly DocBlock[], cwd: string, options: { commands?: readonly string[]; path?: string } = {}): Promise<BlockResult> {
  const result = await runBlocks(blocks, cwd, options);
  const where = blocks.map((block) => `${key(block)} (${block.heading})`).join(", ");
  expect(result.code, `${where} exited ${result.code}:\n${tail(result.stdout)}\n--- stderr ---\n${tail(result.stderr)}`).toBe(0);
  return result;
}

/** The AWS CLI against moto, for the test's own checks (not a doc command). */
async function aws(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("aws", [...args, "--region", REGION, "--output", "json"], { env, timeout: 60_000 });
  return stdout;
}

/**
 * `tofu` on the blocks' PATH: the user's (userTofu in helpers/user-shell.ts), run with the test-only moto override
 * (provider pinned to the version built, every endpoint on moto) next to cdk.tf.json for the
 * length of the command.
 */
function writeTofuWrapper(bin: string, override: string): void {
  const wrapper = join(bin, "tofu");
  writeFileSync(
    wrapper,
    [
      "#!/usr/bin/env bash",
      "dir=.",
      'for arg in "$@"; do case $arg in -chdir=*) dir=${arg#-chdir=} ;; esac; done',
      "placed=",
      `if [ -f "$dir/cdk.tf.json" ] && [ ! -f "$dir/${MOTO_OVERRIDE_FILE}" ]; then cp '${override}' "$dir/${MOTO_OVERRIDE_FILE}"; placed=1; fi`,
      // The user's tofu, with moto as its proxy for S3 Control's account-prefixed host.
      `'${userTofu(tools)}' "$@"`,
      "code=$?",
      // Gone again afterwards, so that what else reads the directory (checkov) sees what a reader has.
      `if [ -n "$placed" ]; then rm -f "$dir/${MOTO_OVERRIDE_FILE}"; fi`,
      "exit $code",
      "",
    ].join("\n"),
  );
  chmodSync(wrapper, 0o755);
}

/** The AWS CLI on PATH must honour AWS_ENDPOINT_URL (CLI v1 ≥ 1.29, v2 ≥ 2.13), or it would call AWS itself. */
async function checkAwsCli(): Promise<void> {
  const { stdout, stderr } = await execFileAsync("aws", ["--version"]);
  const [, major, minor] = /aws-cli\/(\d+)\.(\d+)/.exec(stdout + stderr) ?? [];
  const ok = (Number(major) === 1 && Number(minor) >= 29) || (Number(major) === 2 && Number(minor) >= 13);
  if (!ok) throw new Error(`the aws CLI on PATH (${(stdout + stderr).trim()}) ignores AWS_ENDPOINT_URL; put a newer one first on PATH`);
}

const readStack = () => JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")) as TerraformJson & { resource: Record<string, unknown> };

async function instances(filters: readonly string[]): Promise<{ InstanceId: string; PrivateIpAddress?: string }[]> {
  const out = JSON.parse(await aws("ec2", "describe-instances", "--filters", ...filters)) as { Reservations: { Instances: { InstanceId: string; PrivateIpAddress?: string }[] }[] };
  return out.Reservations.flatMap((r) => r.Instances);
}

const runningNodes = () => instances(["Name=instance-state-name,Values=pending,running", "Name=tag:Name,Values=deathstar-talos-*"]);

describe.sequential("runbooks against moto, in a fresh copy", () => {
  beforeAll(async () => {
    tools = toolchain();
    await checkAwsCli();
    root = join(work, "repo");
    stackDir = join(root, "cdktf.out", "stacks", STACK_NAME);
    copyRepository(root);
    // Nodes go up and down at their fixed addresses in several runbooks.
    moto = await MotoServer.start(tools.venv, { amis: standInAmis(site), releaseTerminatedAddresses: true });
    const bin = join(work, "bin");
    mkdirSync(bin);
    writeTofuWrapper(bin, join(work, MOTO_OVERRIDE_FILE));
    mkdirSync(join(CACHE_DIR, "plugin-cache"), { recursive: true });
    const user = userEnv(tools, moto.endpoint);
    env = { ...user, PATH: `${bin}:${user.PATH}` };
  });

  afterAll(async () => {
    // Whatever a failed step left applied goes with moto; the copy (and its node_modules) with work, after this.
    await moto?.stop();
  });

  it("deploy.md: npm ci and npm run synth in the fresh copy (the README's first line)", async () => {
    const synthesize = docBlock("docs/deploy.md", "1. Synthesize");
    // The README's first command is this block on one line; it is not run twice.
    expect(blockCommandsWith("README.md", "npm ci && npm run synth", root)[0]?.replace(/\s+#.*$/, "")).toBe(blockCommands(synthesize.text).join(" && "));
    const synthesized = await runOk([synthesize], root);
    expect(synthesized.stdout, "synth prints the projected cost").toMatch(/projected/i);
    // The test-only override, for what this synth produced; the tofu wrapper places it.
    writeFileSync(join(work, MOTO_OVERRIDE_FILE), JSON.stringify(motoOverride(moto.endpoint, tools.awsProviderVersion, motoTargets(readStack()))));
    expect(readStack().resource).toHaveProperty("aws_vpc");
  });

  it("deploy.md and README: init, plan, apply; the second apply changes nothing", async () => {
    const first = await runOk([docBlock("docs/deploy.md", "2. Apply")], root);
    expect(first.stdout).toMatch(/Apply complete! Resources: [1-9]\d* added, 0 changed, 0 destroyed/);
    const again = await runOk([docBlock("README.md", "Deploying with OpenTofu")], root);
    expect(again.stdout).toMatch(/No changes\./);
    expect(site.state.backend === "local" && existsSync(join(root, site.state.path)), "state lands at state.path, at the repo root").toBe(true);
    expect(readdirSync(root).filter((name) => name.endsWith(".tfstate")), "one state, at the default path, which cdktf accepts").toEqual(["terraform.deathstar.tfstate"]);
  });

  it("README: npm run synth again where the reader stands keeps tofu init's work; the plan is empty without a re-init", async () => {
    const lockBefore = readFileSync(join(stackDir, ".terraform.lock.hcl"), "utf8");
    const again = await runOk([], stackDir, { commands: ["npm run synth"] });
    expect(again.stdout + again.stderr).toMatch(/terraform\.deathstar\.lock\.hcl: provider lock updated/);
    expect(readFileSync(join(stackDir, ".terraform.lock.hcl"), "utf8"), "the lock file is unchanged").toBe(lockBefore);
    expect(readFileSync(join(root, "terraform.deathstar.lock.hcl"), "utf8"), "and committed at the root").toBe(lockBefore);
    await runOk([], stackDir, { commands: ["tofu plan -detailed-exitcode -input=false"] });
  });

  it("README, deploy.md, netboot.md: three nodes up, their outputs, the Talos files, back to none", async () => {
    const nodes = docBlock("README.md", "Talos nodes");
    // One block, word for word in the three runbooks: run once, it runs for each of them.
    for (const [file, heading] of [
      ["docs/deploy.md", "3. Nodes, only while you experiment"],
      ["docs/netboot.md", "Launching and removing nodes"],
    ] as const) {
      const same = docBlock(file, heading);
      expect(same.text, `${file} (${heading}) repeats the README's block`).toBe(nodes.text);
      ran.add(key(same));
    }
    const result = await runOk([nodes], stackDir);
    // Three nodes, the session's deadline and one expiry schedule per node (docs/cost.md, "Sessions end by themselves").
    expect(result.stdout, "nodes up").toMatch(/Apply complete! Resources: 7 added/);
    expect(result.stdout, "their addresses in the outputs").toMatch(/talos_node_ips = \[\s*"10\.20\.13\.11",\s*"10\.20\.13\.12",\s*"10\.20\.13\.13",?\s*\]/);
    expect(result.stdout, "nodes gone").toMatch(/Apply complete! Resources: 0 added, 0 changed, 7 destroyed/);
    expect(await runningNodes()).toEqual([]);
    // render:talos ran from the stack directory; npm runs scripts in the package root.
    expect(existsSync(join(root, "talos", "README.md"))).toBe(true);
  });

  // Step 0 writes the override (amd64 nodes, CozyStack on) and exports DEATHSTAR_CONFIG: it runs in
  // the same shell as each step that follows it, as in the reader's.
  const cozystackConfig = () => docBlock("docs/cozystack.md", "0. Choose sizes and images (site config)");

  it("cozystack.md: the override, synth, init, three amd64 nodes beside the Graviton bastion, outputs", async () => {
    const up = await runOk([cozystackConfig(), docBlock("docs/cozystack.md", "1. Nodes up, in maintenance mode")], root);
    expect(up.stdout).toMatch(/talos_node_instance_ids/);
    const nodes = await runningNodes();
    expect(nodes).toHaveLength(3);
    const described = JSON.parse(await aws("ec2", "describe-instances", "--instance-ids", ...nodes.map((n) => n.InstanceId))) as { Reservations: { Instances: { InstanceType: string; ImageId: string }[] }[] };
    const types = described.Reservations.flatMap((r) => r.Instances);
    expect(new Set(types.map((i) => i.InstanceType))).toEqual(new Set(["t3a.xlarge"]));
    // The amd64 Talos AMI stand-in, looked up by its name and architecture.
    expect(new Set(types.map((i) => i.ImageId))).toEqual(new Set([standInAmis(site).find((ami) => ami.name.endsWith("-amd64"))!.ami_id]));
    const bastionTemplate = (readStack().resource as Record<string, Record<string, { instance_type?: string; image_id?: string }>>).aws_launch_template!.bastion!;
    expect(bastionTemplate).toMatchObject({ instance_type: "t4g.small", image_id: expect.stringContaining("arm64") });
  });

  it("cost.md: each running node's average CPU, the figure for usage.nodeCpuPercent", async () => {
    const nodes = await runningNodes();
    expect(nodes).toHaveLength(3);
    // moto has no hypervisor to sample: the test puts 5-minute samples of the last 20 minutes, as
    // EC2's basic monitoring would, and one of two days ago that the day's window leaves out.
    const samples = [[90, 10, 5, 15], [20, 20, 20, 20], [0, 0, 3, 1]];
    const put = (node: string, value: number, minutesAgo: number) =>
      execFileAsync(join(tools.venv, "bin", "aws"), ["cloudwatch", "put-metric-data", "--region", REGION, "--namespace", "AWS/EC2", "--metric-name", "CPUUtilization", "--unit", "Percent",
        "--dimensions", `InstanceId=${node}`, "--value", String(value), "--timestamp", new Date(Date.now() - minutesAgo * 60_000).toISOString()], { env, timeout: 60_000 });
    for (const [i, node] of nodes.entries()) {
      for (const [j, value] of samples[i]!.entries()) await put(node.InstanceId, value, 5 * j + 1);
      await put(node.InstanceId, 100, 2 * 24 * 60);
    }
    // moto 5.2.5 answers CloudWatch in the query protocol only; aws-cli 1.45+ speaks JSON to it (as
    // AWS answers both). The block runs with the toolchain's aws-cli 1.36 (botocore 1.35, query).
    const result = await runOk([docBlock("docs/cost.md", "Unlimited credits: measure the nodes")], root, { path: join(tools.venv, "bin") });
    const printed = Object.fromEntries(result.stdout.trim().split("\n").map((line) => line.split("\t")));
    expect(printed).toEqual(Object.fromEntries(nodes.map((node, i) => [node.InstanceId, ["30.0", "20.0", "1.0"][i]])));
  });

  it("cozystack.md: render the patches, nodes back to none", async () => {
    await runOk([cozystackConfig(), docBlock("docs/cozystack.md", "2. Render the patches")], root);
    expect(existsSync(join(root, "talos", "patches", "cozystack.yaml"))).toBe(true);
    expect(readFileSync(join(root, "talos", "patches", "controlplane.yaml"), "utf8")).toContain("$patch: delete");
    await runOk([docBlock("docs/cozystack.md", "Tearing down")], root);
    expect(await runningNodes()).toEqual([]);
  });

  it("bastion.md: the secrets, a re-run refused, a rotation with --overwrite", async () => {
    const create = docBlock("docs/bastion.md", "Creating the secrets");
    await runOk([create], root);
    const version = async () =>
      (JSON.parse(await aws("ssm", "get-parameter", "--name", "/deathstar/pihole/web-password", "--with-decryption")) as { Parameter: { Version: number; Type: string; Value: string } }).Parameter;
    const before = await version();
    expect(before).toMatchObject({ Version: 1, Type: "SecureString" });
    const again = await runBlocks([create], root);
    expect(again.code, "put-parameter without --overwrite is refused on a re-run, as the doc says").not.toBe(0);
    expect(again.stderr).toMatch(/ParameterAlreadyExists/);
    await runOk([docBlock("docs/bastion.md", "Creating the secrets", 1)], root);
    const after = await version();
    expect(after.Version).toBe(2);
    expect(after.Value).not.toBe(before.Value);
  });

  it("SECURITY.md: a hostile config by hand exits 1, names the field and writes nothing", async () => {
    const before = readFileSync(join(stackDir, "cdk.tf.json"), "utf8");
    const result = await runBlocks([docBlock("SECURITY.md", "Running the scans locally", 1)], root, { strict: false });
    expect(result.stdout).toMatch(/^exit 1$/m);
    expect(result.stderr).toMatch(/images\.\w+/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")).toBe(before);
  });

  it("SECURITY.md: checkov by hand, on the JSON and on a plan of the deployed stack", async () => {
    const block = docBlock("SECURITY.md", "Running the scans locally", 2);
    const result = await runOk([block], root);
    expect(result.stdout).toMatch(/Passed checks: [1-9]/);
    // The extra skip is there for a reason: without it, the plan of the deployed stack fails it. The
    // block's set-up lines again, then its last scan without the skip, on the plan.json just written.
    const commands = blockCommands(block.text);
    const scanOfPlan = commands.at(-1)!;
    expect(scanOfPlan).toMatch(/plan\.json .*,CKV_AWS_382"$/s);
    const without = await runBlocks([block], root, { commands: [...commands.slice(0, 2), scanOfPlan.replace(',CKV_AWS_382"', '"')] });
    expect(without.code).not.toBe(0);
    expect(without.stdout).toMatch(/CKV_AWS_382/);
  });

  it("README and cost.md: npm run cost, and the pause with the stack applied", async () => {
    const result = await runOk([docBlock("README.md", "Cost")], root);
    expect(result.stdout, "npm run cost prints the total").toMatch(/total/i);
    expect(result.stdout).toMatch(/Still billed after "pause"/);
    expect(await instances(["Name=instance-state-name,Values=pending,running"])).toEqual([]);
  });

  it("cost.md: the spend queries", async () => {
    const [period, daily, byUsage] = [0, 1, 2].map((i) => docBlock("docs/cost.md", "Spend queries", i)) as [DocBlock, DocBlock, DocBlock];
    const dates = await runOk([period], root, { commands: [...blockCommands(period.text), 'echo "$start $end"'] });
    const [start, end] = dates.stdout.trim().split(" ");
    const today = new Date();
    expect(start).toBe(`${today.toISOString().slice(0, 8)}01`);
    expect(end).toBe(new Date(today.getTime() + 86_400_000).toISOString().slice(0, 10));
    // moto tracks no spend: it answers each query with the next result queued here, shaped as AWS
    // answers these two (grouped by SERVICE, then by USAGE_TYPE), so the --query expressions are tried.
    const group = (key: string, metrics: Record<string, string>) => ({
      Keys: [key],
      Metrics: Object.fromEntries(Object.entries(metrics).map(([name, amount]) => [name, { Amount: amount, Unit: name === "UsageQuantity" ? "Hrs" : "USD" }])),
    });
    const queued = await fetch(`${moto.endpoint}/moto-api/static/ce/cost-and-usage-results`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        results: [
          { ResultsByTime: [{ TimePeriod: { Start: start, End: end }, Total: {}, Groups: [group("Amazon Elastic Compute Cloud - Compute", { UnblendedCost: "0.0962" })], Estimated: true }] },
          { ResultsByTime: [{ TimePeriod: { Start: start, End: end }, Total: {}, Groups: [group("EU-BoxUsage:t4g.small", { UnblendedCost: "0.092", UsageQuantity: "5" })], Estimated: true }] },
        ],
      }),
    });
    expect(queued.status).toBe(201);
    const byService = await runOk([period, daily], root);
    expect(JSON.parse(byService.stdout)).toEqual([[start, [["Amazon Elastic Compute Cloud - Compute", "0.0962"]]]]);
    const table = (await runOk([period, byUsage], root)).stdout;
    expect(table).toMatch(/\|\s+EU-BoxUsage:t4g\.small\s+\|\s+5\s+\|\s+0\.092\s+\|/);
  });

  it("teardown.md: every teardown action, the exact pause commands, the checks, destroy", async () => {
    const actions = docBlock("docs/teardown.md", "Back to $0");
    const [dryRun, pause, destroy, destroyAll, resume, verify, destroyYes] = blockCommands(actions.text) as [string, string, string, string, string, string, string];
    const printed = await runOk([actions], root, { commands: [dryRun] });
    expect(printed.stdout).toMatch(/\$ aws autoscaling suspend-processes/);
    for (const command of [pause, resume, verify]) await runOk([actions], root, { commands: [command] });
    await runOk([docBlock("docs/teardown.md", "Pause: the exact commands")], root);
    const checks = await runOk([docBlock("docs/teardown.md", "Verify")], root);
    // The default site caches in S3: a pause leaves no cache volume behind (docs/teardown.md, "Verify").
    expect(checks.stdout).not.toMatch(/deathstar-bastion-cache/);
    expect(checks.stdout, "no running instance (bastion t4g.small, NAT t4g.nano)").not.toMatch(/t4g\./);
    await runOk([docBlock("docs/teardown.md", "Destroy")], root);
    // On a destroyed stack the remaining actions find nothing to do, and still end with the checks.
    for (const command of [destroy, destroyAll, destroyYes]) await runOk([actions], root, { commands: [command] });
    const left = await moto.inventory(REGION);
    expect({ vpcs: left.vpcs, instances: left.instances, addresses: left.addresses }).toEqual({ vpcs: [], instances: [], addresses: [] });
  });

  it("README: the site-config example synthesizes as shown", async () => {
    await runOk([docBlock("README.md", "Site config")], root);
    expect(readStack().resource).toHaveProperty("aws_nat_gateway");
  });

  it("cost.md: npm run cost, for the configured site and for the README's example", async () => {
    const cost = await runOk([docBlock("docs/cost.md", "`npm run cost`")], root);
    expect(cost.stdout, "the example's budget holds its NAT gateway").toMatch(/Budget: \$50\.00\/month, within/);
  });

  it("cost.md: the designs side by side for the seed's usage print the documented table", async () => {
    const result = await runOk([docBlock("docs/cost.md", "Designs side by side")], root);
    const documented = /## Designs side by side\n[\s\S]*?```text\n([\s\S]*?)\n```/.exec(readFileSync(join(root, "docs/cost.md"), "utf8"))?.[1];
    expect(documented).toBeDefined();
    expect(result.stdout).toContain(`${documented}\n`);
  });

  it("ran every block marked for this file", () => {
    const marked = docFiles()
      .flatMap((file) => shellBlocks(file))
      .filter((block) => block.marker?.kind === "runs" && block.marker.test === THIS_TEST)
      .map(key);
    expect(marked.filter((block) => !ran.has(block))).toEqual([]);
  });
});

interface CommandHelp {
  readonly subcommands: ReadonlySet<string>;
  /** Flag name (`--nodes`, `-n`) → whether it takes a value. */
  readonly flags: ReadonlyMap<string, boolean>;
}

/** Parses cobra's `--help`: "Available Commands:" and the "Flags:"/"Global Flags:" tables. */
function parseHelp(text: string): CommandHelp {
  const subcommands = new Set<string>();
  const flags = new Map<string, boolean>();
  let section = "";
  for (const line of text.split("\n")) {
    if (/^\S.*:$/.test(line)) section = line;
    else if (section === "Available Commands:") {
      const name = /^\s+(\S+)\s/.exec(line)?.[1];
      if (name) subcommands.add(name);
    } else if (section.endsWith("Flags:")) {
      const flag = /^\s+(?:-(\w), )?--([\w-]+)(?: (\S+))?(?:\s{2,}|$)/.exec(line);
      if (flag) {
        const takesValue = flag[3] !== undefined;
        flags.set(`--${flag[2]}`, takesValue);
        if (flag[1]) flags.set(`-${flag[1]}`, takesValue);
      }
    }
  }
  return { subcommands, flags };
}

/** Words of one shell command (quotes removed), up to a pipe, `;`, `&&` or a comment. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  for (const match of command.replace(/\\\n/g, " ").matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
    const word = match[1] ?? match[2] ?? match[3]!;
    if (match[3] && /^(\||;|&&|\|\||#)/.test(word)) break;
    words.push(word);
  }
  return words;
}

describe("talosctl lines against the pinned Talos release's CLI", () => {
  const helps = new Map<string, CommandHelp>();
  async function help(path: readonly string[]): Promise<CommandHelp> {
    const id = path.join(" ");
    if (!helps.has(id)) {
      const { stdout } = await execFileAsync(tools.talosctl!, [...path, "--help"], { timeout: 30_000 });
      helps.set(id, parseHelp(stdout));
    }
    return helps.get(id)!;
  }

  /**
   * What is wrong with one `talosctl …` command: an unknown subcommand or flag (empty when none).
   * The subcommand is found as cobra finds it (flags skipped, a flag not known as a boolean taken to
   * carry a value); every flag is then looked up in that subcommand's --help, which lists the
   * connection flags (--nodes, --talosconfig, …) of each command.
   */
  async function problems(command: string): Promise<string[]> {
    const words = shellWords(command).slice(1);
    const path: string[] = [];
    let current = await help(path);
    const found: string[] = [];
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      if (word.startsWith("-")) {
        if (!word.includes("=") && current.flags.get(word) !== false) i++;
      } else if (current.subcommands.has(word)) {
        path.push(word);
        current = await help(path);
      } else {
        if (current.subcommands.size > 0) found.push(`${["talosctl", ...path].join(" ")} has no subcommand ${word}`);
        break;
      }
    }
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      if (!word.startsWith("-")) continue;
      const name = word.split("=")[0]!;
      const takesValue = current.flags.get(name);
      if (takesValue === undefined) found.push(`${["talosctl", ...path].join(" ")} has no flag ${name}`);
      else if (takesValue && !word.includes("=")) i++;
    }
    return found;
  }

  /** Every talosctl command of the docs (blocks and inline code) and of the rendered talos/README.md. */
  function talosctlCommands(): { where: string; command: string }[] {
    const fromText = (where: string, text: string) =>
      blockCommands(text)
        .filter((command) => command.startsWith("talosctl "))
        .map((command) => ({ where, command }));
    return docFiles().flatMap((file) => [
      ...shellBlocks(file).flatMap((block) => fromText(key(block), block.text)),
      ...inlineCommands(file, "talosctl").map((command) => ({ where: `${file} (inline)`, command })),
    ]);
  }

  beforeAll(() => {
    tools ??= toolchain();
    if (!tools.talosctl) throw new Error("the toolchain has no talosctl: run bash scripts/setup.sh");
  });

  it("is of the Talos minor line the sites pin", async () => {
    const { stdout } = await execFileAsync(tools.talosctl!, ["version", "--client"], { timeout: 30_000 });
    // The same minor line as talos.version (scripts/toolchain.sh: the newest patch release the module proxy serves).
    const minorLine = site.talos.version.replace(/\.\d+$/, ".");
    expect(stdout).toMatch(new RegExp(`Tag:\\s+${minorLine.replace(/\./g, "\\.")}\\d+\\b`));
  });

  it("knows every subcommand and flag the docs use", async () => {
    const commands = talosctlCommands();
    expect(commands.length).toBeGreaterThan(15);
    const found: string[] = [];
    for (const { where, command } of commands) for (const problem of await problems(command)) found.push(`${where}: ${problem}\n  ${command}`);
    expect(found).toEqual([]);
  });

  it("knows every subcommand and flag of the commands render:talos writes", async () => {
    const { renderTalosCommands } = await import("../../templates/talos-patches.js");
    const commands = blockCommands(renderTalosCommands(site, "talos")).filter((command) => command.startsWith("talosctl "));
    expect(commands.length).toBeGreaterThan(5);
    const found: string[] = [];
    for (const command of commands) for (const problem of await problems(command)) found.push(`${problem}\n  ${command}`);
    expect(found).toEqual([]);
  });

  it("catches a flag the release does not have", async () => {
    expect(await problems("talosctl --nodes 10.20.13.11 upgrade --image x --no-such-flag")).toEqual(["talosctl upgrade has no flag --no-such-flag"]);
    expect(await problems("talosctl members")).toEqual(["talosctl has no subcommand members"]);
    expect(await problems("talosctl --nodes 10.20.13.11 etcd member")).toEqual(["talosctl etcd has no subcommand member"]);
  });
});
