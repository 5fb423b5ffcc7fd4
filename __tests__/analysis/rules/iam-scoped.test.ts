import { describe, expect, it } from "vitest";
import { iamScoped, isUnscopableAction, UNSCOPABLE_ACTIONS } from "../../../analysis/rules/iam-scoped.js";
import { parsePolicy } from "../../../analysis/rules/policy-document.js";
import { dataBlock, findings, resourceBlock } from "../../helpers/blocks.js";
import { resource, siteConfig, synthStack } from "../../helpers/synth.js";

const policy = (statements: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

describe("DS-IAM-SCOPED", () => {
  it("reads the statements of the synthesized NAT instance policy (JSON text), references included", () => {
    const stack = synthStack(siteConfig({ network: { nat: "instance" } }));
    const parsed = parsePolicy(resource(stack, "aws_iam_role_policy", "nat_instance").policy);
    expect(parsed.kind).toBe("statements");
    if (parsed.kind !== "statements") return;
    expect(parsed.statements.map((s) => [s.label, s.actions, s.resources])).toEqual([
      ["AttachOwnEni", ["ec2:AttachNetworkInterface"], ["${aws_network_interface.nat_instance.arn}"]],
      [
        "AttachToNatInstance",
        ["ec2:AttachNetworkInterface"],
        ["arn:${data.aws_partition.current.partition}:ec2:eu-west-1:${data.aws_caller_identity.current.account_id}:instance/*"],
      ],
      ["DescribeEni", ["ec2:DescribeNetworkInterfaces"], ["*"]],
    ]);
  });

  it("passes scoped statements, unscopable actions on * and Deny statements", () => {
    expect(
      findings(iamScoped, [
        resourceBlock("aws_iam_role_policy", "bastion", {
          policy: policy([
            { Sid: "ReadSecrets", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: "arn:aws:ssm:eu-west-1:123456789012:parameter/deathstar/*" },
            { Sid: "Describe", Effect: "Allow", Action: ["ec2:DescribeNetworkInterfaces", "ec2:Describe*"], Resource: "*" },
            { Sid: "Session", Effect: "Allow", Action: "ssmmessages:*", Resource: "*" },
            { Sid: "NoDelete", Effect: "Deny", Action: "*", Resource: "*" },
          ]),
        }),
        resourceBlock("aws_iam_role_policy", "delegated", { policy: "${data.aws_iam_policy_document.bastion.json}" }),
        dataBlock("aws_iam_policy_document", "bastion", { statement: [{ actions: ["ec2:AttachVolume"], resources: ["${aws_ebs_volume.cache.arn}"] }] }),
        resourceBlock("aws_iam_role", "bastion", { assume_role_policy: policy([{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "ec2.amazonaws.com" } }]) }),
      ]),
    ).toEqual([]);
  });

  it("fails write actions on *, wildcards hiding behind an allowlisted prefix, NotAction and unreadable policies", () => {
    expect(
      findings(iamScoped, [
        resourceBlock("aws_iam_role_policy", "bastion", {
          policy: policy([
            { Sid: "Attach", Effect: "Allow", Action: ["ec2:AttachNetworkInterface", "ec2:DescribeInstances"], Resource: "*" },
            { Sid: "Everything", Effect: "Allow", Action: "ec2:*", Resource: ["arn:aws:ec2:eu-west-1:123456789012:volume/vol-1", "*"] },
            { Sid: "AllBut", Effect: "Allow", NotAction: "iam:*", Resource: "arn:aws:s3:::bucket" },
          ]),
        }),
        resourceBlock("aws_iam_policy", "odd", { policy: "${file(\"policy.json\")}" }),
        resourceBlock("aws_iam_policy", "encoded", { policy: '${jsonencode({"Statement" = [{"Effect" = "Allow", "Action" = "ec2:*", "Resource" = "*"}]})}' }),
        resourceBlock("aws_iam_role", "inline", { inline_policy: [{ name: "x", policy: policy([{ Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:*:::x" }]) }] }),
        dataBlock("aws_iam_policy_document", "wide", { statement: { actions: ["ssm:GetParameter"], resources: ["*"] } }),
      ]),
    ).toEqual([
      'aws_iam_role_policy.bastion: policy statement Attach allows ec2:AttachNetworkInterface on "*"',
      'aws_iam_role_policy.bastion: policy statement Everything allows ec2:* on "*"',
      "aws_iam_role_policy.bastion: policy statement AllBut allows NotAction (every action but a few)",
      expect.stringMatching(/^aws_iam_policy\.odd: policy cannot be analyzed \(.*\); write it as JSON text \(JSON\.stringify of the policy, as ScheduledInstance does\) or build it with aws_iam_policy_document$/),
      expect.stringMatching(/^aws_iam_policy\.encoded: policy cannot be analyzed \(.*\); write it as JSON text/),
      'aws_iam_role.inline: inline_policy.0.policy statement #0 allows s3:PutObject on "*"',
      'data.aws_iam_policy_document.wide: policy document statement #0 allows ssm:GetParameter on "*"',
    ]);
  });

  it("matches the allowlist exactly: a prefix entry does not admit a wider wildcard", () => {
    expect(isUnscopableAction("ec2:DescribeInstances")).toBe(true);
    expect(isUnscopableAction("EC2:describeinstances")).toBe(true);
    expect(isUnscopableAction("ec2:Describe*")).toBe(true);
    expect(isUnscopableAction("ec2:*")).toBe(false);
    expect(isUnscopableAction("ec2:Describe*Attribute*")).toBe(false);
    expect(isUnscopableAction("*")).toBe(false);
    expect(isUnscopableAction("ssm:GetParameter")).toBe(false);
    for (const entry of UNSCOPABLE_ACTIONS) expect(entry.reason.length).toBeGreaterThan(20);
  });
});
