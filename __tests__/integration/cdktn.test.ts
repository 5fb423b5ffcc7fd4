/**
 * `npm run check:cdktn` as the owner runs it: installs CDK Terrain into the cache on the first run
 * (from the npm registry, hence an integration test; later runs reuse it), type-checks and builds
 * main.ts against it and compares its cdk.tf.json with cdktf's for the default site, each NAT mode and boot mode.
 * The comparison's own logic, with differences that must be reported, is tested in
 * __tests__/analysis/stack-diff.test.ts.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { blockCommands, docBlock } from "../helpers/docs.js";
import { resourceAddresses, siteConfig, synthStack } from "../helpers/synth.js";

const repo = join(import.meta.dirname, "..", "..");

describe("npm run check:cdktn", () => {
  it("exits 0 with every block of every site equal and only the provider version and stamps different", () => {
    // The command as docs/cdktn.md gives it.
    const [command] = blockCommands(docBlock("docs/cdktn.md", "The check").text);
    expect(command).toBe("npm run check:cdktn");
    const run = spawnSync("bash", ["-c", command!], { cwd: repo, encoding: "utf8", timeout: 600_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const lines = run.stdout.split("\n");
    // After npm's banner: the type-check, then the two sides.
    expect(lines).toContain("main.ts type-checks against cdktn's and @cdktn/provider-aws's declarations");
    expect(lines).toContain("differences: none");
    expect(run.stdout).toMatch(/^cdktn side: cdktn 0\.24\.0, @cdktn\/provider-aws 25\.7\.0 \(hashicorp\/aws [\d.]+\), constructs 10\.7\.\d/m);

    const header = lines.find((line) => line.startsWith("block "));
    expect(header?.split(/\s+/)).toEqual(["block", "default", "nat=gateway", "nat=instance", "boot=ipxe"]);
    // Every resource of the default site, and of the NAT gateway site, is in the table and equal.
    const cells = (address: string) => lines.find((line) => line.startsWith(`${address} `))?.trim().split(/\s+/).slice(1);
    for (const address of resourceAddresses(synthStack())) expect(cells(address)?.[0], address).toBe("=");
    for (const address of resourceAddresses(synthStack(siteConfig({ network: { nat: "gateway" }, budget: { monthlyUsd: 50 } })))) expect(cells(address)?.[1], address).toBe("=");
    expect(lines.filter((line) => /DIFFERS|cdktf only|cdktn only/.test(line))).toEqual([]);

    // Allowed: nothing but the library stamp and the provider's constraint and spelling.
    const start = lines.findIndex((line) => line.startsWith("allowed differences"));
    const allowed = lines.slice(start + 1, lines.indexOf("differences: none"));
    expect(allowed.map((line) => line.trim().split(":")[0])).toEqual(["//.metadata.version", "terraform.required_providers.aws.source", "terraform.required_providers.aws.version"]);
    expect(lines.at(-2)).toBe("check:cdktn: 4 sites synthesize the same with cdktn");
  }, 600_000);
});
