import { describe, expect, it } from "vitest";
import { isOpenCidr, noOpenIngress } from "../../../analysis/rules/no-open-ingress.js";
import { findings, resourceBlock } from "../../helpers/blocks.js";

describe("DS-SG-NO-OPEN-INGRESS", () => {
  it("passes named sources and open egress", () => {
    expect(
      findings(noOpenIngress, [
        resourceBlock("aws_vpc_security_group_ingress_rule", "ssh", { cidr_ipv6: "2001:db8::10/128", from_port: 22, to_port: 22 }),
        resourceBlock("aws_vpc_security_group_ingress_rule", "from_nodes", { referenced_security_group_id: "${aws_security_group.talos_nodes.id}" }),
        resourceBlock("aws_vpc_security_group_egress_rule", "all", { cidr_ipv4: "0.0.0.0/0" }),
        resourceBlock("aws_security_group", "nat", { ingress: [{ cidr_blocks: ["10.20.13.0/24"] }], egress: [{ cidr_blocks: ["0.0.0.0/0"] }] }),
        resourceBlock("aws_security_group_rule", "out", { type: "egress", cidr_blocks: ["0.0.0.0/0"] }),
      ]),
    ).toEqual([]);
  });

  it("fails /0 ingress in all three rule shapes, IPv4 and IPv6", () => {
    expect(
      findings(noOpenIngress, [
        resourceBlock("aws_vpc_security_group_ingress_rule", "ssh", { cidr_ipv4: "0.0.0.0/0" }),
        resourceBlock("aws_security_group", "web", { ingress: [{ cidr_blocks: ["10.0.0.0/8"], ipv6_cidr_blocks: ["::/0"] }] }),
        resourceBlock("aws_default_security_group", "default", { ingress: { cidr_blocks: ["0.0.0.0/0"] } }),
        resourceBlock("aws_security_group_rule", "in", { type: "ingress", cidr_blocks: ["0.0.0.0/0"] }),
      ]),
    ).toEqual([
      "aws_vpc_security_group_ingress_rule.ssh: cidr_ipv4 allows ingress from 0.0.0.0/0",
      "aws_security_group.web: ingress.0.ipv6_cidr_blocks.0 allows ingress from ::/0",
      "aws_default_security_group.default: ingress.0.cidr_blocks.0 allows ingress from 0.0.0.0/0",
      "aws_security_group_rule.in: cidr_blocks.0 allows ingress from 0.0.0.0/0",
    ]);
  });

  it("treats every spelling of a zero-length prefix as open", () => {
    expect(["0.0.0.0/0", "::/0", "0::/0", "0:0:0:0:0:0:0:0/00"].every(isOpenCidr)).toBe(true);
    expect(["10.0.0.0/8", "2001:db8::/32", "1.2.3.0/24"].some(isOpenCidr)).toBe(false);
  });
});
