import { launchTemplateOf, resourceRule } from "./rule.js";
import { isTrue, nestedBlocks, type StackView, type SynthesizedBlock } from "../synthesized.js";

/** [path, block] of every EBS volume a block defines, with "encrypted" to check. */
function volumes(block: SynthesizedBlock, stack: StackView): [string, Record<string, unknown>][] {
  const a = block.attributes;
  const template = launchTemplateOf(block, stack);
  switch (block.type) {
    case "aws_ebs_volume":
      return [["", a]];
    case "aws_launch_template":
      // Mappings with no_device or virtual_name (instance store) carry no ebs block: nothing to encrypt.
      return nestedBlocks(a.block_device_mappings).flatMap((mapping, i) =>
        nestedBlocks(mapping.ebs).map((ebs) => [`block_device_mappings.${i}.ebs`, ebs] as [string, Record<string, unknown>]),
      );
    case "aws_instance":
    case "aws_launch_configuration":
    case "aws_spot_instance_request":
      return [
        // An omitted root_block_device is still a volume: it comes from the launch template's mappings
        // (checked on the template) or else the AMI's, unencrypted unless the account default says otherwise.
        ...(nestedBlocks(a.root_block_device).length > 0 || !hasEbsMapping(template)
          ? [["root_block_device", nestedBlocks(a.root_block_device)[0] ?? {}] as [string, Record<string, unknown>]]
          : []),
        ...nestedBlocks(a.ebs_block_device).map((ebs, i) => [`ebs_block_device.${i}`, ebs] as [string, Record<string, unknown>]),
      ];
    default:
      return [];
  }
}

function hasEbsMapping(template: SynthesizedBlock | undefined): boolean {
  return nestedBlocks(template?.attributes.block_device_mappings).some((mapping) => nestedBlocks(mapping.ebs).length > 0);
}

/** Snapshots, detached volumes and the account's backups stay readable only with the KMS key. */
export const ebsEncrypted = resourceRule({
  id: "DS-EBS-ENCRYPTED",
  explanation: "Every EBS volume (standalone, launch template block device, instance root and data volume) is encrypted at rest.",
  fix: "Set encrypted = true on the volume (launch templates: block_device_mappings { ebs { encrypted = \"true\" } }; instances: root_block_device { encrypted = true }).",
  check: (block, stack) =>
    volumes(block, stack)
      .filter(([, volume]) => !isTrue(volume.encrypted))
      .map(([path, volume]) => `${path === "" ? "encrypted" : `${path}.encrypted`} is ${volume.encrypted === undefined ? "unset" : JSON.stringify(volume.encrypted)}`),
});
