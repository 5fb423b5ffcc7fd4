/**
 * `talos_node_count` with real OpenTofu and no cloud: the synthesized variable (with its
 * validation), locals and aws_instance.talos_node's count/private_ip/Name expressions, copied
 * verbatim onto the built-in `terraform_data` resource so `tofu plan` evaluates them without a provider.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { resource, siteConfig, synthStack } from "../helpers/synth.js";
import { toolchain } from "../helpers/toolchain.js";
import { scratchDir } from "../helpers/processes.js";

const dir = scratchDir("node-count");
let tofu = "";

function run(args: string[]) {
  const result = spawnSync(tofu, args, {
    cwd: dir,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: "/dev/null" },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Planned terraform_data.talos_node instances for `count`, as [index, input] pairs. */
function plan(count: string): { status: number | null; output: string; nodes: [number, unknown][] } {
  const planned = run(["plan", "-input=false", "-no-color", `-var=talos_node_count=${count}`, "-out=plan.bin"]);
  if (planned.status !== 0) return { ...planned, nodes: [] };
  const shown = run(["show", "-json", "plan.bin"]);
  const changes = (JSON.parse(shown.output) as { resource_changes?: { index: number; change: { after: { input: unknown } } }[] }).resource_changes ?? [];
  return { ...planned, nodes: changes.map((c) => [c.index, c.change.after.input] as [number, unknown]).sort((a, b) => a[0] - b[0]) };
}

beforeAll(() => {
  tofu = toolchain().tofu;
  const stack = synthStack(siteConfig()) as ReturnType<typeof synthStack> & { locals: Record<string, unknown> };
  const instance = resource(stack, "aws_instance", "talos_node");
  const config = {
    variable: { talos_node_count: stack.variable!.talos_node_count },
    locals: stack.locals,
    resource: {
      terraform_data: {
        talos_node: { count: instance.count, input: { private_ip: instance.private_ip, name: (instance.tags as { Name: string }).Name } },
      },
    },
  };
  writeFileSync(join(dir, "main.tf.json"), JSON.stringify(config, null, 2));
  const init = run(["init", "-input=false", "-no-color"]);
  if (init.status !== 0) throw new Error(`tofu init failed:\n${init.output}`);
});

describe("talos_node_count (tofu plan)", () => {
  it("defaults to 0: no nodes", () => {
    const result = run(["plan", "-input=false", "-no-color"]);
    expect(result.status).toBe(0);
    expect(result.output).toContain("No changes.");
  });

  it("N creates nodes 0..N-1 at the configured addresses, named in order", () => {
    const result = plan("3");
    expect(result.status, result.output).toBe(0);
    expect(result.nodes).toEqual([
      [0, { private_ip: "10.20.13.11", name: "deathstar-talos-1" }],
      [1, { private_ip: "10.20.13.12", name: "deathstar-talos-2" }],
      [2, { private_ip: "10.20.13.13", name: "deathstar-talos-3" }],
    ]);
    expect(plan("1").nodes).toEqual([[0, { private_ip: "10.20.13.11", name: "deathstar-talos-1" }]]);
  });

  for (const bad of ["4", "-1", "1.5"]) {
    it(`rejects ${bad} with the variable's message`, () => {
      const result = plan(bad);
      expect(result.status).toBe(1);
      expect(result.output).toContain("Invalid value for variable");
      expect(result.output.replace(/\s+/g, " ")).toContain("talos_node_count must be a whole number from 0 to 3");
    });
  }
});
