import { describe, expect, it } from "vitest";
import { imdsv2Required } from "../../../analysis/rules/imdsv2-required.js";
import { findings, resourceBlock } from "../../helpers/blocks.js";

describe("DS-EC2-IMDSV2", () => {
  it("passes launch templates and instances that require session tokens or disable IMDS", () => {
    expect(
      findings(imdsv2Required, [
        resourceBlock("aws_launch_template", "bastion", { metadata_options: { http_endpoint: "enabled", http_tokens: "required" } }),
        resourceBlock("aws_instance", "probe", { metadata_options: [{ http_tokens: "required" }] }),
        resourceBlock("aws_instance", "sealed", { metadata_options: { http_endpoint: "disabled" } }),
        resourceBlock("aws_vpc", "main", {}),
        // Options inherited from the launch template (checked on the template itself).
        resourceBlock("aws_launch_template", "talos_node", { metadata_options: { http_tokens: "required" } }),
        resourceBlock("aws_instance", "talos_node", { launch_template: { id: "${aws_launch_template.talos_node.id}" } }),
      ]),
    ).toEqual([]);
  });

  it("fails optional tokens and a missing metadata_options block", () => {
    expect(
      findings(imdsv2Required, [
        resourceBlock("aws_launch_template", "bastion", { metadata_options: { http_tokens: "optional" } }),
        resourceBlock("aws_instance", "probe", {}),
        resourceBlock("aws_launch_template", "talos_node", { metadata_options: { http_tokens: "required" } }),
        resourceBlock("aws_instance", "overrides", { launch_template: { id: "${aws_launch_template.talos_node.id}" }, metadata_options: { http_tokens: "optional" } }),
      ]),
    ).toEqual([
      'aws_launch_template.bastion: metadata_options.http_tokens is "optional"',
      "aws_instance.probe: metadata_options.http_tokens is unset (the provider default allows IMDSv1)",
      'aws_instance.overrides: metadata_options.http_tokens is "optional"',
    ]);
  });
});
