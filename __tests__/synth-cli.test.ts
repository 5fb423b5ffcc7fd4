/** The real entry point, as `cdktf synth` runs it: good configs write cdktf.out, bad ones write nothing. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderJsonSchema, SCHEMA_FILE } from "../scripts/schema.js";

const repo = join(import.meta.dirname, "..");

function synth(outdir: string, configFile?: string) {
  return spawnSync(process.execPath, ["--import", "tsx", join(repo, "main.ts")], {
    cwd: repo,
    env: { ...process.env, CDKTF_OUTDIR: outdir, DEATHSTAR_CONFIG: configFile ?? "" },
    encoding: "utf8",
    timeout: 60_000,
  });
}

describe("synth entry point", () => {
  const work = mkdtempSync(join(tmpdir(), "deathstar-synth-"));
  const outdir = join(work, "cdktf.out");

  it("writes cdktf.out/stacks/deathstar/cdk.tf.json for the default site", () => {
    const result = synth(outdir);
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    const stack = JSON.parse(readFileSync(join(outdir, "stacks", "deathstar", "cdk.tf.json"), "utf8"));
    expect(stack.resource.aws_vpc.main.cidr_block).toBe("10.20.0.0/16");
  });

  it("a bad config fails with every problem named and leaves the previous output untouched", () => {
    const before = readFileSync(join(outdir, "stacks", "deathstar", "cdk.tf.json"), "utf8");
    const bad = join(work, "bad.json");
    writeFileSync(bad, JSON.stringify({ network: { privateSubnet: { cidr: "10.20.1.0/24" } }, bastion: { privateIp: "10.20.200.1" } }));
    const result = synth(outdir, bad);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/network\.privateSubnet\.cidr: overlaps the public subnet/);
    expect(result.stderr).toMatch(/bastion\.privateIp: 10\.20\.200\.1 is outside the private subnet/);
    expect(result.stderr).toMatch(/Nothing was written/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(join(outdir, "stacks", "deathstar", "cdk.tf.json"), "utf8")).toBe(before);
    expect(readdirSync(work).filter((name) => name.includes("partial"))).toEqual([]);
  });

  it("a bad config creates no output directory at all on a clean checkout", () => {
    const fresh = join(work, "fresh", "cdktf.out");
    mkdirSync(join(work, "fresh"));
    const result = synth(fresh, join(work, "missing.yaml"));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/DEATHSTAR_CONFIG: cannot read .*missing\.yaml/);
    expect(existsSync(fresh)).toBe(false);
  });
});

describe("config.schema.json", () => {
  it("is current (run `npm run schema` after changing config/schema.ts)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(renderJsonSchema());
  });
});
