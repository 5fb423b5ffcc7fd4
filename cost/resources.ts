/**
 * A read-only view of a synthesized stack (cdk.tf.json) for the pricing rules: its resources with
 * their addresses and counts, and the references between them ("${aws_launch_template.x.id}").
 */

type Attrs = Readonly<Record<string, unknown>>;

/** The parts of a synthesized stack the cost model reads. */
export interface TerraformJson {
  readonly resource?: Readonly<Record<string, Readonly<Record<string, Attrs>>>>;
}

/** How many copies a resource block creates. */
export type ResourceCount =
  | { readonly kind: "fixed"; readonly copies: number }
  | { readonly kind: "variable"; readonly variable: string }
  | { readonly kind: "unsupported"; readonly why: string };

export interface StackResource {
  readonly type: string;
  readonly name: string;
  /** `type.name`, as OpenTofu spells it. */
  readonly address: string;
  readonly attrs: Attrs;
  readonly count: ResourceCount;
}

/** A resource the model cannot price as written (missing size, unknown instance type, ...). */
export class PricingError extends Error {
  constructor(readonly address: string, problem: string) {
    super(`${address}: ${problem}`);
    this.name = "PricingError";
  }
}

const REFERENCE = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+\}$/;
const VARIABLE = /^\$\{var\.([A-Za-z0-9_-]+)\}$/;

function countOf(attrs: Attrs): ResourceCount {
  if ("for_each" in attrs) return { kind: "unsupported", why: "for_each is not supported by the cost model; use count" };
  const count = attrs.count;
  if (count === undefined) return { kind: "fixed", copies: 1 };
  if (typeof count === "number") return { kind: "fixed", copies: count };
  const variable = typeof count === "string" ? VARIABLE.exec(count)?.[1] : undefined;
  if (variable) return { kind: "variable", variable };
  return { kind: "unsupported", why: `count ${JSON.stringify(count)} is neither a number nor a single variable` };
}

export class StackView {
  readonly resources: readonly StackResource[];

  constructor(json: TerraformJson) {
    this.resources = Object.entries(json.resource ?? {}).flatMap(([type, byName]) =>
      Object.entries(byName).map(([name, attrs]) => ({ type, name, address: `${type}.${name}`, attrs, count: countOf(attrs) })),
    );
  }

  /** The resource a `${type.name.attr}` reference points at, if the value is one. */
  referenced(value: unknown): StackResource | undefined {
    const match = typeof value === "string" ? REFERENCE.exec(value) : null;
    if (!match) return undefined;
    return this.resources.find((r) => r.type === match[1] && r.name === match[2]);
  }

  /** Resources of `type` whose attribute `attr` references `target` (any of its attributes). */
  referencing(type: string, attr: string, target: StackResource): StackResource[] {
    return this.resources.filter((r) => r.type === type && this.referenced(r.attrs[attr]) === target);
  }
}

/** A nested block as a list: cdktf emits single blocks as objects and repeated ones as arrays. */
export function blocks(value: unknown): Attrs[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is Attrs => typeof v === "object" && v !== null);
}

/** Booleans arrive as true or "true" (launch template network interfaces are strings). */
export function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

export function numberAttr(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^\d+(\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}

/** A string attribute known at synth time (not a `${...}` reference), else undefined. */
export function literalString(value: unknown): string | undefined {
  return typeof value === "string" && !value.includes("${") ? value : undefined;
}
