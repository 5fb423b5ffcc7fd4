/**
 * The comparison behind `npm run check:cdktn` (analysis/stack-diff.ts): every difference between
 * two synthesized stacks is reported, and only the library's stamps and the provider's version
 * constraint and spelling pass. The check itself, against the real cdktn, runs in
 * __tests__/integration/cdktn.test.ts.
 */
import { describe, expect, it } from "vitest";
import { blockingDifferences, compareStacks, comparisonTable, differenceLines, normalProviderSource } from "../../analysis/stack-diff.js";
import { synthStack } from "../helpers/synth.js";

/** A deep copy of the default stack, changed by `edit`. */
function edited(edit: (stack: Record<string, any>) => void): Record<string, unknown> {
  const copy = structuredClone(synthStack()) as unknown as Record<string, any>;
  edit(copy);
  return copy;
}

describe("compareStacks", () => {
  const base = synthStack() as unknown as Record<string, unknown>;

  it("finds nothing between a stack and itself; every block is equal", () => {
    const comparison = compareStacks(base, structuredClone(base));
    expect(comparison.differences).toEqual([]);
    expect([...comparison.blocks.values()].every((state) => state === "equal")).toBe(true);
    expect(comparison.blocks.get("aws_vpc.main")).toBe("equal");
  });

  it("reports a changed attribute, a dropped tag, a resource on one side only and a longer list, none of them allowed", () => {
    const other = edited((stack) => {
      stack.resource.aws_vpc.main.cidr_block = "10.99.0.0/16";
      delete stack.resource.aws_subnet.private.tags;
      delete stack.resource.aws_internet_gateway.main;
      stack.resource.aws_security_group.extra = { name: "extra" };
      stack.resource.aws_vpc_dhcp_options.main.domain_name_servers.push("1.1.1.1");
    });
    const comparison = compareStacks(base, other);
    const paths = blockingDifferences(comparison).map((difference) => difference.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "resource.aws_vpc.main.cidr_block",
        "resource.aws_subnet.private.tags",
        "resource.aws_internet_gateway.main",
        "resource.aws_security_group.extra",
        "resource.aws_vpc_dhcp_options.main.domain_name_servers",
      ]),
    );
    expect(comparison.differences.find((d) => d.path === "resource.aws_vpc.main.cidr_block")).toMatchObject({ left: "10.20.0.0/16", right: "10.99.0.0/16", allowed: undefined });
    expect(comparison.blocks.get("aws_vpc.main")).toBe("different");
    expect(comparison.blocks.get("aws_internet_gateway.main")).toBe("left only");
    expect(comparison.blocks.get("aws_security_group.extra")).toBe("right only");
    expect(comparison.blocks.get("aws_route_table.public")).toBe("equal");
  });

  it("allows the library's version stamp, the provider's version constraint and its source with the implied namespace, nothing else there", () => {
    // The stamp cdktf's App writes (Testing.synth leaves it out).
    const stamped = edited((stack) => (stack["//"] = { metadata: { backend: "local", stackName: "deathstar", version: "0.21.0" } }));
    const other = edited((stack) => {
      stack["//"] = { metadata: { backend: "local", stackName: "deathstar", version: "0.24.0" } };
      stack.terraform.required_providers.aws.version = "6.66.0";
      stack.terraform.required_providers.aws.source = "hashicorp/aws";
    });
    const comparison = compareStacks(stamped, other);
    expect(comparison.differences.map((d) => d.path).sort()).toEqual(["//.metadata.version", "terraform.required_providers.aws.source", "terraform.required_providers.aws.version"]);
    expect(blockingDifferences(comparison)).toEqual([]);

    const forked = compareStacks(base, edited((stack) => (stack.terraform.required_providers.aws.source = "someone/aws")));
    expect(blockingDifferences(forked).map((d) => d.path)).toEqual(["terraform.required_providers.aws.source"]);
    const backend = compareStacks(base, edited((stack) => (stack.terraform.backend = { s3: { bucket: "b" } })));
    expect(blockingDifferences(backend).map((d) => d.path)[0]).toMatch(/^terraform\.backend\./);
    // A "version" attribute anywhere else is the stack's own.
    const template = compareStacks(base, edited((stack) => (stack.resource.aws_instance.talos_node.launch_template.version = "1")));
    expect(blockingDifferences(template).map((d) => d.path)).toEqual(["resource.aws_instance.talos_node.launch_template.version"]);
  });

  it("normalizes a provider source the way Terraform reads it", () => {
    expect(normalProviderSource("aws")).toBe("hashicorp/aws");
    expect(normalProviderSource("hashicorp/aws")).toBe("hashicorp/aws");
    expect(normalProviderSource("registry.opentofu.org/hashicorp/aws")).toBe("registry.opentofu.org/hashicorp/aws");
  });
});

describe("the check's report", () => {
  const base = synthStack() as unknown as Record<string, unknown>;

  it("marks each block per site and lists each difference once with its sites", () => {
    const changed = edited((stack) => {
      stack.resource.aws_vpc.main.cidr_block = "10.99.0.0/16";
      stack.terraform.required_providers.aws.version = "6.66.0";
    });
    const comparisons = new Map([
      ["default", compareStacks(base, changed)],
      ["again", compareStacks(base, changed)],
      ["same", compareStacks(base, base)],
    ]);
    const table = comparisonTable(comparisons);
    expect(table[0]).toMatch(/^block\s+default\s+again\s+same$/);
    expect(table.find((row) => row.startsWith("aws_vpc.main "))).toMatch(/DIFFERS\s+DIFFERS\s+=$/);
    expect(table.find((row) => row.startsWith("aws_subnet.public "))).toMatch(/=\s+=\s+=$/);
    const { allowed, blocking } = differenceLines(comparisons);
    expect(blocking).toEqual(['  resource.aws_vpc.main.cidr_block: cdktf "10.20.0.0/16", cdktn "10.99.0.0/16" [default, again]']);
    expect(allowed).toEqual([expect.stringMatching(/^ {2}terraform\.required_providers\.aws\.version: cdktf "[\d.]+", cdktn "6\.66\.0" \(the provider version constraint of the bindings\) \[default, again\]$/)]);
  });
});
