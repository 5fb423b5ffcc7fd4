/**
 * `npm run start` / `npm run stop`: the lab outside its schedule, with the AWS CLI.
 *
 * start: the NAT instance's group to 1, wait until its instance is in service (the bastion needs
 * egress at boot: EC2 API, dnf, SSM, the compose download), then the bastion's group to 1.
 * stop: the bastion's group to 0, wait until its instance is gone, then the NAT's group to 0.
 * With `network.nat: "gateway"` or `"bastion"` (the bastion is its own NAT, and has egress from its
 * own public IPv4) only the bastion's group moves. The next scheduled action of either group takes
 * over as usual.
 */
import { spawnSync } from "node:child_process";
import { ConfigError, loadSiteConfig } from "../config/load.js";
import { CommandError, parseCommandLine, runCommand, type CommandSpec } from "./cli.js";
import { BASTION_ROLE } from "../constructs/bastion.js";
import { NAT_INSTANCE_ROLE } from "../constructs/nat.js";
import { autoscalingGroupName } from "../constructs/scheduled-instance.js";

const WAIT_SECONDS = 600;
const POLL_SECONDS = 5;

const COMMAND: CommandSpec = {
  name: "session",
  usage: `usage: npm run start | npm run stop
  start  the NAT instance's group (with network.nat "instance"), then the bastion's, to 1
  stop   the bastion's group, then the NAT instance's, to 0`,
  untouched: "The groups keep the capacity they had when the step failed; the next scheduled action applies as usual.",
};

/** A failed step, reported in one line. */
class SessionError extends CommandError {}

function aws(region: string, ...args: string[]): string {
  const result = spawnSync("aws", [...args, "--region", region, "--output", "text"], { encoding: "utf8" });
  if (result.status !== 0) throw new SessionError(`aws ${args.join(" ")} failed: ${(result.stderr || result.error?.message || "").trim()}`);
  return result.stdout.trim();
}

/** Fails before anything moves when a group is missing, so no group is left half-started. */
function requireGroups(region: string, groups: readonly string[]): void {
  const found = aws(region, "autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", ...groups, "--query", "AutoScalingGroups[].AutoScalingGroupName").split(/\s+/);
  const missing = groups.filter((g) => !found.includes(g));
  if (missing.length > 0) throw new SessionError(`Auto Scaling Group ${missing.join(", ")} does not exist: deploy the stack first (docs/deploy.md)`);
}

function inServiceCount(region: string, group: string): number {
  const query = "length(AutoScalingGroups[0].Instances[?LifecycleState=='InService'])";
  return Number(aws(region, "autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", group, "--query", query));
}

function setCapacity(region: string, group: string, capacity: 0 | 1): void {
  process.stdout.write(`${group}: desired capacity ${capacity}\n`);
  aws(region, "autoscaling", "set-desired-capacity", "--auto-scaling-group-name", group, "--desired-capacity", String(capacity));
  const deadline = Date.now() + WAIT_SECONDS * 1000;
  for (;;) {
    const count = inServiceCount(region, group);
    if (count === capacity) break;
    if (Date.now() > deadline) throw new SessionError(`${group} has ${count} instance(s) in service after ${WAIT_SECONDS}s, expected ${capacity}; see its activity history`);
    spawnSync("sleep", [String(POLL_SECONDS)]);
  }
  process.stdout.write(`${group}: ${capacity === 1 ? "in service" : "stopped"}\n`);
}

function main(argv: readonly string[]): void {
  const { positionals } = parseCommandLine(COMMAND, argv, {}, true);
  const action = positionals[0];
  if ((action !== "start" && action !== "stop") || positionals.length !== 1) throw new CommandError(`expected "start" or "stop", got "${positionals.join(" ")}"\n${COMMAND.usage}`);
  const config = loadSiteConfig();
  if (config.site.kind !== "aws") throw new ConfigError([`site.kind: "${config.site.kind}" has no instances in AWS to ${action}`], action);
  const groups = [...(config.network.nat === "instance" ? [NAT_INSTANCE_ROLE] : []), BASTION_ROLE].map(autoscalingGroupName);
  requireGroups(config.aws.region, groups);
  if (action === "start") for (const group of groups) setCapacity(config.aws.region, group, 1);
  else for (const group of groups.reverse()) setCapacity(config.aws.region, group, 0);
}

runCommand(COMMAND, main);
