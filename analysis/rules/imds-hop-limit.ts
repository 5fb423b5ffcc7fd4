import { imdsOptionRule } from "./rule.js";

/**
 * With a hop limit above 1, IMDSv2's token reaches containers behind a bridge on the host, and
 * with it the instance role's credentials. The project's services use host networking; nothing
 * needs the extra hop.
 */
export const imdsHopLimit = imdsOptionRule(
  {
    id: "DS-EC2-IMDS-HOP-LIMIT",
    explanation: "Every instance and launch template answers IMDS tokens one hop away only, so containers on a bridge network cannot get the instance role's credentials.",
    fix: "Set metadata_options { http_put_response_hop_limit = 1 }; run containers that need the instance's identity on the host network.",
  },
  { option: "http_put_response_hop_limit", required: 1, unset: "the image decides: 2 on Amazon Linux 2023" },
);
