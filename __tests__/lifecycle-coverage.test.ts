/**
 * Why the lifecycle test applies three scenarios rather than all six pairs of NAT mode and boot
 * mode (helpers/lifecycle-scenarios.ts): the stack is a product of the two settings. Each block
 * (resource, data source, output, variable, local value) is the same in every pair that shares its NAT mode, or
 * in every pair that shares its boot mode; no block that follows one setting refers to a block that
 * follows the other. So every block of every pair is applied, word for word, by the scenario with
 * its NAT mode or by the one with its boot mode, next to the same blocks it refers to.
 */
import { describe, expect, it } from "vitest";
import { BOOT_MODES, LIFECYCLE_SCENARIOS, lifecycleOverride, NAT_MODES, type BootMode, type NatMode } from "./helpers/lifecycle-scenarios.js";
import { siteConfig, synthStack } from "./helpers/synth.js";

/** Every block of a synthesized stack by address ("aws_vpc.main", "data.aws_ami.talos_node", "output.x", "variable.x", "local.x"), as JSON. */
function blocks(nat: NatMode, boot: BootMode): Map<string, string> {
  const stack = synthStack(siteConfig(lifecycleOverride(nat, boot)));
  const found = new Map<string, string>();
  const add = (prefix: string, byType: Record<string, Record<string, unknown>> | undefined) => {
    for (const [type, byName] of Object.entries(byType ?? {})) for (const [name, body] of Object.entries(byName)) found.set(`${prefix}${type}.${name}`, JSON.stringify(body));
  };
  add("", stack.resource);
  add("data.", stack.data);
  for (const [name, body] of Object.entries(stack.output ?? {})) found.set(`output.${name}`, JSON.stringify(body));
  for (const [name, body] of Object.entries(stack.variable ?? {})) found.set(`variable.${name}`, JSON.stringify(body));
  for (const [name, body] of Object.entries(stack.locals ?? {})) found.set(`local.${name}`, JSON.stringify(body));
  return found;
}

const PAIRS = NAT_MODES.flatMap((nat) => BOOT_MODES.map((boot) => ({ nat, boot, blocks: blocks(nat, boot) })));
const body = (nat: NatMode, boot: BootMode, address: string) => PAIRS.find((p) => p.nat === nat && p.boot === boot)!.blocks.get(address);
const ADDRESSES = [...new Set(PAIRS.flatMap((pair) => [...pair.blocks.keys()]))].sort();

/** The addresses a block refers to: `${aws_x.y.z}`, `var.x` and `local.x` interpolations and depends_on entries. */
function references(json: string): string[] {
  return [...json.matchAll(/\b((?:data\.)?aws_[a-z0-9_]+\.[a-z0-9_]+|terraform_data\.[a-z0-9_]+|var\.[a-z0-9_]+|local\.[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/^var\./, "variable."));
}

/** Blocks whose text changes with the NAT mode (for some boot mode), and those that change with the boot mode. */
const followsNat = ADDRESSES.filter((a) => BOOT_MODES.some((boot) => new Set(NAT_MODES.map((nat) => body(nat, boot, a))).size > 1));
const followsBoot = ADDRESSES.filter((a) => NAT_MODES.some((nat) => new Set(BOOT_MODES.map((boot) => body(nat, boot, a))).size > 1));

describe("the lifecycle scenarios cover every block of every NAT mode and boot mode", () => {
  it("apply each NAT mode and each boot mode once", () => {
    expect(new Set(LIFECYCLE_SCENARIOS.map((s) => s.nat))).toEqual(new Set(NAT_MODES));
    expect(new Set(LIFECYCLE_SCENARIOS.map((s) => s.boot))).toEqual(new Set(BOOT_MODES));
  });

  it("both settings change blocks (the check sees them)", () => {
    expect(followsNat).toEqual(expect.arrayContaining(["aws_nat_gateway.main", "aws_route.private_default"]));
    expect(followsBoot).toEqual(expect.arrayContaining(["aws_launch_template.talos_node"]));
  });

  it("no block follows both settings", () => {
    expect(followsNat.filter((a) => followsBoot.includes(a))).toEqual([]);
  });

  it("no block that follows one setting refers to a block that follows the other", () => {
    const crossing: string[] = [];
    for (const [own, other] of [[followsNat, followsBoot], [followsBoot, followsNat]] as const) {
      for (const address of own) {
        for (const pair of PAIRS) {
          const json = pair.blocks.get(address);
          for (const target of json ? references(json) : []) if (other.includes(target)) crossing.push(`${address} -> ${target} (nat=${pair.nat} boot=${pair.boot})`);
        }
      }
    }
    expect(crossing).toEqual([]);
  });

  it("every block of every pair is applied word for word by a scenario", () => {
    const scenarios = PAIRS.filter((pair) => LIFECYCLE_SCENARIOS.some(({ nat, boot }) => pair.nat === nat && pair.boot === boot));
    const applied = new Set(scenarios.flatMap((pair) => [...pair.blocks.entries()].map(([address, json]) => `${address}=${json}`)));
    const missing = PAIRS.flatMap((pair) => [...pair.blocks.entries()].filter(([address, json]) => !applied.has(`${address}=${json}`)).map(([address]) => `${address} (nat=${pair.nat} boot=${pair.boot})`));
    expect(missing).toEqual([]);
  });
});
