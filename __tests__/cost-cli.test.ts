/** The entry points run as the operator runs them: synth's budget guard, `npm run cost`, the teardown plan. */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { estimateMonthlyCost } from "../cost/model.js";
import { budgetProblem } from "../cost/report.js";
import { teardownPlan } from "../cost/teardown.js";
import { siteConfig, synthStack } from "./helpers/synth.js";
import { scratchDir } from "./helpers/processes.js";

const REPO = resolve(import.meta.dirname, "..");
const work = scratchDir("cost-cli");

function tsx(script: string, args: readonly string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(REPO, script), ...args], { cwd: REPO, env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 });
  if (result.error) throw result.error;
  return result;
}

/**
 * What the entry points must print, from the model in-process: these tests check the plumbing;
 * cost-stack.test.ts checks the figures against a hand computation.
 */
const MONTH = "2027-01";
const defaultConfig = siteConfig();
const gatewayConfig = siteConfig({ network: { nat: "gateway" } });
const expected = {
  instance: estimateMonthlyCost(synthStack(defaultConfig), defaultConfig, { month: MONTH }),
  gateway: estimateMonthlyCost(synthStack(gatewayConfig), gatewayConfig, { month: MONTH }),
};
const usd = (value: number) => `$${value.toFixed(2)}`;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

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
    expect(result.stdout).toMatch(new RegExp(`^cost: ${escape(usd(expected.instance.totalUsd))}/month projected for \\d{4}-\\d\\d \\(nat instance, budget \\$10\\.00`, "m"));
    expect(existsSync(stackJson)).toBe(true);
  });

  it("fails over budget, names the three biggest lines, and leaves the previous output untouched", () => {
    const before = readFileSync(stackJson, "utf8");
    const result = tsx("main.ts", [], { CDKTF_OUTDIR: outdir, DEATHSTAR_CONFIG: configFile("gateway.json", { network: { nat: "gateway" } }) });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^cost: ${escape(usd(expected.gateway.totalUsd))}/month projected`, "m"));
    expect(result.stderr).toContain(budgetProblem(expected.gateway, gatewayConfig.budget));
    expect(result.stderr).toContain("biggest lines: aws_nat_gateway.main NAT gateway $35.04; aws_eip.nat public IPv4 (Elastic IP) $3.65;");
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
    expect(result.stdout).toMatch(new RegExp(`^TOTAL +${escape(usd(expected.instance.totalUsd))}$`, "m"));
    expect(result.stdout).toMatch(/^resource \(\$\/month\) +nat=gateway +nat=instance$/m);
    const totals = [expected.gateway, expected.instance].map((r) => escape(usd(r.totalUsd)));
    expect(result.stdout).toMatch(new RegExp(`^TOTAL +${totals.join(" +")}$`, "m"));
    expect(result.stdout).toContain("https://aws.amazon.com/vpc/pricing/");
  });

  it("--json gives every mode's lines and totals", () => {
    const result = tsx("scripts/cost.ts", ["--json", "--month", "2027-01"], { DEATHSTAR_CONFIG: "" });
    expect(result.status, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout) as { nat: string; reports: Record<string, { totalUsd: number; lines: { address: string }[] }> };
    expect(parsed.nat).toBe("instance");
    expect(Object.keys(parsed.reports)).toEqual(["gateway", "instance"]);
    expect(parsed.reports.instance!.totalUsd).toBeCloseTo(expected.instance.totalUsd, 9);
    expect(parsed.reports.gateway!.totalUsd).toBeCloseTo(expected.gateway.totalUsd, 9);
    expect(parsed.reports.gateway!.lines.map((l) => l.address)).toContain("aws_eip.nat");
  });
});

describe("teardown plan", () => {
  const config = siteConfig();
  const stack = synthStack(config);
  const plan = (action: Parameters<typeof teardownPlan>[2]["action"]) => teardownPlan(stack, config, { action, stackDir: "cdktf.out/stacks/deathstar" });
  const commands = (p: ReturnType<typeof plan>) => p.commands.map((c) => c.argv.join(" "));

  const groups = ["deathstar-bastion", "deathstar-nat_instance"];
  const cacheUsd = config.bastion.cacheVolumeGb * 0.088;

  it("pause stops every Auto Scaling group and suspends its scheduled starts, then verifies", () => {
    const p = plan("pause");
    const autoscaling = commands(p).filter((c) => c.startsWith("aws autoscaling"));
    expect(autoscaling).toEqual([
      ...groups.map((g) => `aws autoscaling suspend-processes --auto-scaling-group-name ${g} --scaling-processes ScheduledActions --region eu-west-1`),
      ...groups.map((g) => `aws autoscaling update-auto-scaling-group --auto-scaling-group-name ${g} --min-size 0 --desired-capacity 0 --region eu-west-1`),
    ]);
    expect(commands(p)).toContain(
      "aws ec2 describe-instances --filters Name=instance-state-name,Values=running --query Reservations[].Instances[].[InstanceId,InstanceType,Tags[?Key==`Name`]|[0].Value] --region eu-west-1 --output table",
    );
    for (const check of ["describe-volumes", "describe-addresses", "describe-nat-gateways", "describe-snapshots"]) {
      expect(commands(p).some((c) => c.includes(`aws ec2 ${check}`))).toBe(true);
    }
    // The cache volume is all that bills at rest: 20 GB × $0.088.
    expect(p.remaining.map((l) => l.address)).toEqual(["aws_ebs_volume.bastion_cache"]);
    expect(p.remainingUsd).toBeCloseTo(cacheUsd, 6);
    expect(p.warnings).toEqual([]);
  });

  it("pause sets the Talos nodes (counted by a variable) to 0 first", () => {
    expect(commands(plan("pause"))[0]).toBe("tofu -chdir=cdktf.out/stacks/deathstar apply -var talos_node_count=0");
  });

  it("warns that a NAT gateway keeps billing through a pause", () => {
    const gateway = siteConfig({ network: { nat: "gateway" } });
    const p = teardownPlan(synthStack(gateway), gateway, { action: "pause", stackDir: "d" });
    expect(p.warnings).toEqual([expect.stringContaining("A NAT gateway cannot be paused")]);
    expect(p.remainingUsd).toBeCloseTo(730 * 0.048 + 730 * 0.005 + cacheUsd, 6); // $40.45
  });

  it("destroy keeps the persistent volumes and the budget and says what they cost; destroy-all goes to $0", () => {
    const keep = plan("destroy");
    expect(commands(keep)[0]).toBe(
      "tofu -chdir=cdktf.out/stacks/deathstar destroy -exclude aws_budgets_budget.monthly -exclude aws_ebs_volume.bastion_cache",
    );
    expect(keep.remaining.map((l) => l.address)).toEqual(["aws_ebs_volume.bastion_cache"]);
    expect(keep.remainingUsd).toBeCloseTo(cacheUsd, 6);
    const all = teardownPlan(stack, config, { action: "destroy-all", stackDir: "d", autoApprove: true });
    expect(all.commands[0]!.argv).toEqual(["tofu", "-chdir=d", "destroy", "-auto-approve"]);
    expect(all.remainingUsd).toBe(0);
  });

  it("resume turns the schedules back on", () => {
    expect(commands(plan("resume")).filter((c) => c.startsWith("aws autoscaling"))).toEqual(
      groups.map((g) => `aws autoscaling resume-processes --auto-scaling-group-name ${g} --scaling-processes ScheduledActions --region eu-west-1`),
    );
  });
});
