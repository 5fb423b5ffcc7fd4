import { describe, expect, it } from "vitest";
import { resource, siteConfig, synthStack } from "./helpers/synth.js";

const stack = synthStack();

describe("provider, backend and tags", () => {
  it("pins eu-west-1 and tags everything through default_tags", () => {
    const aws = (stack.provider.aws as Record<string, unknown>[])[0]!;
    expect(aws.region).toBe("eu-west-1");
    expect(aws.default_tags).toEqual([{ tags: { Project: "third-death-star", Site: "aws-eu-west-1", ManagedBy: "opentofu-cdktf" } }]);
  });

  it("extra tags from the config join the defaults", () => {
    const tagged = synthStack(siteConfig({ tags: { Owner: "lab" } }));
    expect((tagged.provider.aws as { default_tags: { tags: Record<string, string> }[] }[])[0]!.default_tags[0]!.tags.Owner).toBe("lab");
  });

  it("keeps state at the repo root under cdktf's terraform.<stack>.tfstate name, as a relative path", () => {
    expect(stack.terraform.backend).toEqual({ local: { path: "../../../terraform.deathstar.tfstate" } });
  });

  it("offers S3 with native lockfile locking for teams", () => {
    const s3 = synthStack(siteConfig({ state: { backend: "s3", bucket: "lab-state", key: "deathstar.tfstate", region: "eu-west-1" } }));
    expect(s3.terraform.backend).toEqual({ s3: { bucket: "lab-state", key: "deathstar.tfstate", region: "eu-west-1", encrypt: true, use_lockfile: true } });
  });

  it("requires the AWS provider version the bindings were generated for", () => {
    expect(stack.terraform.required_providers).toEqual({ aws: { source: "aws", version: "6.25.0" } });
  });
});

describe("network", () => {
  it("VPC 10.20.0.0/16 with DNS support and hostnames", () => {
    expect(resource(stack, "aws_vpc", "main")).toMatchObject({ cidr_block: "10.20.0.0/16", enable_dns_support: true, enable_dns_hostnames: true });
  });

  it("public and private /24 subnets in eu-west-1a, no automatic public IPs", () => {
    expect(resource(stack, "aws_subnet", "public")).toMatchObject({
      cidr_block: "10.20.1.0/24",
      availability_zone: "eu-west-1a",
      vpc_id: "${aws_vpc.main.id}",
      map_public_ip_on_launch: false,
    });
    expect(resource(stack, "aws_subnet", "private")).toMatchObject({ cidr_block: "10.20.13.0/24", availability_zone: "eu-west-1a", map_public_ip_on_launch: false });
  });

  it("public default route goes to the internet gateway", () => {
    expect(resource(stack, "aws_internet_gateway", "main")).toMatchObject({ vpc_id: "${aws_vpc.main.id}" });
    expect(resource(stack, "aws_route", "public_default")).toMatchObject({
      route_table_id: "${aws_route_table.public.id}",
      destination_cidr_block: "0.0.0.0/0",
      gateway_id: "${aws_internet_gateway.main.id}",
    });
    expect(resource(stack, "aws_route_table_association", "public")).toMatchObject({ subnet_id: "${aws_subnet.public.id}", route_table_id: "${aws_route_table.public.id}" });
    expect(resource(stack, "aws_route_table_association", "private")).toMatchObject({ subnet_id: "${aws_subnet.private.id}", route_table_id: "${aws_route_table.private.id}" });
  });

  it("DHCP options list Pi-hole first and Amazon DNS second", () => {
    expect(resource(stack, "aws_vpc_dhcp_options", "main")).toMatchObject({
      domain_name: "eu-west-1.compute.internal",
      domain_name_servers: ["10.20.13.140", "AmazonProvidedDNS"],
    });
    expect(resource(stack, "aws_vpc_dhcp_options_association", "main")).toEqual({ vpc_id: "${aws_vpc.main.id}", dhcp_options_id: "${aws_vpc_dhcp_options.main.id}" });
  });

  it("follows the config's addresses", () => {
    const other = synthStack(siteConfig({ network: { vpcCidr: "10.30.0.0/16", publicSubnet: { cidr: "10.30.1.0/24" }, privateSubnet: { cidr: "10.30.13.0/24" }, natInstance: { eniAddress: "10.30.1.10" } }, bastion: { privateIp: "10.30.13.140" }, talos: { nodeIps: ["10.30.13.11"] }, usage: { nodesPerSession: 1 } }));
    expect(resource(other, "aws_vpc", "main").cidr_block).toBe("10.30.0.0/16");
    expect(resource(other, "aws_subnet", "private").cidr_block).toBe("10.30.13.0/24");
    // network.dnsServers says "bastion": moving the bastion moves the DHCP option with it.
    expect(resource(other, "aws_vpc_dhcp_options", "main").domain_name_servers).toEqual(["10.30.13.140", "AmazonProvidedDNS"]);
  });
});

