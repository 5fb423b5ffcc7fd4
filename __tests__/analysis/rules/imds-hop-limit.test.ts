import { describe, expect, it } from "vitest";
import { imdsHopLimit } from "../../../analysis/rules/imds-hop-limit.js";
import { findings, resourceBlock } from "../../helpers/blocks.js";

describe("DS-EC2-IMDS-HOP-LIMIT", () => {
  it("passes hop limit 1, disabled IMDS, and instances that inherit their launch template's options", () => {
    expect(
      findings(imdsHopLimit, [
        resourceBlock("aws_launch_template", "bastion", { metadata_options: { http_tokens: "required", http_put_response_hop_limit: 1 } }),
        resourceBlock("aws_instance", "sealed", { metadata_options: [{ http_endpoint: "disabled" }] }),
        resourceBlock("aws_launch_template", "talos_node", { metadata_options: { http_put_response_hop_limit: 1 } }),
        resourceBlock("aws_instance", "talos_node", { launch_template: { id: "${aws_launch_template.talos_node.id}" } }),
        resourceBlock("aws_vpc", "main", {}),
      ]),
    ).toEqual([]);
  });

  it("fails a hop limit of 2 and an unset one", () => {
    expect(
      findings(imdsHopLimit, [
        resourceBlock("aws_launch_template", "bastion", { metadata_options: { http_tokens: "required", http_put_response_hop_limit: 2 } }),
        resourceBlock("aws_instance", "probe", { metadata_options: { http_tokens: "required" } }),
      ]),
    ).toEqual([
      "aws_launch_template.bastion: metadata_options.http_put_response_hop_limit is 2",
      "aws_instance.probe: metadata_options.http_put_response_hop_limit is unset (the image decides: 2 on Amazon Linux 2023)",
    ]);
  });
});
