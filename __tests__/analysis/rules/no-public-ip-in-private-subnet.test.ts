import { describe, expect, it } from "vitest";
import { isPrivateSubnet, noPublicIpInPrivateSubnet } from "../../../analysis/rules/no-public-ip-in-private-subnet.js";
import { type SynthesizedBlock } from "../../../analysis/synthesized.js";
import { findings, resourceBlock, stackView } from "../../helpers/blocks.js";

/** The network of the stack: the public subnet routes to the internet gateway, the private one to a NAT ENI. */
const network: SynthesizedBlock[] = [
  resourceBlock("aws_internet_gateway", "main", { vpc_id: "${aws_vpc.main.id}" }),
  resourceBlock("aws_subnet", "public", { cidr_block: "10.20.1.0/24", map_public_ip_on_launch: false }),
  resourceBlock("aws_subnet", "private", { cidr_block: "10.20.13.0/24", map_public_ip_on_launch: false }),
  resourceBlock("aws_route_table", "public", {}),
  resourceBlock("aws_route_table", "private", {}),
  resourceBlock("aws_route_table_association", "public", { subnet_id: "${aws_subnet.public.id}", route_table_id: "${aws_route_table.public.id}" }),
  resourceBlock("aws_route_table_association", "private", { subnet_id: "${aws_subnet.private.id}", route_table_id: "${aws_route_table.private.id}" }),
  resourceBlock("aws_route", "public_default", { route_table_id: "${aws_route_table.public.id}", destination_cidr_block: "0.0.0.0/0", gateway_id: "${aws_internet_gateway.main.id}" }),
  resourceBlock("aws_route", "private_default", { route_table_id: "${aws_route_table.private.id}", destination_cidr_block: "0.0.0.0/0", network_interface_id: "${aws_network_interface.nat.id}" }),
  resourceBlock("aws_network_interface", "nat", { subnet_id: "${aws_subnet.public.id}" }),
  resourceBlock("aws_network_interface", "bastion", { subnet_id: "${aws_subnet.private.id}" }),
];

const publicIpTemplate = resourceBlock("aws_launch_template", "nat_instance", { network_interfaces: [{ device_index: 0, associate_public_ip_address: "true" }] });

describe("DS-NET-NO-PUBLIC-IP-PRIVATE", () => {
  it("tells the subnets apart by their routes to the internet gateway", () => {
    const view = stackView(network);
    expect(isPrivateSubnet(view, "${aws_subnet.public.id}")).toBe(false);
    expect(isPrivateSubnet(view, "${aws_subnet.private.id}")).toBe(true);
    expect(isPrivateSubnet(view, "subnet-0123456789abcdef0")).toBe(false);
  });

  it("passes public IPs in the public subnet (the NAT instance) and private instances without one", () => {
    expect(
      findings(noPublicIpInPrivateSubnet, [
        ...network,
        publicIpTemplate,
        resourceBlock("aws_autoscaling_group", "nat_instance", { vpc_zone_identifier: ["${aws_subnet.public.id}"], launch_template: { id: "${aws_launch_template.nat_instance.id}" } }),
        resourceBlock("aws_launch_template", "bastion", { network_interfaces: [{ associate_public_ip_address: "false" }] }),
        resourceBlock("aws_autoscaling_group", "bastion", { vpc_zone_identifier: ["${aws_subnet.private.id}"], launch_template: { id: "${aws_launch_template.bastion.id}" } }),
        resourceBlock("aws_eip", "nat", { network_interface: "${aws_network_interface.nat.id}" }),
        resourceBlock("aws_nat_gateway", "main", { subnet_id: "${aws_subnet.public.id}" }),
      ]),
    ).toEqual([]);
  });

  it("fails every way of giving something in the private subnet a public address", () => {
    const privateSubnet = network.map((b) => (b.address === "aws_subnet.private" ? resourceBlock("aws_subnet", "private", { map_public_ip_on_launch: true }) : b));
    expect(
      findings(noPublicIpInPrivateSubnet, [
        ...privateSubnet,
        publicIpTemplate,
        resourceBlock("aws_autoscaling_group", "bastion", { vpc_zone_identifier: ["${aws_subnet.private.id}"], launch_template: { id: "${aws_launch_template.nat_instance.id}" } }),
        resourceBlock("aws_instance", "probe", { subnet_id: "${aws_subnet.private.id}", associate_public_ip_address: true }),
        resourceBlock("aws_launch_template", "pinned", { network_interfaces: [{ subnet_id: "${aws_subnet.private.id}", associate_public_ip_address: "true" }] }),
        resourceBlock("aws_eip", "bastion", { network_interface: "${aws_network_interface.bastion.id}" }),
        resourceBlock("aws_nat_gateway", "misplaced", { subnet_id: "${aws_subnet.private.id}" }),
      ]),
    ).toEqual([
      "aws_subnet.private: map_public_ip_on_launch is true on a private subnet",
      "aws_autoscaling_group.bastion: launches aws_launch_template.nat_instance, which associates a public IP, into private subnet ${aws_subnet.private.id}",
      "aws_instance.probe: associate_public_ip_address is true in private subnet ${aws_subnet.private.id}",
      "aws_launch_template.pinned: network_interfaces.0 gets a public IP in private subnet ${aws_subnet.private.id}",
      "aws_eip.bastion: attaches an Elastic IP to aws_network_interface.bastion in private subnet ${aws_subnet.private.id}",
      "aws_nat_gateway.misplaced: is a public NAT gateway placed in private subnet ${aws_subnet.private.id}",
    ]);
  });
});
