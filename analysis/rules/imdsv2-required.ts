import { imdsOptionRule } from "./rule.js";

/**
 * IMDSv1 answers any unauthenticated GET, so an SSRF in anything running on the host hands out
 * the instance role's credentials. IMDSv2 needs a PUT-issued session token first.
 */
export const imdsv2Required = imdsOptionRule(
  {
    id: "DS-EC2-IMDSV2",
    explanation: "Every instance and launch template requires IMDSv2 session tokens, so an SSRF cannot read the instance role's credentials.",
    fix: 'Set metadata_options { http_tokens = "required" } (or http_endpoint = "disabled" when nothing on the host needs metadata).',
  },
  { option: "http_tokens", required: "required", unset: "the provider default allows IMDSv1" },
);
