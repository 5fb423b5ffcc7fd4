/** The entry points run as the operator runs them: synth's budget guard, `npm run cost`, the teardown plan. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { TerraformJson } from "../cost/resources.js";
import { teardownPlan } from "../cost/teardown.js";
import { siteConfig, synthStack } from "./helpers/synth.js";

const REPO = resolve(import.meta.dirname, "..");
const work = mkdtempSync(join(tmpdir(), "deathstar-cost-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function tsx(script: string, args: readonly string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(REPO, script), ...args], { cwd: REPO, env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 });
  if (result.error) throw result.error;
  return result;
}

function configFile(name: string, override: unknown): string {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(override));
  return path;
}

describe("synth (main.ts)", () => {
  const outdir = join(work, "synth", "cdktf.out");
  const stackJson = join(outdir, "stacks", "deathstar", "cdk.tf.json");

  it("prints the projection and writes the stack when it fits the budget", () => {
    const result = tsx("main.ts", [], { CDKTF_OUTDIR: outdir, DEATHSTAR_CONFIG: "" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^cost: \$1\.61\/month projected for \d{4}-\d\d \(nat instance, budget \$10\.00/m);
    expect(existsSync(stackJson)).toBe(true);
  });

  it("fails over budget, names the three biggest lines, and leaves the previous output untouched", () => {
    const before = readFileSync(stackJson, "utf8");
    const result = tsx("main.ts", [], { CDKTF_OUTDIR: outdir, DEATHSTAR_CONFIG: configFile("gateway.json", { network: { nat: "gateway" } }) });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^cost: \$39\.17\/month projected/m);
    expect(result.stderr).toContain("budget.monthlyUsd: the projection $39.17/month exceeds the budget of $10.00");
    expect(result.stderr).toMatch(/biggest lines: aws_nat_gateway\.main NAT gateway \$35\.04; aws_eip\.nat .* \$3\.65; aws_nat_gateway\.main NAT gateway data processing \$0\.48/);
    expect(result.stderr).toContain("Nothing was written.");
    expect(readFileSync(stackJson, "utf8")).toBe(before);
    expect(readdirSync(join(work, "synth"))).toEqual(["cdktf.out"]);
  });

  it("writes an over-budget stack when budget.allowOver is set", () => {
    const override = { network: { nat: "gateway" }, budget: { allowOver: true } };
    const result = tsx("main.ts", [], { CDKTF_OUTDIR: outdir, DEATHSTAR_CONFIG: configFile("allow.json", override) });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(readFileSync(stackJson, "utf8")).resource.aws_nat_gateway).toHaveProperty("main");
  });
});

describe("npm run cost (scripts/cost.ts)", () => {
  it("prints the table, the total, the NAT modes side by side and the sources", () => {
    const result = tsx("scripts/cost.ts", ["--month", "2027-01"], { DEATHSTAR_CONFIG: "" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^resource +item +quantity +unit price +\$\/month$/m);
    expect(result.stdout).toMatch(/^aws_autoscaling_group\.nat_instance +t4g\.nano instance +152\.08 h +\$0\.0046\/h +\$0\.70$/m);
    expect(result.stdout).toMatch(/^TOTAL +\$1\.61$/m);
    expect(result.stdout).toMatch(/^resource \(\$\/month\) +nat=gateway +nat=instance +nat=none$/m);
    expect(result.stdout).toMatch(/^TOTAL +\$39\.17 +\$1\.61 +\$0\.00$/m);
    expect(result.stdout).toContain("https://aws.amazon.com/vpc/pricing/");
  });

  it("--json gives every mode's lines and totals", () => {
    const result = tsx("scripts/cost.ts", ["--json", "--month", "2027-01"], { DEATHSTAR_CONFIG: "" });
    expect(result.status, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout) as { nat: string; reports: Record<string, { totalUsd: number; lines: { address: string }[] }> };
    expect(parsed.nat).toBe("instance");
    expect(Object.keys(parsed.reports)).toEqual(["gateway", "instance", "none"]);
    expect(parsed.reports.instance!.totalUsd).toBeCloseTo(1.61, 2);
    expect(parsed.reports.gateway!.totalUsd).toBeCloseTo(39.17, 2);
    expect(parsed.reports.gateway!.lines.map((l) => l.address)).toContain("aws_eip.nat");
  });
});

describe("teardown plan", () => {
  const config = siteConfig();
  const stack = synthStack(config);
  const plan = (action: Parameters<typeof teardownPlan>[2]["action"], json: TerraformJson = stack) =>
    teardownPlan(json, config, { action, stackDir: "cdktf.out/stacks/deathstar" });
  const commands = (p: ReturnType<typeof plan>) => p.commands.map((c) => c.argv.join(" "));

  it("pause stops every Auto Scaling group and suspends its scheduled starts, then verifies", () => {
    const p = plan("pause");
    expect(commands(p).slice(0, 2)).toEqual([
      "aws autoscaling suspend-processes --auto-scaling-group-name deathstar-nat_instance --scaling-processes ScheduledActions --region eu-west-1",
      "aws autoscaling update-auto-scaling-group --auto-scaling-group-name deathstar-nat_instance --min-size 0 --desired-capacity 0 --region eu-west-1",
    ]);
    expect(commands(p)).toContain(
      "aws ec2 describe-instances --filters Name=instance-state-name,Values=running --query Reservations[].Instances[].[InstanceId,InstanceType,Tags[?Key==`Name`]|[0].Value] --region eu-west-1 --output table",
    );
    for (const check of ["describe-volumes", "describe-addresses", "describe-nat-gateways", "describe-snapshots"]) {
      expect(commands(p).some((c) => c.includes(`aws ec2 ${check}`))).toBe(true);
    }
    expect(p.remainingUsd).toBe(0);
    expect(p.warnings).toEqual([]);
  });

  it("pause sets session resources counted by a variable to 0 first", () => {
    const json = { resource: { ...stack.resource, aws_instance: { talos_node: { count: "${var.talos_node_count}" } } } };
    expect(commands(plan("pause", json))[0]).toBe("tofu -chdir=cdktf.out/stacks/deathstar apply -var talos_node_count=0");
  });

  it("warns that a NAT gateway keeps billing through a pause", () => {
    const gateway = siteConfig({ network: { nat: "gateway" } });
    const p = teardownPlan(synthStack(gateway), gateway, { action: "pause", stackDir: "d" });
    expect(p.warnings).toEqual([expect.stringContaining("A NAT gateway cannot be paused")]);
    expect(p.remainingUsd).toBeCloseTo(38.69, 6);
  });

  it("destroy keeps the persistent volumes and the budget and says what they cost; destroy-all goes to $0", () => {
    const json = { resource: { ...stack.resource, aws_ebs_volume: { bastion_cache: { size: 20, type: "gp3" } } } };
    const keep = plan("destroy", json);
    expect(commands(keep)[0]).toBe(
      "tofu -chdir=cdktf.out/stacks/deathstar destroy -exclude aws_budgets_budget.monthly -exclude aws_ebs_volume.bastion_cache",
    );
    expect(keep.remaining.map((l) => l.address)).toEqual(["aws_ebs_volume.bastion_cache"]);
    expect(keep.remainingUsd).toBeCloseTo(20 * 0.088, 6);
    const all = teardownPlan(json, config, { action: "destroy-all", stackDir: "d", autoApprove: true });
    expect(all.commands[0]!.argv).toEqual(["tofu", "-chdir=d", "destroy", "-auto-approve"]);
    expect(all.remainingUsd).toBe(0);
  });

  it("resume turns the schedules back on", () => {
    expect(commands(plan("resume"))[0]).toBe(
      "aws autoscaling resume-processes --auto-scaling-group-name deathstar-nat_instance --scaling-processes ScheduledActions --region eu-west-1",
    );
  });
});
