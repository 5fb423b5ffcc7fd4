/**
 * Compares two synthesized stacks (two cdk.tf.json, e.g. this stack built with cdktf and with CDK
 * Terrain) leaf by leaf, and says which differences come with switching libraries by design.
 * `npm run check:cdktn` (scripts/check-cdktn.ts) prints the result; docs/cdktn.md reads it.
 */
import { synthesizedBlocks, type SynthesizedBlock } from "./synthesized.js";

/** One leaf (or whole subtree) present on one side only or with another value. */
export interface StackDifference {
  /** JSON path in cdk.tf.json, e.g. "resource.aws_vpc.main.cidr_block". */
  readonly path: string;
  readonly left: unknown;
  readonly right: unknown;
  /** Why this difference is expected from switching libraries; undefined when the stack itself differs. */
  readonly allowed?: string;
}

/** How a block fares between the two stacks. */
export type BlockComparison = "equal" | "different" | "left only" | "right only";

export interface StackComparison {
  readonly differences: readonly StackDifference[];
  /** Every addressable block of either stack (resource, data, output, variable, provider) and how it compares. */
  readonly blocks: ReadonlyMap<string, BlockComparison>;
}

/** Terraform's default provider namespace: a source address of just "aws" means "hashicorp/aws" on the default registry. */
const DEFAULT_NAMESPACE = "hashicorp";

/** A provider source address with its implied namespace filled in ("aws" → "hashicorp/aws"). */
export function normalProviderSource(source: string): string {
  return source.includes("/") ? source.toLowerCase() : `${DEFAULT_NAMESPACE}/${source.toLowerCase()}`;
}

/**
 * The differences expected from switching libraries, with the reason:
 *  - `//` at the top holds the library's name and version stamp, a comment OpenTofu ignores;
 *  - a required provider's version constraint is what the bindings were generated from (the
 *    point of changing libraries), checked on its own at `tofu init` against the lock file;
 *  - a required provider's source spelled with or without its implied "hashicorp/" namespace is
 *    the same provider address.
 */
function allowance(path: readonly string[], left: unknown, right: unknown): string | undefined {
  if (path[0] === "//" && path[1] === "metadata" && path[2] === "version") return "the library's version stamp in a comment block";
  if (path[0] !== "terraform" || path[1] !== "required_providers" || path.length !== 4) return undefined;
  if (path[3] === "version") return "the provider version constraint of the bindings";
  if (path[3] === "source" && typeof left === "string" && typeof right === "string" && normalProviderSource(left) === normalProviderSource(right)) {
    return `the same provider address, ${normalProviderSource(left)}`;
  }
  return undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function walk(left: unknown, right: unknown, path: string[], out: StackDifference[]): void {
  if (isObject(left) && isObject(right)) {
    const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
    for (const key of keys) walk(left[key], right[key], [...path, key], out);
    return;
  }
  if (Array.isArray(left) && Array.isArray(right) && left.length === right.length) {
    left.forEach((item, i) => walk(item, right[i], [...path, String(i)], out));
    return;
  }
  if (left === right) return;
  out.push({ path: path.join("."), left, right, allowed: allowance(path, left, right) });
}

/** Every leaf difference between two synthesized stacks, and how each block compares. */
export function compareStacks(left: Readonly<Record<string, unknown>>, right: Readonly<Record<string, unknown>>): StackComparison {
  const differences: StackDifference[] = [];
  walk(left, right, [], differences);
  const byAddress = (stack: Readonly<Record<string, unknown>>) => new Map(synthesizedBlocks(stack).map((block) => [block.address, block]));
  const leftBlocks = byAddress(left);
  const rightBlocks = byAddress(right);
  const blocks = new Map<string, BlockComparison>();
  for (const address of [...new Set([...leftBlocks.keys(), ...rightBlocks.keys()])].sort()) {
    const [a, b] = [leftBlocks.get(address), rightBlocks.get(address)];
    blocks.set(address, a === undefined ? "right only" : b === undefined ? "left only" : sameBlock(a, b) ? "equal" : "different");
  }
  return { differences, blocks };
}

function sameBlock(a: SynthesizedBlock, b: SynthesizedBlock): boolean {
  const differences: StackDifference[] = [];
  walk(a.attributes, b.attributes, [], differences);
  return differences.length === 0;
}

/** The differences no allowance covers: the stack itself synthesizes differently. */
export function blockingDifferences(comparison: StackComparison): StackDifference[] {
  return comparison.differences.filter((difference) => difference.allowed === undefined);
}

/**
 * The table `npm run check:cdktn` prints: every block of any site (the left stack is cdktf's, the
 * right cdktn's), one column per site: "=", "DIFFERS", on one side only, or "-" (not in that site).
 */
export function comparisonTable(comparisons: ReadonlyMap<string, StackComparison>): string[] {
  const labels = [...comparisons.keys()];
  const addresses = [...new Set([...comparisons.values()].flatMap((comparison) => [...comparison.blocks.keys()]))].sort();
  const mark = { equal: "=", different: "DIFFERS", "left only": "cdktf only", "right only": "cdktn only" } as const satisfies Record<BlockComparison, string>;
  const width = Math.max(5, ...addresses.map((address) => address.length));
  const widths = labels.map((label) => Math.max(label.length, 10));
  const row = (first: string, cells: readonly string[]) => [first.padEnd(width), ...cells.map((cell, i) => cell.padEnd(widths[i]!))].join("  ").trimEnd();
  return [
    row("block", labels),
    ...addresses.map((address) => row(address, labels.map((label) => {
      const state = comparisons.get(label)!.blocks.get(address);
      return state === undefined ? "-" : mark[state];
    }))),
  ];
}

/** Every difference, once per path and pair of values, with the sites it occurs in. */
export function differenceLines(comparisons: ReadonlyMap<string, StackComparison>): { allowed: string[]; blocking: string[] } {
  const seen = new Map<string, { line: string; sites: string[]; allowed: boolean }>();
  for (const [label, comparison] of comparisons) {
    for (const difference of comparison.differences) {
      const line = `${difference.path}: cdktf ${JSON.stringify(difference.left) ?? "(absent)"}, cdktn ${JSON.stringify(difference.right) ?? "(absent)"}${difference.allowed ? ` (${difference.allowed})` : ""}`;
      const entry = seen.get(line) ?? { line, sites: [], allowed: difference.allowed !== undefined };
      entry.sites.push(label);
      seen.set(line, entry);
    }
  }
  const format = (entry: { line: string; sites: string[] }) => `  ${entry.line} [${entry.sites.join(", ")}]`;
  const entries = [...seen.values()];
  return { allowed: entries.filter((e) => e.allowed).map(format), blocking: entries.filter((e) => !e.allowed).map(format) };
}
