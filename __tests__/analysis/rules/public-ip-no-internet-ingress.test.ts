import { describe, expect, it } from "vitest";
import { publicIpNoInternetIngress } from "../../../analysis/rules/public-ip-no-internet-ingress.js";
import { type SynthesizedBlock } from "../../../analysis/synthesized.js";
import { findings, resourceBlock } from "../../helpers/blocks.js";

/** The stack's VPC, its subnets, and the groups the bastion uses when it is its own NAT. */
const vpc: SynthesizedBlock[] = [
  resourceBlock("aws_vpc", "main", { cidr_block: "10.20.0.0/16" }),
  resourceBlock("aws_subnet", "public", { vpc_id: "${aws_vpc.main.id}", cidr_block: "10.20.1.0/24" }),
  resourceBlock("aws_subnet", "private", { vpc_id: "${aws_vpc.main.id}", cidr_block: "10.20.13.0/24" }),
  resourceBlock("aws_default_security_group", "default", { vpc_id: "${aws_vpc.main.id}" }),
  resourceBlock("aws_security_group", "bastion_public", { vpc_id: "${aws_vpc.main.id}" }),
  resourceBlock("aws_vpc_security_group_egress_rule", "bastion_public_all", { security_group_id: "${aws_security_group.bastion_public.id}", cidr_ipv4: "0.0.0.0/0" }),
  resourceBlock("aws_security_group", "bastion", { vpc_id: "${aws_vpc.main.id}" }),
  resourceBlock("aws_vpc_security_group_ingress_rule", "bastion_ssh_operator_0", { security_group_id: "${aws_security_group.bastion.id}", cidr_ipv6: "2001:db8::10/128" }),
  resourceBlock("aws_vpc_security_group_ingress_rule", "bastion_from_talos_nodes", {
    security_group_id: "${aws_security_group.bastion.id}",
    referenced_security_group_id: "${aws_security_group.talos_nodes.id}",
  }),
  resourceBlock("aws_security_group", "nat_instance", { vpc_id: "${aws_vpc.main.id}" }),
  resourceBlock("aws_vpc_security_group_ingress_rule", "nat_instance_from_private", { security_group_id: "${aws_security_group.nat_instance.id}", cidr_ipv4: "10.20.13.0/24" }),
];

const template = (name: string, groups: string[], publicIp = "true") =>
  resourceBlock("aws_launch_template", name, { network_interfaces: [{ device_index: 0, associate_public_ip_address: publicIp, security_groups: groups }] });

