/**
 * The synthesized stack in both Talos boot modes passes `tofu validate` against the real AWS
 * provider schema (the cached provider mirror), so every attribute the talos-node launch template,
 * data source, instances and outputs use exists with the right type.
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { siteConfig, synthStack } from "../helpers/synth.js";
import { toolchain } from "../helpers/toolchain.js";
import { scratchDir } from "../helpers/processes.js";

function tofu(dir: string, args: string[]) {
  const tools = toolchain();
  const result = spawnSync(tools.tofu, args, {
    cwd: dir,
    encoding: "utf8",
    timeout: 300_000,
    env: { ...process.env, ...tools.env, TF_CLI_CONFIG_FILE: tools.cliConfigFile, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("tofu validate", () => {
  const modes = [
    ["talos-ami", siteConfig()],
    ["ipxe", siteConfig({ talos: { boot: "ipxe", ipxeAmiId: "ami-0123456789abcdef0" } })],
    // A node type without CPU credits: the launch template has no credit_specification block.
    ["talos-ami on a1.metal", siteConfig({ talos: { nodeInstanceType: "a1.metal", cozystack: { bundle: "paas-full" } } })],
  ] as const;
  for (const [mode, config] of modes) {
    it(`boot ${mode}: the stack is valid for the AWS provider`, () => {
      const dir = scratchDir(`validate-${mode}`);
      writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify(synthStack(config)));
      // The mirror holds the provider version built from source; pin to it for this test only.
      writeFileSync(
        join(dir, "provider_override.tf.json"),
        JSON.stringify({ terraform: { required_providers: { aws: { source: "hashicorp/aws", version: toolchain().awsProviderVersion } } } }),
      );
      const init = tofu(dir, ["init", "-backend=false", "-input=false", "-no-color"]);
      expect(init.status, init.output).toBe(0);
      const validate = tofu(dir, ["validate", "-json", "-no-color"]);
      const report = JSON.parse(validate.output) as { valid: boolean; diagnostics: { severity: string; summary: string; detail: string }[] };
      expect(report.diagnostics.filter((d) => d.severity === "error"), validate.output).toEqual([]);
      expect(report.valid).toBe(true);
    });
  }
});
