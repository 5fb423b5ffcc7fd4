/**
 * The teardown plan's AWS CLI commands, run by the real `aws` CLI against a recording endpoint on
 * 127.0.0.1: each must parse, and must send the API call and parameters the plan intends.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { teardownPlan, type Command } from "../../ops/teardown.js";
import { firstDefaultsConfig, synthStack } from "../helpers/synth.js";

interface Call {
  readonly service: string;
  readonly region: string;
  readonly params: Record<string, string>;
}

const calls: Call[] = [];
let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    request.on("end", () => {
      // Credential=<key>/<date>/<region>/<service>/aws4_request
      const scope = /Credential=[^/]+\/\d+\/([^/]+)\/([^/]+)\//.exec(request.headers.authorization ?? "");
      const params = Object.fromEntries(new URLSearchParams(body));
      calls.push({ region: scope?.[1] ?? "", service: scope?.[2] ?? "", params });
      const action = params.Action ?? "Unknown";
      response.writeHead(200, { "content-type": "text/xml" });
      response.end(`<${action}Response><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata><requestId>r</requestId></${action}Response>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Runs one command with the endpoint appended; resolves to its exit code and stderr. */
function runAws(command: Command): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command.argv[0]!, [...command.argv.slice(1), "--endpoint-url", endpoint], {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_CONFIG_FILE: "/dev/null",
        AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_PAGER: "",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

async function callsOf(commands: readonly Command[]): Promise<Call[]> {
  calls.length = 0;
  for (const command of commands.filter((c) => c.argv[0] === "aws")) {
    const result = await runAws(command);
    expect(result.code, `${command.argv.join(" ")}\n${result.stderr}`).toBe(0);
  }
  return [...calls];
}

describe("teardown commands through the real aws CLI", () => {
  // A cache volume and a NAT instance (the first defaults).
  const config = firstDefaultsConfig();
  const stack = synthStack(config);
  const plan = (action: "pause" | "resume") => teardownPlan(stack, config, { action, stackDir: "cdktf.out/stacks/deathstar" });

  it("pause suspends scheduled starts, stops each group, then runs the five read-only checks, all in eu-west-1", async () => {
    const groups = ["deathstar-bastion", "deathstar-nat_instance"];
    const made = await callsOf(plan("pause").commands);
    expect(made.map((c) => `${c.service} ${c.params.Action}`)).toEqual([
      ...groups.map(() => "autoscaling SuspendProcesses"),
      ...groups.map(() => "autoscaling UpdateAutoScalingGroup"),
      "ec2 DescribeInstances",
      "ec2 DescribeVolumes",
      "ec2 DescribeAddresses",
      "ec2 DescribeNatGateways",
      "ec2 DescribeSnapshots",
    ]);
    expect(made.every((c) => c.region === "eu-west-1")).toBe(true);
    groups.forEach((group, i) => {
      expect(made[i]!.params).toMatchObject({ AutoScalingGroupName: group, "ScalingProcesses.member.1": "ScheduledActions" });
      expect(made[groups.length + i]!.params).toMatchObject({ AutoScalingGroupName: group, MinSize: "0", DesiredCapacity: "0" });
    });
    const checks = made.slice(2 * groups.length);
    expect(checks[0]!.params).toMatchObject({ "Filter.1.Name": "instance-state-name", "Filter.1.Value.1": "running" });
    expect(checks[3]!.params).toMatchObject({ "Filter.1.Name": "state", "Filter.1.Value.1": "pending", "Filter.1.Value.2": "available" });
    expect(checks[4]!.params).toMatchObject({ "Owner.1": "self" });
  });

  it("resume resumes the scheduled actions", async () => {
    const made = await callsOf(plan("resume").commands);
    expect(made[0]).toMatchObject({ service: "autoscaling", params: { Action: "ResumeProcesses", "ScalingProcesses.member.1": "ScheduledActions" } });
  });
});
