/**
 * The README's journey as a user types it, in a fresh copy of the repository, with the real tools
 * against moto: the commands are read out of README.md's shell blocks (and docs/teardown.md's
 * destroy line) and run one by one through bash in the directory the user would be in.
 *
 *   npm run synth (cdktf CLI) → tofu init / plan / apply (state at the default path) →
 *   npm run synth again: tofu's work is kept, `plan -detailed-exitcode` is empty without re-init →
 *   npm run cost → tofu apply -var talos_node_count=3 → npm run render:talos →
 *   tofu apply -var talos_node_count=0 → npm run teardown → tofu destroy → nothing left.
 *
 * The test's own additions, never part of what the user runs: a moto_override.tf.json in the
 * stack directory (provider endpoints on moto; every synth carries override files over), the
 * toolchain's tofu on PATH with its offline provider mirror, and AWS_ENDPOINT_URL for the aws CLI.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MotoServer, standInAmis } from "../helpers/moto.js";
import { siteConfig } from "../helpers/synth.js";
import { Tofu } from "../helpers/tofu.js";
import { toolchain, type Toolchain } from "../helpers/toolchain.js";
import { freshCopy, overrideForMoto, shellBlock, UserShell, userEnv } from "../helpers/user-shell.js";

const STACK_DIR = join("cdktf.out", "stacks", "deathstar");
const REGION = siteConfig().aws.region;

let tools: Toolchain;
let moto: MotoServer;
let root: string;

beforeAll(async () => {
  tools = toolchain();
  moto = await MotoServer.start(tools.venv, { amis: standInAmis(siteConfig()) });
  root = freshCopy("deathstar-journey-");
});

afterAll(async () => {
  await moto?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe.sequential("the README's journey in a fresh copy", () => {
  it("synth → apply → synth again with an empty plan → cost → nodes 3 → render → nodes 0 → teardown → destroy", async () => {
    const readme = join(root, "README.md");
    const user = new UserShell(root, userEnv(tools, moto.endpoint));
    const stackDir = join(root, STACK_DIR);
    let applied = false;
    try {
      // "npm ci && npm run synth": node_modules is already in place (see freshCopy).
      const [install] = shellBlock(readme, "npm ci && npm run synth").commands;
      expect(install).toMatch(/^npm ci && npm run synth\b/);
      expect(await user.ok(install!.replace(/^npm ci && /, ""))).toMatch(/projected/i);
      overrideForMoto(stackDir, moto.endpoint, tools);

      const deploy = shellBlock(readme, "tofu init").commands;
      expect(deploy).toEqual(["cd cdktf.out/stacks/deathstar", "tofu init", "tofu plan", "tofu apply"]);
      for (const command of deploy) {
        if (command === "tofu apply") applied = true;
        await user.ok(command);
      }
      expect(readdirSync(root).filter((name) => name.endsWith(".tfstate")), "state at the default path, which cdktf accepts").toEqual(["terraform.deathstar.tfstate"]);

      // The second synth, from where the user stands: it must run, and keep tofu init's work.
      const lockBefore = readFileSync(join(stackDir, ".terraform.lock.hcl"), "utf8");
      const again = await user.ok("npm run synth");
      expect(again).toMatch(/terraform\.deathstar\.lock\.hcl: provider lock updated/);
      expect(readFileSync(join(stackDir, ".terraform.lock.hcl"), "utf8"), "the lock file is unchanged").toBe(lockBefore);
      expect(readFileSync(join(root, "terraform.deathstar.lock.hcl"), "utf8"), "and committed at the root").toBe(lockBefore);
      const replan = await user.run("tofu plan -detailed-exitcode -input=false");
      expect(replan.code, `no re-init, no changes:\n${replan.output}`).toBe(0);

      const [cost, teardown] = shellBlock(readme, "npm run cost").commands;
      expect(await user.ok(cost!)).toMatch(/total/i);

      const talos = shellBlock(readme, "tofu apply -var talos_node_count=3").commands;
      expect(talos.map((c) => c.replace(/\s+#.*$/, ""))).toEqual(["tofu apply -var talos_node_count=3", "npm run render:talos -- --out talos", "tofu apply -var talos_node_count=0"]);
      await user.ok(talos[0]!);
      expect((await moto.inventory(REGION)).instances, "three Talos nodes").toHaveLength(3);
      await user.ok(talos[1]!);
      expect(readdirSync(join(root, "talos")).length, "npm run render:talos wrote the Talos files into ./talos").toBeGreaterThan(0);
      await user.ok(talos[2]!);
      expect((await moto.inventory(REGION)).instances).toHaveLength(0);

      expect(teardown).toMatch(/^npm run teardown\b/);
      expect(await user.ok(teardown!)).toMatch(/Still billed after "pause"/);

      const destroy = shellBlock(join(root, "docs", "teardown.md"), "tofu -chdir=cdktf.out/stacks/deathstar destroy").commands.find(
        (c) => c === "tofu -chdir=cdktf.out/stacks/deathstar destroy",
      );
      await user.ok("cd ../../..");
      await user.ok(destroy!);
      applied = false;
      const left = await moto.inventory(REGION);
      expect({ vpcs: left.vpcs, instances: left.instances, addresses: left.addresses }).toEqual({ vpcs: [], instances: [], addresses: [] });
    } finally {
      if (applied && existsSync(stackDir)) await new Tofu(tools, stackDir).destroy().catch(() => undefined);
    }
  });
});
