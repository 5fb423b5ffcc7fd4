import { describe, expect, it } from "vitest";
import { ebsEncrypted } from "../../../analysis/rules/ebs-encrypted.js";
import { findings, resourceBlock } from "../../helpers/blocks.js";

describe("DS-EBS-ENCRYPTED", () => {
  it("passes encrypted volumes in every shape, and mappings without an ebs block", () => {
    expect(
      findings(ebsEncrypted, [
        resourceBlock("aws_ebs_volume", "cache", { size: 20, encrypted: true }),
        resourceBlock("aws_launch_template", "bastion", {
          block_device_mappings: [
            { device_name: "/dev/xvda", ebs: { volume_size: 8, encrypted: "true" } },
            { device_name: "/dev/sdb", no_device: "" },
          ],
        }),
        resourceBlock("aws_instance", "probe", { root_block_device: { encrypted: true }, ebs_block_device: [{ device_name: "/dev/sdf", encrypted: true }] }),
        // Root volume from the launch template's mapping (checked on the template itself).
        resourceBlock("aws_launch_template", "talos_node", { block_device_mappings: [{ device_name: "/dev/xvda", ebs: { encrypted: "true" } }] }),
        resourceBlock("aws_instance", "talos_node", { launch_template: { id: "${aws_launch_template.talos_node.id}" } }),
      ]),
    ).toEqual([]);
  });

  it("fails unencrypted and unset volumes, including an implicit instance root volume", () => {
    expect(
      findings(ebsEncrypted, [
        resourceBlock("aws_ebs_volume", "cache", { size: 20 }),
        resourceBlock("aws_launch_template", "bastion", { block_device_mappings: [{ device_name: "/dev/xvda", ebs: { encrypted: "false" } }] }),
        resourceBlock("aws_instance", "probe", { ebs_block_device: [{ device_name: "/dev/sdf", encrypted: false }] }),
        resourceBlock("aws_launch_template", "no_mappings", {}),
        resourceBlock("aws_instance", "ami_root", { launch_template: { id: "${aws_launch_template.no_mappings.id}" } }),
      ]),
    ).toEqual([
      "aws_ebs_volume.cache: encrypted is unset",
      'aws_launch_template.bastion: block_device_mappings.0.ebs.encrypted is "false"',
      "aws_instance.probe: root_block_device.encrypted is unset",
      "aws_instance.probe: ebs_block_device.0.encrypted is false",
      "aws_instance.ami_root: root_block_device.encrypted is unset",
    ]);
  });
});