describe("security groups", () => {
  const ingress = stack.resource.aws_vpc_security_group_ingress_rule!;
  const egress = stack.resource.aws_vpc_security_group_egress_rule!;

  it("the default security group is managed with no rules", () => {
    const group = resource(stack, "aws_default_security_group", "default");
    expect(group.vpc_id).toBe("${aws_vpc.main.id}");
    expect(group.ingress).toBeUndefined();
    expect(group.egress).toBeUndefined();
  });

  it("bastion-sg: SSH from the operator's IPv6 /128, everything from talos-nodes-sg, all egress", () => {
    expect(resource(stack, "aws_security_group", "bastion")).toMatchObject({ name: "bastion-sg", vpc_id: "${aws_vpc.main.id}" });
    expect(ingress.bastion_ssh_operator_0).toMatchObject({
      security_group_id: "${aws_security_group.bastion.id}",
      ip_protocol: "tcp",
      from_port: 22,
      to_port: 22,
      cidr_ipv6: "2001:db8::10/128",
    });
    expect(ingress.bastion_from_talos_nodes).toMatchObject({ ip_protocol: "-1", referenced_security_group_id: "${aws_security_group.talos_nodes.id}" });
    expect(egress.bastion_all).toMatchObject({ security_group_id: "${aws_security_group.bastion.id}", ip_protocol: "-1", cidr_ipv4: "0.0.0.0/0" });
  });

  it("talos-nodes-sg: everything from the bastion and itself; egress to the bastion, itself and HTTPS", () => {
    expect(resource(stack, "aws_security_group", "talos_nodes")).toMatchObject({ name: "talos-nodes-sg" });
    expect(ingress.talos_nodes_from_bastion).toMatchObject({ ip_protocol: "-1", referenced_security_group_id: "${aws_security_group.bastion.id}" });
    expect(ingress.talos_nodes_from_self).toMatchObject({ ip_protocol: "-1", referenced_security_group_id: "${aws_security_group.talos_nodes.id}" });
    expect(egress.talos_nodes_to_bastion).toMatchObject({ ip_protocol: "-1", referenced_security_group_id: "${aws_security_group.bastion.id}" });
    expect(egress.talos_nodes_https).toMatchObject({ ip_protocol: "tcp", from_port: 443, to_port: 443, cidr_ipv4: "0.0.0.0/0" });
  });

  it("every rule has a description and no ingress is open to the world", () => {
    for (const rules of [ingress, egress]) {
      for (const [name, rule] of Object.entries(rules)) expect(String(rule.description), name).toMatch(/\w{6,}/);
    }
    for (const rule of Object.values(ingress)) {
      expect(rule.cidr_ipv4).not.toBe("0.0.0.0/0");
      expect(rule.cidr_ipv6).not.toBe("::/0");
    }
  });

  it("one SSH rule per operator source", () => {
    const two = synthStack(siteConfig({ access: { operatorSshSources: ["2001:db8::10/128", "2001:db8::11/128"] } }));
    expect(two.resource.aws_vpc_security_group_ingress_rule!.bastion_ssh_operator_1).toMatchObject({ cidr_ipv6: "2001:db8::11/128" });
  });

  it("mikrotik-sg exists only behind its flag", () => {
    expect(stack.resource.aws_security_group!.mikrotik).toBeUndefined();
    const withRouter = synthStack(siteConfig({ access: { mikrotik: { enabled: true, sources: ["2001:db8::1/128"] } } }));
    expect(resource(withRouter, "aws_security_group", "mikrotik")).toMatchObject({ name: "mikrotik-sg" });
    expect(withRouter.resource.aws_vpc_security_group_ingress_rule!.mikrotik_wireguard_0).toMatchObject({ ip_protocol: "udp", from_port: 13231, cidr_ipv6: "2001:db8::1/128" });
  });
});
