/**
 * `npm run synth` runs the bundled app itself (scripts/synth-cli.cjs loaded before dist/main.cjs)
 * instead of through cdktf's CLI: it must write exactly what `npx cdktf synth` writes and fail the
 * same way. Both run in the same throwaway project (the repo's package.json and cdktf.json, its
 * scripts, dist and node_modules linked), so the absolute paths cdktf records in the manifest (the
 * annotations' stack traces) are the same; nothing in the output is excluded.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { scratchDir } from "./helpers/processes.js";
import { freshCopy } from "./helpers/user-shell.js";

const repo = join(import.meta.dirname, "..");

function project(prefix: string): string {
  const root = scratchDir(prefix);
  for (const file of ["package.json", "cdktf.json"]) copyFileSync(join(repo, file), join(root, file));
  for (const dir of ["scripts", "dist", "node_modules"]) symlinkSync(join(repo, dir), join(root, dir));
  return root;
}

/**
 * Both ways, with the same environment: a CDKTF_OUTDIR and a TF_VAR_ that the CLI does not pass
 * on (it sets CDKTF_OUTDIR to cdktf.json's output, and TF_VAR_* are for tofu only).
 */
function run(root: string, way: "npm" | "cli", configFile = "") {
  const [command, args] = way === "npm" ? ["npm", ["run", "--silent", "synth"]] : ["npx", ["cdktf", "synth"]];
  return spawnSync(command, args as string[], {
    cwd: root,
    env: { ...process.env, DEATHSTAR_CONFIG: configFile, CDKTF_OUTDIR: join(root, "elsewhere"), TF_VAR_talos_node_count: "3", CHECKPOINT_DISABLE: "1" },
    encoding: "utf8",
    timeout: 120_000,
  });
}

/** Every file and directory below `dir`, relative, with a file's bytes. */
function tree(dir: string): Map<string, string> {
  const entries = new Map<string, string>();
  const walk = (path: string) => {
    for (const name of readdirSync(path).sort()) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) {
        entries.set(`${relative(dir, full)}/`, "");
        walk(full);
      } else entries.set(relative(dir, full), readFileSync(full, "latin1"));
    }
  };
  walk(dir);
  return entries;
}

/** Output lines without colour codes, the CLI's spinner frames and indentation. */
const lines = (text: string) =>
  text
    .replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");

