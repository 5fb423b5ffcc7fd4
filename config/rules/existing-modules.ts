/**
 * What an existing module (the owner's own Terraform modules, kept in the stack) may provide
 * instead of our constructs, and the rule that keeps those modules consistent.
 */
import type { ModuleOutput, SiteConfig } from "../schema.js";
import type { Problem } from "./problem.js";

/** Inputs of our constructs an existing module can provide instead (module output names). */
export const EXISTING_FEEDS = {
  /**
   * The module owns the VPC and the public subnet, and either both the private subnet and its
   * route table, or neither (then the stack makes them inside the module's VPC).
   */
  network: ["vpcId", "publicSubnetId", "privateSubnetId", "privateRouteTableId"],
  /** The module owns bastion-sg and talos-nodes-sg and their rules (both or none). */
  securityGroups: ["bastionSecurityGroupId", "talosNodesSecurityGroupId"],
} as const;
export type ExistingFeed = (typeof EXISTING_FEEDS)[keyof typeof EXISTING_FEEDS][number];

/** Rule existingModulesConsistent: module names unique, references only to modules listed earlier, each feed provided once and complete. */
export function existingModulesConsistent(c: SiteConfig): Problem[] {
  const modules = c.existing.modules;
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const feeders = new Map<ExistingFeed, string>();
  modules.forEach((module, i) => {
    if (seen.has(module.name)) problems.push({ path: ["existing", "modules", i, "name"], message: `module "${module.name}" is listed twice` });
    for (const [input, value] of Object.entries(module.inputs)) {
      if (typeof value === "object" && value !== null && "fromModule" in value && !seen.has(value.fromModule)) {
        problems.push({
          path: ["existing", "modules", i, "inputs", input],
          message: `refers to module "${value.fromModule}", which is not listed before "${module.name}"; list the modules in dependency order`,
        });
      }
    }
    seen.add(module.name);
    for (const [feed, output] of Object.entries(module.outputs) as [ExistingFeed, ModuleOutput | undefined][]) {
      if (output === undefined) continue;
      const other = feeders.get(feed);
      if (other) problems.push({ path: ["existing", "modules", i, "outputs", feed], message: `is already provided by module "${other}"` });
      else feeders.set(feed, module.name);
    }
  });
  // Part of a network: the VPC and public subnet from a module, the private side from the stack.
  const privateSide = ["privateSubnetId", "privateRouteTableId"] as const;
  const partialNetwork = feeders.has("vpcId") && feeders.has("publicSubnetId") && privateSide.every((feed) => !feeders.has(feed));
  for (const [group, feeds] of Object.entries(EXISTING_FEEDS)) {
    const missing = feeds.filter((feed) => !feeders.has(feed));
    if (group === "network" && partialNetwork) continue;
    if (missing.length > 0 && missing.length < feeds.length) {
      problems.push({
        path: ["existing", "modules"],
        message:
          `outputs provide part of the ${group} (${feeds.filter((f) => feeders.has(f)).join(", ")}); also map ${missing.join(", ")}, or none of them` +
          (group === "network" ? " (or only vpcId and publicSubnetId: the stack then adds the private subnet and route table inside that VPC)" : ""),
      });
    }
  }
  return problems;
}
