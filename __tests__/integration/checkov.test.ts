/**
 * checkov on the planned stack. checkov's terraform_json parser crashes on cdktf output that sets
 * `terraform.required_version` ("this method receives only dicts"), so the scan runs on
 * `tofu show -json` of a real plan instead: OpenTofu from the cached toolchain, the provider from
 * the offline mirror, and moto standing in for AWS (data sources such as aws_caller_identity and
 * the AMI lookups are read during plan). Any failed check that is not in
 * security/checkov-skips.yaml fails the test, and so does a skip no scanned configuration needs.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { App } from "cdktf";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SiteConfig } from "../../config/schema.js";
import { DeathStarStack, STACK_NAME } from "../../stacks/deathstar.js";
import { firstDefaultsConfig, siteConfig, type SynthesizedStack } from "../helpers/synth.js";
import { CACHE_DIR, toolchain } from "../helpers/toolchain.js";
import { MotoServer, type MotoAmi } from "../helpers/moto.js";
import { scratchDir } from "../helpers/processes.js";
import { userEnv } from "../helpers/user-shell.js";

const REPO = join(import.meta.dirname, "../..");
const run = promisify(execFile);

interface Skip {
  readonly id: string;
  readonly reason: string;
}
const SKIPS = parseYaml(readFileSync(join(REPO, "security/checkov-skips.yaml"), "utf8")) as Skip[];

/** Configurations scanned: together they create every resource type the stack can synthesize. */
const VARIANTS: readonly [string, Readonly<SiteConfig>][] = [
  ["the default site (the bastion its own NAT, on spot; caches in S3)", siteConfig()],
  ["the first defaults (NAT instance, cache volume)", firstDefaultsConfig()],
  ["NAT gateway, MikroTik group", siteConfig({ network: { nat: "gateway" }, access: { mikrotik: { enabled: true, sources: ["2001:db8::1/128"] } } })],
  ["iPXE boot", siteConfig({ talos: { boot: "ipxe", ipxeAmiId: "ami-0123456789abcdef0" } })],
];

interface CheckovCheck {
  readonly check_id: string;
  readonly check_name: string;
  readonly resource: string;
}
interface CheckovReport {
  readonly results: { readonly passed_checks: CheckovCheck[]; readonly failed_checks: CheckovCheck[]; readonly parsing_errors: string[] };
}

interface AmiLookup {
  readonly owners?: string[];
  readonly filter?: { name: string; values: string[] }[];
}

/**
 * moto knows no third-party images (Sidero's Talos AMIs, an imported iPXE AMI): one image per
 * `data.aws_ami` lookup of the stacks, matching its owner and filters.
 */
function amisFor(stacks: readonly SynthesizedStack[]): MotoAmi[] {
  const lookups = stacks.flatMap((stack) => Object.values(stack.data?.aws_ami ?? {}) as AmiLookup[]);
  return lookups.map((lookup, i) => {
    const filter = (name: string) => lookup.filter?.find((f) => f.name === name)?.values[0];
    return {
      ami_id: filter("image-id") ?? `ami-${(i + 1).toString(16).padStart(17, "0")}`,
      name: (filter("name") ?? `lookup-${i}`).replace(/\*/g, "x"),
      description: "stand-in for a lookup of the synthesized stack",
      owner_id: lookup.owners?.find((owner) => /^\d{12}$/.test(owner)) ?? "123456789012",
      architecture: filter("architecture") === "x86_64" ? "x86_64" : "arm64",
      root_device_name: "/dev/xvda",
    };
  });
}

