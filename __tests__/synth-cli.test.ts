/**
 * The real entry point, as `cdktf synth` runs it: good configs write cdktf.out, bad ones write
 * nothing, and a new output keeps what `tofu init` made in the old one.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JSON_SCHEMA_FILE, renderJsonSchema } from "../config/json-schema.js";
import { scratchDir } from "./helpers/processes.js";
import { bundled } from "./helpers/build.js";
import { bundleHost, runCold } from "./helpers/bundles.js";

const repo = join(import.meta.dirname, "..");

const host = bundleHost();
const synthOptions = (outdir: string, configFile: string | undefined, cwd: string) => ({ cwd, env: { ...process.env, CDKTF_OUTDIR: outdir, DEATHSTAR_CONFIG: configFile ?? "" } });

/** The synth bundle warm (bundle-host.test.ts holds the host against cold runs). */
async function synth(outdir: string, configFile?: string, cwd = repo) {
  const result = await host.run("main.ts", [], synthOptions(outdir, configFile, cwd));
  expect(result.crashed, result.stderr).toBe(false);
  return { status: result.code, stdout: result.stdout, stderr: result.stderr };
}

describe("synth entry point", () => {
  const work = scratchDir("synth");
  const outdir = join(work, "cdktf.out");

  it("writes cdktf.out/stacks/deathstar/cdk.tf.json for the default site, started cold as cdktf starts it", async () => {
    const result = await runCold("main.ts", [], synthOptions(outdir, undefined, repo));
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
    const stack = JSON.parse(readFileSync(join(outdir, "stacks", "deathstar", "cdk.tf.json"), "utf8"));
    expect(stack.resource.aws_vpc.main.cidr_block).toBe("10.20.0.0/16");
  });

  it("a bad config fails with every problem named and leaves the previous output untouched", async () => {
    const before = readFileSync(join(outdir, "stacks", "deathstar", "cdk.tf.json"), "utf8");
    const bad = join(work, "bad.json");
    writeFileSync(bad, JSON.stringify({ network: { privateSubnet: { cidr: "10.20.1.0/24" } }, bastion: { privateIp: "10.20.200.1" } }));
    const result = await synth(outdir, bad);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/network\.privateSubnet\.cidr: overlaps the public subnet/);
    expect(result.stderr).toMatch(/bastion\.privateIp: 10\.20\.200\.1 is outside the private subnet/);
    expect(result.stderr).toMatch(/Nothing was written/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(join(outdir, "stacks", "deathstar", "cdk.tf.json"), "utf8")).toBe(before);
    expect(readdirSync(work).filter((name) => name.includes("partial"))).toEqual([]);
  });

  it("carries tofu init's .terraform/ and lock file into the new output; the lock is copied to the root to be committed", async () => {
    const project = join(work, "init-kept");
    mkdirSync(project);
    const out = join(project, "cdktf.out");
    expect((await synth(out, undefined, project)).status).toBe(0);
    const stackDir = join(out, "stacks", "deathstar");
    // What `tofu init` leaves behind (the real init runs in __tests__/integration/runbooks.test.ts).
    mkdirSync(join(stackDir, ".terraform", "providers"), { recursive: true });
    writeFileSync(join(stackDir, ".terraform", "terraform.tfstate"), "backend settings\n");
    writeFileSync(join(stackDir, ".terraform.lock.hcl"), "# lock\n");
    // An operator's override file is carried too; anything else the old output held is not.
    writeFileSync(join(stackDir, "local_override.tf.json"), "{}\n");
    writeFileSync(join(stackDir, "tfplan"), "old plan\n");
    const again = await synth(out, undefined, project);
    expect(again.status, again.stderr).toBe(0);
    expect(readFileSync(join(stackDir, ".terraform", "terraform.tfstate"), "utf8")).toBe("backend settings\n");
    expect(readFileSync(join(stackDir, ".terraform.lock.hcl"), "utf8")).toBe("# lock\n");
    expect(readFileSync(join(stackDir, "local_override.tf.json"), "utf8")).toBe("{}\n");
    expect(existsSync(join(stackDir, "tfplan"))).toBe(false);
    expect(readFileSync(join(project, "terraform.deathstar.lock.hcl"), "utf8")).toBe("# lock\n");
    expect(again.stdout).toMatch(/terraform\.deathstar\.lock\.hcl: provider lock updated .*; commit it/);

    // A fresh checkout (no cdktf.out) gets the committed lock in its stack directory.
    rmSync(out, { recursive: true });
    const fresh = await synth(out, undefined, project);
    expect(fresh.status, fresh.stderr).toBe(0);
    expect(readFileSync(join(stackDir, ".terraform.lock.hcl"), "utf8")).toBe("# lock\n");
    expect(existsSync(join(stackDir, ".terraform"))).toBe(false);
    expect(readdirSync(project).sort()).toEqual(["cdktf.out", "terraform.deathstar.lock.hcl"]);
  }, 90_000);

  it("needs no terraform binary: on a PATH with only node and git (OpenTofu's users) it writes the stack", () => {
    // cdktf's DataResource and import helpers run `terraform version` at synth; the stack avoids them.
    const bin = join(work, "only-node-and-git");
    mkdirSync(bin);
    for (const tool of ["node", "git"]) {
      const found = spawnSync("/bin/sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
      symlinkSync(realpathSync(found), join(bin, tool));
    }
    expect(spawnSync("/bin/sh", ["-c", "command -v terraform || command -v tofu"], { env: { PATH: bin } }).status).not.toBe(0);
    const out = join(work, "no-terraform", "cdktf.out");
    const result = spawnSync(join(bin, "node"), [bundled("main.ts")], {
      cwd: repo,
      env: { PATH: bin, HOME: work, CDKTF_OUTDIR: out, DEATHSTAR_CONFIG: "" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "stacks", "deathstar", "cdk.tf.json"), "utf8")).resource.terraform_data.talos_session).toBeDefined();
  });

  it("a bad config creates no output directory at all on a clean checkout", async () => {
    const fresh = join(work, "fresh", "cdktf.out");
    mkdirSync(join(work, "fresh"));
    const result = await synth(fresh, join(work, "missing.yaml"));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/DEATHSTAR_CONFIG: cannot read .*missing\.yaml/);
    expect(existsSync(fresh)).toBe(false);
  });
});

describe("config.schema.json", () => {
  it("is current (run `npm run schema` after changing config/schema.ts)", () => {
    expect(readFileSync(join(repo, JSON_SCHEMA_FILE), "utf8")).toBe(renderJsonSchema());
  });
});
