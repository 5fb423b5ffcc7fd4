/**
 * The synthesized stack through its whole life with the real tools: OpenTofu and the real
 * hashicorp/aws provider (offline, from the cached mirror) against moto on loopback, for every
 * NAT mode and every Talos boot mode (helpers/lifecycle-scenarios.ts: three scenarios apply every
 * block of all six pairs, as lifecycle-coverage.test.ts proves):
 *
 *   synth (main.ts) → init → validate → apply → plan (no changes) → talos_node_count=3 → plan (no
 *   changes) → talos_node_count=0 → plan (no changes) → destroy → nothing left that costs money or
 *   holds an address.
 *
 * Scenarios run at the same time, each against a moto server of its own: an apply spends most of
 * its wall time in the provider's waiters (an instance is polled every few seconds until it runs,
 * though moto answers at once), so side by side they overlap their sleeps instead of adding them.
 * The provider is linked from one shared plugin cache. Durations are printed at the end (not
 * asserted).
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { LIFECYCLE_SCENARIOS, lifecycleOverride } from "../helpers/lifecycle-scenarios.js";
import { MotoServer, standInAmis } from "../helpers/moto.js";
import { synthProject } from "../helpers/project.js";
import { siteConfig } from "../helpers/synth.js";
import { motoProxyEnv, motoTargets, Tofu, writeMotoOverride } from "../helpers/tofu.js";
import { toolchain, type Toolchain } from "../helpers/toolchain.js";
import { scratchDir, tempDir } from "../helpers/processes.js";

const NODE_COUNT_VARIABLE = "talos_node_count";
const site = siteConfig();
const REGION = site.aws.region;

let tools: Toolchain;
const workRoot = scratchDir("lifecycle");
const durations: string[] = [];

beforeAll(() => {
  tools = toolchain();
});

afterAll(() => {
  if (durations.length > 0) console.log(`lifecycle durations:\n${durations.join("\n")}`);
});

/** Runs a step and records how long it took. */
async function timed<T>(scenario: string, step: string, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await run();
  } finally {
    durations.push(`  ${scenario.padEnd(22)} ${step.padEnd(28)} ${((performance.now() - start) / 1000).toFixed(1)}s`);
  }
}

describe.concurrent("OpenTofu lifecycle against moto", () => {
  for (const { nat, boot } of LIFECYCLE_SCENARIOS) {
    const scenario = `nat=${nat} boot=${boot}`;
    // Concurrent tests take `expect` and `onTestFinished` from their own context.
    it(scenario, async ({ expect, onTestFinished }) => {
      const moto = await MotoServer.start(tools.venv, { amis: standInAmis(site) });
      onTestFinished(() => moto.stop());
      // Under the file's scratch directory, which goes when the file is done.
      const root = tempDir(`${nat}-${boot}`, workRoot).path;
      const { stackDir, json } = await timed(scenario, "synth", () =>
        synthProject(root, lifecycleOverride(nat, boot)),
      );
      const targets = motoTargets(json);
      writeMotoOverride(stackDir, moto.endpoint, tools.awsProviderVersion, targets);
      const tofu = new Tofu(tools, stackDir, motoProxyEnv(moto.endpoint, targets));
      expect(json.variable?.[NODE_COUNT_VARIABLE], "the stack scales its Talos nodes by this variable").toBeDefined();
      let applied = false;
      try {
        await timed(scenario, "init (offline)", () => tofu.init());
        await timed(scenario, "validate", () => tofu.validate());
        applied = true; // from here on a failure may have created something: destroy it
        await timed(scenario, "apply", () => tofu.apply());
        const replan = await timed(scenario, "plan -detailed-exitcode", () => tofu.planExitCode());
        expect(replan.code, `a second plan must show no changes:\n${replan.stdout}`).toBe(0);

        // Interfaces and volumes the node launches created: moto keeps them after terminating the
        // nodes (and, for a /dev/sda1 root device, orphans its own default root volume besides).
        const beforeNodes = await moto.inventory(REGION);
        const existedBefore = new Set([...beforeNodes.networkInterfaces, ...beforeNodes.volumes]);
        const nodeAttachments = new Set<string>();
        for (const count of [3, 0]) {
          const vars = { [NODE_COUNT_VARIABLE]: count };
          await timed(scenario, `apply nodes=${count}`, () => tofu.apply(vars));
          const plan = await timed(scenario, `plan nodes=${count}`, () => tofu.planExitCode(vars));
          expect(plan.code, `plan after apply with ${count} nodes must show no changes:\n${plan.stdout}`).toBe(0);
          const running = await moto.inventory(REGION);
          expect(running.instances).toHaveLength(count);
          [...running.networkInterfaces, ...running.volumes].filter((id) => !existedBefore.has(id)).forEach((id) => nodeAttachments.add(id));
        }

        await timed(scenario, "destroy", () => tofu.destroy());
        applied = false;
        const left = await moto.inventory(REGION);
        // moto gaps (AWS deletes all of these): a deleted NAT gateway keeps its interface; terminated
        // nodes keep what their launch created. Exactly those, nothing else.
        expect(left.deletedNatGatewayInterfaces).toHaveLength(nat === "gateway" ? 1 : 0);
        expect({
          vpcs: left.vpcs,
          instances: left.instances,
          networkInterfaces: left.networkInterfaces.filter((id) => !nodeAttachments.has(id)),
          volumes: left.volumes.filter((id) => !nodeAttachments.has(id)),
          addresses: left.addresses,
        }).toEqual({ vpcs: [], instances: [], networkInterfaces: [], volumes: [], addresses: [] });
      } finally {
        // A failed step must not leave the next scenario a half-built VPC.
        if (applied) await tofu.destroy().catch(() => undefined);
      }
    });
  }
});
