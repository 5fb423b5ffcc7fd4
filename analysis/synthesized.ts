/**
 * One read-only view of a synthesized stack — a whole cdk.tf.json, or the fragments the security
 * aspect resolves during synth — shared by the security rules and the cost model. Blocks are
 * exactly what lands in cdk.tf.json: final attribute values, references rendered as
 * "${type.name.attr}", never cdktf tokens.
 */

type Attributes = Readonly<Record<string, unknown>>;

/** The top-level sections of a synthesized stack this view reads. */
export interface TerraformJson {
  readonly resource?: Readonly<Record<string, Readonly<Record<string, Attributes>>>>;
  readonly data?: Readonly<Record<string, Readonly<Record<string, Attributes>>>>;
  readonly output?: Readonly<Record<string, Attributes>>;
  readonly variable?: Readonly<Record<string, Attributes>>;
  readonly provider?: Readonly<Record<string, unknown>>;
}

/** One block of the synthesized stack. */
export interface SynthesizedBlock {
  readonly kind: "resource" | "data" | "output" | "variable" | "provider";
  /** Resource or data source type ("aws_launch_template"), provider name ("aws"), or the kind for outputs/variables. */
  readonly type: string;
  readonly name: string;
  /** Terraform address: "aws_launch_template.bastion", "data.aws_iam_policy_document.x", "output.x", "var.x", "provider.aws". */
  readonly address: string;
  readonly attributes: Attributes;
}

/** How many copies a resource block creates. */
export type ResourceCount =
  | { readonly kind: "fixed"; readonly copies: number }
  | { readonly kind: "variable"; readonly variable: string }
  | { readonly kind: "unsupported"; readonly why: string };

/** A resource block with the number of copies it makes. */
export interface StackResource extends SynthesizedBlock {
  readonly kind: "resource";
  readonly count: ResourceCount;
}

/** Splits a synthesized fragment (one element's, or a whole cdk.tf.json) into addressable blocks. */
export function synthesizedBlocks(fragment: Readonly<Record<string, unknown>>): SynthesizedBlock[] {
  const entries = (value: unknown) => (typeof value === "object" && value !== null ? Object.entries(value as Record<string, unknown>) : []);
  const attrs = (value: unknown) => (typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {});
  const blocks: SynthesizedBlock[] = [];
  for (const [kind, prefix] of [["resource", ""], ["data", "data."]] as const) {
    for (const [type, byName] of entries(fragment[kind])) {
      for (const [name, attributes] of entries(byName)) blocks.push({ kind, type, name, address: `${prefix}${type}.${name}`, attributes: attrs(attributes) });
    }
  }
  for (const [name, attributes] of entries(fragment.output)) blocks.push({ kind: "output", type: "output", name, address: `output.${name}`, attributes: attrs(attributes) });
  for (const [name, attributes] of entries(fragment.variable)) blocks.push({ kind: "variable", type: "variable", name, address: `var.${name}`, attributes: attrs(attributes) });
  for (const [name, configs] of entries(fragment.provider)) {
    (Array.isArray(configs) ? configs : [configs]).forEach((config) => {
      const alias = attrs(config).alias;
      const address = typeof alias === "string" ? `provider.${name}.${alias}` : `provider.${name}`;
      blocks.push({ kind: "provider", type: name, name, address, attributes: attrs(config) });
    });
  }
  return blocks;
}

const VARIABLE = /^\$\{var\.([A-Za-z0-9_-]+)\}$/;

function countOf(attributes: Attributes): ResourceCount {
  if ("for_each" in attributes) return { kind: "unsupported", why: "for_each is not supported by the cost model; use count" };
  const count = attributes.count;
  if (count === undefined) return { kind: "fixed", copies: 1 };
  if (typeof count === "number") return { kind: "fixed", copies: count };
  const variable = typeof count === "string" ? VARIABLE.exec(count)?.[1] : undefined;
  if (variable) return { kind: "variable", variable };
  return { kind: "unsupported", why: `count ${JSON.stringify(count)} is neither a number nor a single variable` };
}