describe("DS-NET-PUBLIC-IP-NO-INTERNET-INGRESS", () => {
  it("passes public interfaces whose groups admit only the VPC, and private interfaces with any group", () => {
    expect(
      findings(publicIpNoInternetIngress, [
        ...vpc,
        // The bastion as its own NAT: egress only on the public interface.
        template("bastion", ["${aws_security_group.bastion_public.id}"]),
        // The NAT instance: the private subnet only, to be forwarded.
        template("nat_instance", ["${aws_security_group.nat_instance.id}"]),
        // A private interface may carry the operator's IPv6 SSH rule.
        template("private_bastion", ["${aws_security_group.bastion.id}"], "false"),
        // No group named: the VPC's default group, managed here without rules.
        resourceBlock("aws_instance", "probe", { associate_public_ip_address: true }),
        // A subnet of a VPC an existing module owns counts as inside that VPC.
        resourceBlock("aws_subnet", "module_private", { vpc_id: "${module.vpc.vpc_id}", cidr_block: "10.30.13.0/24" }),
        resourceBlock("aws_security_group", "module_nat", { vpc_id: "${module.vpc.vpc_id}", ingress: [{ cidr_blocks: ["10.30.13.0/25"] }] }),
        resourceBlock("aws_instance", "module_nat", { associate_public_ip_address: true, vpc_security_group_ids: ["${aws_security_group.module_nat.id}"] }),
        // A VPC whose blocks the stack cannot see (its subnets come from a module too): a private
        // source cannot be the internet.
        resourceBlock("aws_security_group", "unseen_nat", { vpc_id: "${module.other.vpc_id}", ingress: [{ cidr_blocks: ["10.20.13.0/24", "172.16.4.0/22", "192.168.1.0/24"] }] }),
        resourceBlock("aws_instance", "unseen_nat", { associate_public_ip_address: true, vpc_security_group_ids: ["${aws_security_group.unseen_nat.id}"] }),
      ]),
    ).toEqual([]);
  });

  it("fails a public source on a public interface when the VPC's blocks are not known to the stack", () => {
    expect(
      findings(publicIpNoInternetIngress, [
        resourceBlock("aws_security_group", "unseen", { vpc_id: "${module.other.vpc_id}", ingress: [{ cidr_blocks: ["10.1.0.0/16", "172.32.0.0/16"] }] }),
        resourceBlock("aws_instance", "unseen", { associate_public_ip_address: true, vpc_security_group_ids: ["${aws_security_group.unseen.id}"] }),
      ]),
    ).toEqual([
      "aws_instance.unseen: its primary interface (public IPv4) has aws_security_group.unseen, whose aws_security_group.unseen ingress.0.cidr_blocks.1 admits 172.32.0.0/16, outside the private address blocks (the VPC's own are not known to this stack)",
    ]);
  });

  it("fails a public interface with ingress from outside the VPC, in every shape a rule or an address takes", () => {
    expect(
      findings(publicIpNoInternetIngress, [
        ...vpc,
        resourceBlock("aws_security_group", "wide", { vpc_id: "${aws_vpc.main.id}", ingress: [{ cidr_blocks: ["10.0.0.0/8"], prefix_list_ids: ["pl-0123456789abcdef0"] }] }),
        resourceBlock("aws_security_group_rule", "home", { type: "ingress", security_group_id: "${aws_security_group.wide.id}", cidr_blocks: ["198.51.100.7/32"] }),
        resourceBlock("aws_network_interface", "public", { security_groups: ["${aws_security_group.bastion.id}"] }),
        // The bastion's group on the public interface: the operator's IPv6 host would reach it.
        template("bastion", ["${aws_security_group.bastion.id}"]),
        resourceBlock("aws_instance", "web", { associate_public_ip_address: "true", vpc_security_group_ids: ["${aws_security_group.wide.id}"] }),
        resourceBlock("aws_eip", "public", { network_interface: "${aws_network_interface.public.id}" }),
        template("foreign", ["sg-0123456789abcdef0"]),
      ]),
    ).toEqual([
      "aws_launch_template.bastion: network_interfaces.0 (public IPv4) has aws_security_group.bastion, whose aws_vpc_security_group_ingress_rule.bastion_ssh_operator_0 cidr_ipv6 admits 2001:db8::10/128 (IPv6: not provably inside the VPC)",
      "aws_instance.web: its primary interface (public IPv4) has aws_security_group.wide, whose aws_security_group.wide ingress.0.cidr_blocks.0 admits 10.0.0.0/8, outside the VPC's blocks (10.20.0.0/16, 10.20.1.0/24, 10.20.13.0/24)",
      "aws_instance.web: its primary interface (public IPv4) has aws_security_group.wide, whose aws_security_group.wide ingress.0.prefix_list_ids.0 admits prefix list pl-0123456789abcdef0 (its entries are not known at synth time)",
      "aws_instance.web: its primary interface (public IPv4) has aws_security_group.wide, whose aws_security_group_rule.home cidr_blocks.0 admits 198.51.100.7/32, outside the VPC's blocks (10.20.0.0/16, 10.20.1.0/24, 10.20.13.0/24)",
      "aws_eip.public: aws_network_interface.public (Elastic IP) has aws_security_group.bastion, whose aws_vpc_security_group_ingress_rule.bastion_ssh_operator_0 cidr_ipv6 admits 2001:db8::10/128 (IPv6: not provably inside the VPC)",
      "aws_launch_template.foreign: network_interfaces.0 (public IPv4) has security group sg-0123456789abcdef0, which is not one of this stack's: its ingress cannot be checked",
    ]);
  });

  it("fails a public interface without a group when the stack does not manage the default group", () => {
    expect(findings(publicIpNoInternetIngress, [resourceBlock("aws_instance", "probe", { associate_public_ip_address: true })])).toEqual([
      "aws_instance.probe: its primary interface (public IPv4) names no security group, so the VPC's default group applies, which this stack does not manage; give it an egress-only group",
    ]);
  });
});