describe("checkov on the planned stack", () => {
  const tools = toolchain();
  const work = scratchDir("checkov");
  const skipsNeeded = new Set<string>();
  let moto: MotoServer | undefined;
  // Registered before any work below, so moto stops even when synth fails (and before work goes).
  afterAll(async () => {
    await moto?.stop();
  });

  /** Environment of tofu: offline provider mirror, shared plugin cache, every AWS call to moto, no real credentials. */
  const tofuEnv = (): NodeJS.ProcessEnv => {
    mkdirSync(join(CACHE_DIR, "plugin-cache"), { recursive: true });
    return { ...userEnv(tools, moto!.endpoint), TF_IN_AUTOMATION: "1" };
  };
  const tofu = (dir: string, args: string[]) =>
    run(tools.tofu, args, { cwd: dir, env: tofuEnv(), timeout: 600_000, maxBuffer: 256 * 1024 * 1024 }).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`tofu ${args.join(" ")} failed in ${dir}:\n${error.stderr || error.message}`);
    });

  /** Each variant synthesized by the real App into its own scratch dir, with the test-only override next to it. */
  const stackDirs = VARIANTS.map(([name, config]) => {
    const dir = join(work, name.replace(/[^a-z0-9]+/gi, "-").replace(/-$/, ""));
    mkdirSync(dir);
    const app = new App({ outdir: join(dir, "cdktf.out"), skipValidation: false });
    new DeathStarStack(app, config);
    app.synth();
    const stackDir = join(dir, "cdktf.out", "stacks", STACK_NAME);
    // The provider version actually built, a state file in the scratch dir, no credential checks.
    writeFileSync(
      join(stackDir, "checkov_override.tf.json"),
      JSON.stringify({
        terraform: { backend: { local: { path: join(dir, "terraform.tfstate") } }, required_providers: { aws: { source: "hashicorp/aws", version: tools.awsProviderVersion } } },
        provider: { aws: { skip_credentials_validation: true, skip_requesting_account_id: true, skip_metadata_api_check: true } },
      }),
    );
    return stackDir;
  });
  const synthesized = stackDirs.map((dir) => JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8")) as SynthesizedStack);

  beforeAll(async () => {
    moto = await MotoServer.start(tools.venv, { amis: amisFor(synthesized) });
  });

  it("has a one-line reason for every skip, and no duplicates", () => {
    expect(SKIPS.length).toBeGreaterThan(0);
    for (const skip of SKIPS) {
      expect(skip.id).toMatch(/^CKV2?_AWS_\d+$/);
      expect(typeof skip.reason === "string" && skip.reason.length > 20 && !skip.reason.includes("\n"), `${skip.id} needs a one-line reason`).toBe(true);
    }
    expect(new Set(SKIPS.map((s) => s.id)).size).toBe(SKIPS.length);
  });

  it("scans configurations that synthesize differently (a repeat would only cost a plan and a scan)", () => {
    const texts = synthesized.map((stack) => JSON.stringify(stack));
    const repeats = VARIANTS.filter((_, i) => texts.indexOf(texts[i]!) !== i).map(([name]) => name);
    expect(repeats).toEqual([]);
  });

  it.each(VARIANTS.map(([name], i) => [name, i] as const))("finds nothing new in the %s", async (_name, i) => {
    const [, config] = VARIANTS[i]!;
    const stackDir = stackDirs[i]!;
    // Plan every node the config has addresses for, so the node instances are scanned too.
    const nodeCount = "talos_node_count" in (synthesized[i]!.variable ?? {}) ? [`-var=talos_node_count=${config.talos.nodeIps.length}`] : [];
    await tofu(stackDir, ["init", "-input=false", "-no-color"]);
    await tofu(stackDir, ["plan", "-input=false", "-no-color", "-lock=false", "-out=tfplan", ...nodeCount]);
    const { stdout: planJson } = await tofu(stackDir, ["show", "-json", "-no-color", "tfplan"]);
    writeFileSync(join(stackDir, "plan.json"), planJson);

    const scan = await run(
      join(tools.venv, "bin", "checkov"),
      // No --skip-check: skipped checks would vanish from the report, and stale skips must show.
      ["-f", join(stackDir, "plan.json"), "--framework", "terraform_plan", "--skip-download", "-o", "json", "--compact"],
      { timeout: 600_000, maxBuffer: 64 * 1024 * 1024 },
    ).catch((error: { stdout?: string; stderr?: string; code?: number }) => {
      // checkov exits 1 when checks fail; the report is still on stdout.
      if (error.code === 1 && error.stdout) return { stdout: error.stdout };
      throw new Error(`checkov failed:\n${error.stderr}`);
    });
    const { results } = JSON.parse(scan.stdout) as CheckovReport;
    expect(results.parsing_errors).toEqual([]);
    expect(results.passed_checks.length).toBeGreaterThan(30);
    const skipIds = new Set(SKIPS.map((s) => s.id));
    results.failed_checks.filter((c) => skipIds.has(c.check_id)).forEach((c) => skipsNeeded.add(c.check_id));
    expect(results.failed_checks.filter((c) => !skipIds.has(c.check_id)).map((c) => `${c.check_id} ${c.resource}: ${c.check_name}`)).toEqual([]);
  });

  it("needs every skip for some scanned configuration", () => {
    expect(SKIPS.map((s) => s.id).filter((id) => !skipsNeeded.has(id))).toEqual([]);
  });
});
