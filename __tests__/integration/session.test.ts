/**
 * `npm run start` / `npm run stop` against moto: the NAT instance's group comes up before the
 * bastion's and goes down after it, through the real AWS CLI, and both end at the asked capacity.
 * The two commands are read from docs/bastion.md's block, as a reader types them.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsApi } from "../helpers/aws-api.js";
import { blockCommands, shellBlocks } from "../helpers/docs.js";
import { MotoServer } from "../helpers/moto.js";
import { FIRST_DEFAULTS } from "../../config/designs.js";
import { scratchDir } from "../helpers/processes.js";
import { firstDefaultsConfig } from "../helpers/synth.js";
import { toolchain } from "../helpers/toolchain.js";

// A NAT instance beside the bastion (the first defaults): npm run start raises it first.
// The first defaults, with a NAT instance whose group starts before the bastion's and stops after it.
const config = firstDefaultsConfig();
const configDir = scratchDir("session-config");
const configFile = join(configDir, "first-defaults.json");
writeFileSync(configFile, JSON.stringify(FIRST_DEFAULTS));
const GROUPS = ["deathstar-nat_instance", "deathstar-bastion"];
const DOC = "docs/bastion.md";
const docBlockWithStart = shellBlocks(DOC).find((block) => /^npm run start$/m.test(block.text));
const [START, STOP] = blockCommands(docBlockWithStart?.text ?? "");

describe("npm run start / npm run stop", () => {
  let moto: MotoServer | undefined;
  let api: AwsApi | undefined;

  const npm = (script: "start" | "stop") =>
    spawnSync("bash", ["-c", script === "start" ? START! : STOP!], {
      encoding: "utf8",
      timeout: 300_000,
      env: {
        ...process.env,
        DEATHSTAR_CONFIG: configFile,
        ...moto!.awsEnv(),
        AWS_CONFIG_FILE: "/dev/null",
        AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        AWS_EC2_METADATA_DISABLED: "true",
      },
    });
  /** The script's own lines, without npm's banner ("> third-death-star@… start", "> node scripts/build.mjs && node …"). */
  const scriptOutput = (stdout: string) => stdout.split("\n").filter((line) => line !== "" && !line.startsWith("> "));
  const inService = async (group: string) => {
    const { AutoScalingGroups } = await api!.call("autoscaling", "describe_auto_scaling_groups", { AutoScalingGroupNames: [group] });
    return AutoScalingGroups[0].Instances.filter((i: { LifecycleState: string }) => i.LifecycleState === "InService").length as number;
  };

  beforeAll(async () => {
    expect([START, STOP], `${DOC} gives the start and stop as one block`).toEqual(["npm run start", "npm run stop"]);
    const tools = toolchain();
    moto = await MotoServer.start(tools.venv);
    api = new AwsApi(tools.venv, moto.endpoint, config.aws.region);
    const vpc = (await api.call("ec2", "create_vpc", { CidrBlock: config.network.vpcCidr })).Vpc.VpcId;
    const subnet = (await api.call("ec2", "create_subnet", { VpcId: vpc, CidrBlock: config.network.privateSubnet.cidr, AvailabilityZone: config.aws.availabilityZone })).Subnet.SubnetId;
    for (const group of GROUPS) {
      await api.call("ec2", "create_launch_template", { LaunchTemplateName: group, LaunchTemplateData: { ImageId: "ami-0a1b2c3d4e5f60718", InstanceType: "t4g.nano" } });
      await api.call("autoscaling", "create_auto_scaling_group", {
        AutoScalingGroupName: group,
        LaunchTemplate: { LaunchTemplateName: group, Version: "$Latest" },
        MinSize: 0,
        MaxSize: 1,
        DesiredCapacity: 0,
        VPCZoneIdentifier: subnet,
      });
    }
  });

  afterAll(async () => {
    api?.close();
    await moto?.stop();
  });

  it.each([
    { script: "start", does: "raises the NAT instance's group first, then the bastion's", order: GROUPS, capacity: 1, state: "in service" },
    { script: "stop", does: "lowers the bastion's group first, then the NAT instance's", order: [...GROUPS].reverse(), capacity: 0, state: "stopped" },
  ] as const)("$script $does", async ({ script, order, capacity, state }) => {
    const result = npm(script);
    expect(result.status, result.stderr).toBe(0);
    expect(scriptOutput(result.stdout)).toEqual(order.flatMap((group) => [`${group}: desired capacity ${capacity}`, `${group}: ${state}`]));
    for (const group of GROUPS) expect(await inService(group), group).toBe(capacity);
  });

  it("names a missing group and the fix", async () => {
    await api!.call("autoscaling", "delete_auto_scaling_group", { AutoScalingGroupName: "deathstar-nat_instance", ForceDelete: true });
    const result = npm("start");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Auto Scaling Group deathstar-nat_instance does not exist: deploy the stack first");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