describe("npm run synth beside npx cdktf synth", () => {
  it("writes the same cdktf.out, byte for byte, and prints the same cost line, warnings and stack line", () => {
    const root = project("synth-same");
    // Spot nodes on unlimited credits: a config that synthesizes with a warning, so both ways must print it.
    const spot = join(root, "spot.json");
    writeFileSync(spot, JSON.stringify({ talos: { nodeMarket: "spot" } }));
    const cli = run(root, "cli", spot);
    expect(cli.status, cli.stderr).toBe(0);
    renameSync(join(root, "cdktf.out"), join(root, "cli.out"));
    const npm = run(root, "npm", spot);
    expect(npm.status, npm.stderr).toBe(0);
    expect(npm.stderr).toBe("");
    expect(existsSync(join(root, "elsewhere"))).toBe(false);

    const [fromCli, fromNpm] = [tree(join(root, "cli.out")), tree(join(root, "cdktf.out"))];
    expect([...fromNpm.keys()]).toEqual(["manifest.json", "stacks/", "stacks/deathstar/", "stacks/deathstar/cdk.tf.json"]);
    expect([...fromNpm.keys()]).toEqual([...fromCli.keys()]);
    for (const [path, bytes] of fromNpm) expect(bytes, path).toBe(fromCli.get(path));
    // TF_VAR_talos_node_count reached neither app: the count stays the variable's.
    expect(readFileSync(join(root, "cdktf.out", "stacks", "deathstar", "cdk.tf.json"), "utf8")).toContain('"count": "${var.talos_node_count}"');

    const printed = lines(npm.stdout);
    expect(printed[0]).toMatch(/^cost: \$[\d.]+\/month projected/);
    expect(printed.filter((line) => line.startsWith("WARN [deathstar/talos-nodes]: ")).length).toBeGreaterThan(0);
    expect(printed.at(-1)).toBe("Generated Terraform code for the stacks: deathstar");
    const cliPrinted = new Set(lines(cli.stdout));
    for (const line of printed) expect(cliPrinted.has(line), line).toBe(true);
  }, 180_000);

  it("fails the same way on a bad config: exit 1, every problem on stderr, nothing written", () => {
    const root = project("synth-bad");
    const bad = join(root, "bad.json");
    writeFileSync(bad, JSON.stringify({ network: { privateSubnet: { cidr: "10.20.1.0/24" } }, bastion: { privateIp: "10.20.200.1" } }));
    const npm = run(root, "npm", bad);
    const cli = run(root, "cli", bad);
    for (const result of [npm, cli]) {
      expect(result.status).toBe(1);
      expect(existsSync(join(root, "cdktf.out"))).toBe(false);
    }
    const problems = lines(npm.stderr);
    expect(problems[0]).toBe(`synth: invalid site config (${bad}):`);
    expect(problems).toContain("- network.privateSubnet.cidr: overlaps the public subnet 10.20.1.0/24; pick a disjoint block, e.g. 10.20.2.0/24");
    expect(problems).toContain("- bastion.privateIp: 10.20.200.1 is outside the private subnet 10.20.1.0/24");
    expect(problems.at(-1)).toBe("Nothing was written.");
    // The CLI prints the app's stderr inside its own frame ("cdktf encountered an error while synthesizing").
    const cliStderr = new Set(lines(cli.stderr));
    for (const line of problems) expect(cliStderr.has(line), line).toBe(true);
    expect(readdirSync(root).sort()).toEqual(["bad.json", "cdktf.json", "dist", "node_modules", "package.json", "scripts"]);
  }, 180_000);

  it("refuses to run beside a ./terraform.tfstate, as the CLI does: exit 1, the file named, nothing written", () => {
    const root = project("synth-tfstate");
    writeFileSync(join(root, "terraform.tfstate"), '{"version": 4, "lineage": "old"}\n');
    const npm = run(root, "npm");
    const cli = run(root, "cli");
    for (const result of [npm, cli]) {
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/terraform\.tfstate/);
      expect(existsSync(join(root, "cdktf.out"))).toBe(false);
    }
    expect(npm.stderr).toMatch(/npm run adopt" copies it into place \(docs\/existing-state\.md\)/);
    expect(npm.stderr).toMatch(/Nothing was written\.\n$/);
    expect(cli.stderr).toMatch(/Found 'terraform\.tfstate' Terraform state file/);
  }, 180_000);

  it("builds dist/ in a fresh clone, rebuilds it after a source edit and only then", () => {
    const root = freshCopy("synth-build");
    const synth = () => spawnSync("npm", ["run", "--silent", "synth"], { cwd: root, env: { ...process.env, DEATHSTAR_CONFIG: "" }, encoding: "utf8", timeout: 120_000 });
    const bundle = join(root, "dist", "main.cjs");
    const stackJson = join(root, "cdktf.out", "stacks", "deathstar", "cdk.tf.json");
    expect(existsSync(join(root, "dist"))).toBe(false);
    const first = synth();
    expect(first.status, first.stderr).toBe(0);
    expect(readFileSync(stackJson, "utf8")).toContain('"ManagedBy": "opentofu-cdktf"');

    // An edit to a source the app imports: the next synth runs the rebuilt bundle.
    const stackSource = join(root, "stacks", "deathstar.ts");
    writeFileSync(stackSource, readFileSync(stackSource, "utf8").replace('ManagedBy: "opentofu-cdktf"', 'ManagedBy: "opentofu-cdktf-edited"'));
    const edited = synth();
    expect(edited.status, edited.stderr).toBe(0);
    expect(readFileSync(stackJson, "utf8")).toContain('"ManagedBy": "opentofu-cdktf-edited"');

    // Nothing changed since: the bundle is not written again.
    const built = statSync(bundle).mtimeMs;
    const again = synth();
    expect(again.status, again.stderr).toBe(0);
    expect(statSync(bundle).mtimeMs).toBe(built);
  }, 180_000);
});
