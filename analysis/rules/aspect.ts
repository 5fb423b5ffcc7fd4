/**
 * Runs the security rules over every block of a stack and fails synth on any violation.
 *
 * Why blocks and not constructs: a construct's attribute getters return cdktf tokens (an ENI's ARN
 * inside an IAM policy, a subnet id: "${TfToken[...]}").
 * The aspect therefore resolves each Terraform element's own `toTerraform()` fragment with the
 * stack as scope — the same resolution the stack applies when writing cdk.tf.json — so rules see
 * exactly the values that reach OpenTofu, with references rendered as "${aws_subnet.private.id}".
 * Rules then run once every element has been visited (some follow references across blocks), in a
 * validation: cdktf runs validations after aspects and before writing any file, so a violation
 * leaves nothing behind.
 */
import type { IConstruct } from "constructs";
import { Aspects, DefaultTokenResolver, StringConcat, TerraformElement, TerraformStack, Tokenization, type IAspect } from "cdktf";
import { SECURITY_RULES } from "./pack.js";
import type { SecurityRule, Violation } from "./rule.js";
import { StackView, synthesizedBlocks, type SynthesizedBlock } from "../synthesized.js";

const RESOLVER = new DefaultTokenResolver(new StringConcat());

/** Thrown by synth when any rule fails; lists every violation with its rule, address and fix. */
export class SecurityRuleError extends Error {
  constructor(readonly violations: readonly Violation[]) {
    super(
      `security rules failed with ${violations.length} violation${violations.length === 1 ? "" : "s"}:\n` +
        violations.map((v) => `  - [${v.ruleId}] ${v.address}: ${v.problem}\n      fix: ${v.fix}`).join("\n"),
    );
    this.name = "SecurityRuleError";
  }
}

/** Every violation of `rules` in `blocks`, in block order. */
export function evaluateRules(blocks: readonly SynthesizedBlock[], rules: readonly SecurityRule[] = SECURITY_RULES): Violation[] {
  const stack = new StackView(blocks);
  return blocks.flatMap((block) =>
    rules.flatMap((rule) => rule.check(block, stack).map((problem) => ({ ruleId: rule.id, address: block.address, problem, fix: rule.fix }))),
  );
}

/** Collects the resolved blocks of every Terraform element below the node it is added to. */
export class SecurityRulesAspect implements IAspect {
  // Keyed by address: a second synth of the same stack replaces blocks instead of doubling them.
  private readonly blocks = new Map<string, SynthesizedBlock>();

  constructor(private readonly rules: readonly SecurityRule[] = SECURITY_RULES) {}

  visit(node: IConstruct): void {
    if (!TerraformElement.isTerraformElement(node)) return;
    const fragment = Tokenization.resolve(node.toTerraform(), { scope: TerraformStack.of(node), resolver: RESOLVER }) as Record<string, unknown>;
    for (const block of synthesizedBlocks(fragment)) this.blocks.set(block.address, block);
  }

  violations(): Violation[] {
    return evaluateRules([...this.blocks.values()], this.rules);
  }
}

/**
 * Adds the rules to a stack: an aspect collects its blocks, a validation throws a
 * {@link SecurityRuleError} listing every violation before synth writes anything.
 */
export function enforceSecurityRules(stack: TerraformStack, rules: readonly SecurityRule[] = SECURITY_RULES): void {
  const aspect = new SecurityRulesAspect(rules);
  Aspects.of(stack).add(aspect);
  stack.node.addValidation({
    validate: () => {
      const violations = aspect.violations();
      if (violations.length > 0) throw new SecurityRuleError(violations);
      return [];
    },
  });
}
