/**
 * `bastion.market: "spot"` with the real tools: the stack synthesized with a spot bastion, applied
 * by OpenTofu and the AWS provider against moto. The bastion's group buys through a mixed instances
 * policy (spot only, on the bastion's own launch template and type), and a second plan is clean.
 *
 * What moto 5.2.5 does not do: launch a group's instance from this template (it refuses the
 * template's `resolve:ssm:` image with InvalidAMIID.Malformed, where EC2 resolves the parameter at
 * launch), mark an instance spot, or reclaim one. What follows an
 * interruption (EC2 terminates the instance, the group launches a replacement, whose boot waits
 * for the persistent ENI and volume to be released and attaches them) is the boot script's job:
 * __tests__/integration/bastion-boot.test.ts runs it against a predecessor that still holds both.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyAgainstMoto, type MotoStack } from "../helpers/moto-stack.js";
import { siteConfig } from "../helpers/synth.js";

const SPOT = { bastion: { market: "spot" } } as const;
const site = siteConfig(SPOT);
const GROUP = "deathstar-bastion";

let stack: MotoStack;

async function group(): Promise<Record<string, any>> {
  const { AutoScalingGroups } = await stack.api.call("autoscaling", "describe_auto_scaling_groups", { AutoScalingGroupNames: [GROUP] });
  return AutoScalingGroups[0];
}

beforeAll(async () => {
  stack = await applyAgainstMoto("bastion-spot", site, SPOT);
});

afterAll(async () => {
  await stack?.close();
});

describe.sequential("bastion.market spot against moto", () => {
  it("the group buys spot only, through a mixed instances policy on the bastion's template and type; a second plan is clean", async () => {
    const { LaunchTemplates } = await stack.api.call("ec2", "describe_launch_templates", { LaunchTemplateNames: [GROUP] });
    const applied = await group();
    expect(applied.LaunchTemplate).toBeUndefined();
    expect(applied.MixedInstancesPolicy.InstancesDistribution).toMatchObject({
      OnDemandBaseCapacity: 0,
      OnDemandPercentageAboveBaseCapacity: 0,
      SpotAllocationStrategy: "price-capacity-optimized",
    });
    expect(applied.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId).toBe(LaunchTemplates[0].LaunchTemplateId);
    expect(applied.MixedInstancesPolicy.LaunchTemplate.Overrides).toEqual([{ InstanceType: site.bastion.instanceType }]);
    const replan = await stack.tofu.planExitCode();
    expect(replan.code, `a second plan must show no changes:\n${replan.stdout}`).toBe(0);
  });
});
