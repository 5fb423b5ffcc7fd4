/**
 * The adopt preflight: after the decisions are written and the stack synthesized, `tofu plan`
 * must show that adopting keeps what it matched. `preflightProblems` reads the plan (pure);
 * `planStack` runs `tofu init` and `tofu plan` in the stack directory.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AdoptFile } from "../../config/adopt-file.js";
import { identityMatches } from "./match.js";
import type { StateInstance } from "./state.js";
import { CommandError } from "../../lib/command-error.js";

/** `tofu show -json <plan>`: only the parts the preflight reads. */
export interface PlanJson {
  readonly resource_changes?: readonly {
    readonly address: string;
    readonly type: string;
    readonly previous_address?: string;
    readonly change: { readonly actions: readonly string[]; readonly after?: Readonly<Record<string, unknown>> | null; readonly importing?: unknown };
  }[];
}

/** Counts by what the plan does, for the one-line summary. */
export interface PlanSummary {
  readonly import: number;
  readonly move: number;
  readonly create: number;
  readonly update: number;
  readonly forget: number;
  readonly destroy: number;
}

/** The preflight refused: exit 3; the adopt file and cdktf.out hold the decisions, nothing was applied. */
export class PreflightError extends CommandError {
  constructor(message: string) {
    super(`preflight refused: ${message}`, { exitCode: 3, untouched: "Nothing was applied; the old state file was not modified." });
  }
}

export function summarize(plan: PlanJson): PlanSummary {
  const changes = plan.resource_changes ?? [];
  const has = (action: string) => changes.filter((c) => c.change.actions.includes(action)).length;
  return {
    import: changes.filter((c) => c.change.importing).length,
    move: changes.filter((c) => c.previous_address && c.previous_address !== c.address).length,
    create: changes.filter((c) => c.change.actions.includes("create") && !c.change.actions.includes("delete")).length,
    update: has("update"),
    forget: has("forget"),
    destroy: has("delete"),
  };
}

/**
 * What the plan must not do: destroy or replace an adopted object, destroy anything adopt did not
 * decide to destroy (`destroyable`: unmatched old resources under `--unmatched destroy`), create an
 * adopted address anew, or create an object the old state already holds (same type and identity,
 * inline routes and rules included: AWS would refuse it as a duplicate).
 */
export function preflightProblems(plan: PlanJson, decisions: AdoptFile, existing: readonly StateInstance[], destroyable: ReadonlySet<string>): string[] {
  const adopted = new Set([...decisions.moved.map((m) => m.to), ...decisions.import.map((i) => i.to)]);
  const problems: string[] = [];
  for (const change of plan.resource_changes ?? []) {
    const { actions } = change.change;
    const base = change.address.replace(/\[[^\]]*\]$/, "");
    if (actions.includes("delete")) {
      const verb = actions.includes("create") ? "replace" : "destroy";
      if (adopted.has(base)) problems.push(`${change.address}: the plan would ${verb} an adopted object`);
      else if (verb === "destroy" && !destroyable.has(base)) problems.push(`${change.address}: the plan would destroy it, which adopt did not decide`);
    } else if (actions.includes("create")) {
      if (adopted.has(base) && !change.change.importing) problems.push(`${change.address}: adopted, yet the plan would create it anew`);
      const twin = existing.find((e) => e.type === change.type && identityMatches(change.type, change.change.after ?? {}, e.attributes));
      if (twin) problems.push(`${change.address}: the plan would create it, but ${twin.address} already exists with the same identity (AWS refuses the duplicate)`);
    }
  }
  return problems;
}

export interface TofuRun {
  /** The OpenTofu executable. @default "tofu" */
  readonly tofu?: string;
}

/** `tofu init` + `tofu plan` in `stackDir`, returning `tofu show -json` of the plan. */
export function planStack(stackDir: string, options: TofuRun = {}): PlanJson {
  const tofu = options.tofu ?? "tofu";
  const scratch = mkdtempSync(join(tmpdir(), "deathstar-preflight-"));
  const run = (args: readonly string[]): string => {
    const result = spawnSync(tofu, [`-chdir=${stackDir}`, ...args], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (result.error) throw new PreflightError(`cannot run ${tofu} (${result.error.message}); install OpenTofu (version in .terraform-version) and run "npm run adopt" again`);
    if (result.status !== 0) throw new PreflightError(`tofu ${args[0]} failed in ${stackDir}:\n${(result.stderr || result.stdout).trim().split("\n").slice(-30).join("\n")}`);
    return result.stdout;
  };
  try {
    const planFile = join(scratch, "adopt.tfplan");
    run(["init", "-input=false", "-no-color"]);
    run(["plan", "-input=false", "-no-color", "-lock=false", `-out=${planFile}`]);
    return JSON.parse(run(["show", "-json", "-no-color", planFile])) as PlanJson;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
