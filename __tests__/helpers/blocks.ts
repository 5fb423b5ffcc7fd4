/** Test helpers for security rules: synthesized blocks built by hand, and a view over them. */
import { evaluateRules } from "../../analysis/rules/aspect.js";
import type { SecurityRule } from "../../analysis/rules/rule.js";
import { StackView, type SynthesizedBlock } from "../../analysis/synthesized.js";

export function resourceBlock(type: string, name: string, attributes: Record<string, unknown>): SynthesizedBlock {
  return { kind: "resource", type, name, address: `${type}.${name}`, attributes };
}

export function dataBlock(type: string, name: string, attributes: Record<string, unknown>): SynthesizedBlock {
  return { kind: "data", type, name, address: `data.${type}.${name}`, attributes };
}

export function outputBlock(name: string, attributes: Record<string, unknown>): SynthesizedBlock {
  return { kind: "output", type: "output", name, address: `output.${name}`, attributes };
}

export function variableBlock(name: string, attributes: Record<string, unknown>): SynthesizedBlock {
  return { kind: "variable", type: "variable", name, address: `var.${name}`, attributes };
}

export function stackView(blocks: readonly SynthesizedBlock[]): StackView {
  return new StackView(blocks);
}

/** "address: problem" for every violation of one rule over `blocks`. */
export function findings(rule: SecurityRule, blocks: readonly SynthesizedBlock[]): string[] {
  return evaluateRules(blocks, [rule]).map((v) => `${v.address}: ${v.problem}`);
}
