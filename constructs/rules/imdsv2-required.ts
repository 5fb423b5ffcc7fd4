import { launchTemplateOf, nestedBlocks, type SecurityRule } from "./rule.js";

/** Types whose instances talk to the instance metadata service. */
const INSTANCE_TYPES = new Set(["aws_instance", "aws_launch_template", "aws_launch_configuration", "aws_spot_instance_request"]);

/**
 * IMDSv1 answers any unauthenticated GET, so an SSRF in anything running on the host hands out
 * the instance role's credentials. IMDSv2 needs a PUT-issued session token first.
 */
export const imdsv2Required: SecurityRule = {
  id: "DS-EC2-IMDSV2",
  explanation: "Every instance and launch template requires IMDSv2 session tokens, so an SSRF cannot read the instance role's credentials.",
  fix: 'Set metadata_options { http_tokens = "required" } (or http_endpoint = "disabled" when nothing on the host needs metadata).',
  check(block, stack) {
    if (block.kind !== "resource" || !INSTANCE_TYPES.has(block.type)) return [];
    const [options] = nestedBlocks(block.attributes.metadata_options);
    // An instance without its own options takes them from its launch template, which is checked itself.
    if (!options && launchTemplateOf(block, stack)) return [];
    if (options?.http_endpoint === "disabled") return [];
    if (options?.http_tokens === "required") return [];
    const actual = options?.http_tokens === undefined ? "unset (the provider default allows IMDSv1)" : JSON.stringify(options.http_tokens);
    return [`metadata_options.http_tokens is ${actual}`];
  },
};