/** The blocks of one stack, by address, with its resources and the references between them. */
export class StackView {
  readonly resources: readonly StackResource[];
  private readonly byAddress: ReadonlyMap<string, SynthesizedBlock>;

  /** The view of a whole synthesized stack. */
  static of(json: TerraformJson): StackView {
    return new StackView(synthesizedBlocks(json as Readonly<Record<string, unknown>>));
  }

  constructor(readonly blocks: readonly SynthesizedBlock[]) {
    this.resources = blocks.flatMap((block): StackResource[] => (block.kind === "resource" ? [{ ...block, kind: "resource", count: countOf(block.attributes) }] : []));
    // Resources by their counted entry, so a reference lookup returns the same object as `resources`.
    this.byAddress = new Map([...blocks.map((block): [string, SynthesizedBlock] => [block.address, block]), ...this.resources.map((resource): [string, SynthesizedBlock] => [resource.address, resource])]);
  }

  /** The block at `address`, if this stack defines it. */
  block(address: string): SynthesizedBlock | undefined {
    return this.byAddress.get(address);
  }

  /** The resource at `address`, if this stack defines one there. */
  resource(address: string | undefined): StackResource | undefined {
    const block = address === undefined ? undefined : this.byAddress.get(address);
    return block?.kind === "resource" ? (block as StackResource) : undefined;
  }

  /** The resource a whole-string `${type.name.attr}` reference points at, if the value is one. */
  referenced(value: unknown): StackResource | undefined {
    return this.resource(referencedAddress(value));
  }

  /** Resources of `type` whose attribute `attr` references `target` (any of its attributes). */
  referencing(type: string, attr: string, target: StackResource): StackResource[] {
    return this.resources.filter((resource) => resource.type === type && this.referenced(resource.attributes[attr]) === target);
  }
}

// ---- Reading attributes --------------------------------------------------------------------------

/** Nested blocks render as an object (max 1) or a list; both read as a list here. */
export function nestedBlocks(value: unknown): Record<string, unknown>[] {
  const items = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return items.filter((item): item is Record<string, unknown> => typeof item === "object" && item !== null && !Array.isArray(item));
}

/** Provider booleans arrive as `true` or as the string "true" (launch template block devices and interfaces). */
export function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

export function stringList(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** A number attribute known at synth time (numbers may arrive as strings), else undefined. */
export function numberAttr(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^\d+(\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}

/** A string attribute known at synth time (not a `${...}` reference), else undefined. */
export function literalString(value: unknown): string | undefined {
  return typeof value === "string" && !value.includes("${") ? value : undefined;
}

/** The address a whole-string reference points at: "${aws_subnet.private.id}" → "aws_subnet.private". */
export function referencedAddress(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^\$\{((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+)\.[a-z_]+\}$/.exec(value);
  return match?.[1];
}

/**
 * Addresses of the launch templates a block launches from: its `launch_template` (an instance, a
 * group) and the templates of a group's `mixed_instances_policy`, by id or name references.
 */
export function launchTemplateAddresses(attributes: Readonly<Record<string, unknown>>): string[] {
  const specs = [
    ...nestedBlocks(attributes.launch_template),
    ...nestedBlocks(attributes.mixed_instances_policy).flatMap((policy) =>
      nestedBlocks(policy.launch_template).flatMap((lt) => nestedBlocks(lt.launch_template_specification)),
    ),
  ];
  return specs.flatMap((spec) => [spec.id, spec.name, spec.launch_template_id, spec.launch_template_name].map(referencedAddress)).filter((a): a is string => a !== undefined);
}

/** Every string leaf of a value with its dotted path ("ingress.0.cidr_blocks.1"). */
export function stringLeaves(value: unknown, path = ""): { path: string; value: string }[] {
  if (typeof value === "string") return [{ path, value }];
  const join = (key: string | number) => (path === "" ? String(key) : `${path}.${key}`);
  if (Array.isArray(value)) return value.flatMap((item, i) => stringLeaves(item, join(i)));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => (key === "//" ? [] : stringLeaves(item, join(key))));
  }
  return [];
}
