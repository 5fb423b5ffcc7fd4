import { gunzipSync } from "node:zlib";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { decodeUserData, firstDefaultsConfig, resource, resourceAddresses, synthStack } from "./helpers/synth.js";

// Each NAT mode over the first defaults (a cache volume, an on-demand bastion): only the mode differs.

const byMode = {
  gateway: synthStack(firstDefaultsConfig({ network: { nat: "gateway" } })),
  instance: synthStack(firstDefaultsConfig({ network: { nat: "instance" } })),
  bastion: synthStack(firstDefaultsConfig({ network: { nat: "bastion" } })),
};
const natOnly = (addresses: string[]) => addresses.filter((a) => /nat|private_default/.test(a));

describe("NAT modes synthesize their resources and nothing else", () => {
  it("gateway: an EIP, the NAT gateway in the public subnet and the private route to it", () => {
    const stack = byMode.gateway;
    expect(natOnly(resourceAddresses(stack))).toEqual(["aws_eip.nat", "aws_nat_gateway.main", "aws_route.private_default"]);
    expect(resource(stack, "aws_eip", "nat")).toMatchObject({ domain: "vpc" });
    expect(resource(stack, "aws_nat_gateway", "main")).toMatchObject({ allocation_id: "${aws_eip.nat.allocation_id}", subnet_id: "${aws_subnet.public.id}" });
    expect(resource(stack, "aws_route", "private_default")).toMatchObject({
      route_table_id: "${aws_route_table.private.id}",
      destination_cidr_block: "0.0.0.0/0",
      nat_gateway_id: "${aws_nat_gateway.main.id}",
    });
  });

  it("instance: a persistent ENI as route target and a scheduled t4g.nano", () => {
    const stack = byMode.instance;
    expect(natOnly(resourceAddresses(stack))).toEqual([
      "aws_autoscaling_group.nat_instance",
      "aws_autoscaling_schedule.nat_instance_start",
      "aws_autoscaling_schedule.nat_instance_stop",
      "aws_iam_instance_profile.nat_instance",
      "aws_iam_role.nat_instance",
      "aws_iam_role_policy.nat_instance",
      "aws_launch_template.nat_instance",
      "aws_network_interface.nat_instance",
      "aws_route.private_default",
      "aws_security_group.nat_instance",
      "aws_vpc_security_group_egress_rule.nat_instance_all",
      "aws_vpc_security_group_ingress_rule.nat_instance_from_private",
    ]);
    expect(resource(stack, "aws_network_interface", "nat_instance")).toMatchObject({
      subnet_id: "${aws_subnet.public.id}",
      private_ips: ["10.20.1.10"],
      source_dest_check: false,
    });
    expect(resource(stack, "aws_route", "private_default")).toMatchObject({ network_interface_id: "${aws_network_interface.nat_instance.id}" });
    expect(stack.resource.aws_vpc_security_group_ingress_rule!.nat_instance_from_private).toMatchObject({ cidr_ipv4: "10.20.13.0/24" });
  });

  it("bastion: the private route to the bastion's persistent ENI, its forwarded traffic admitted, no NAT instance of its own", () => {
    const stack = byMode.bastion;
    expect(natOnly(resourceAddresses(stack))).toEqual(["aws_route.private_default"]);
    expect(resourceAddresses(stack).filter((a) => /^aws_(eip|nat_gateway|autoscaling_group|launch_template|ebs_volume|instance)\./.test(a))).toEqual([
      "aws_autoscaling_group.bastion",
      "aws_ebs_volume.bastion_cache",
      "aws_instance.talos_node",
      "aws_launch_template.bastion",
      "aws_launch_template.talos_node",
    ]);
    expect(resource(stack, "aws_route", "private_default")).toEqual({
      route_table_id: "${aws_route_table.private.id}",
      destination_cidr_block: "0.0.0.0/0",
      network_interface_id: "${aws_network_interface.bastion.id}",
    });
    expect(resource(stack, "aws_vpc_security_group_ingress_rule", "bastion_forward_from_private")).toMatchObject({
      security_group_id: "${aws_security_group.bastion.id}",
      ip_protocol: "-1",
      cidr_ipv4: "10.20.13.0/24",
    });
  });

  it("none: refused on an AWS site, naming network.nat and the ways out", () => {
    expect(() => firstDefaultsConfig({ network: { nat: "none" } })).toThrow(/network\.nat: "none" leaves the bastion without egress.*set "bastion".*"instance".*or "gateway"/);
  });
});

describe("NAT instance", () => {
  const stack = byMode.instance;
  const template = resource(stack, "aws_launch_template", "nat_instance");

  it("is a Graviton t4g.nano from Amazon Linux 2023, IMDSv2 only, encrypted root, standard credits", () => {
    expect(template).toMatchObject({
      instance_type: "t4g.nano",
      image_id: "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
      metadata_options: { http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 1 },
      credit_specification: { cpu_credits: "standard" },
      block_device_mappings: [{ device_name: "/dev/xvda", ebs: { encrypted: "true", volume_type: "gp3", volume_size: 8 } }],
      network_interfaces: [{ device_index: 0, associate_public_ip_address: "true", security_groups: ["${aws_security_group.nat_instance.id}"] }],
    });
  });

  it("a type without CPU credits gets no credit specification (EC2 refuses one there)", () => {
    const config = firstDefaultsConfig({ network: { natInstance: { instanceType: "c7g.xlarge" } } });
    expect(resource(synthStack(config), "aws_launch_template", "nat_instance").credit_specification).toBeUndefined();
  });

  it("runs on the bastion's schedule through an ASG of at most one", () => {
    expect(resource(stack, "aws_autoscaling_group", "nat_instance")).toMatchObject({
      min_size: 0,
      max_size: 1,
      vpc_zone_identifier: ["${aws_subnet.public.id}"],
      lifecycle: { ignore_changes: ["desired_capacity"] },
    });
    expect(resource(stack, "aws_autoscaling_schedule", "nat_instance_start")).toMatchObject({ recurrence: "0 18 * * *", time_zone: "Europe/Dublin", desired_capacity: 1 });
    expect(resource(stack, "aws_autoscaling_schedule", "nat_instance_stop")).toMatchObject({ recurrence: "0 23 * * *", time_zone: "Europe/Dublin", desired_capacity: 0 });
  });

  it("installs a unit that attaches its ENI by address, forwards and masquerades the VPC at every boot", () => {
    const userData = decodeUserData(template);
    expect(userData).toMatch(/^#cloud-config\n/);
    const { write_files: files, runcmd } = parseYaml(userData) as { write_files: { path: string; content: string }[]; runcmd: string[][] };
    const unit = files.find((f) => f.path === "/etc/systemd/system/deathstar-nat.service")!.content;
    expect(unit).toMatch(/^WantedBy=multi-user\.target$/m);
    expect(runcmd).toContainEqual(["systemctl", "enable", "--now", "deathstar-nat.service"]);
    const script = files.find((f) => f.path === /^ExecStart=(.*)$/m.exec(unit)![1])!.content;
    expect(script).toMatch(/^#!\/bin\/bash\n/);
    expect(script).toContain("ENI_ADDRESS='10.20.1.10'");
    expect(script).toContain("VPC_CIDR='10.20.0.0/16'");
    expect(script).toContain("PUBLIC_ROUTER='10.20.1.1'");
    expect(script).toContain("net.ipv4.ip_forward=1");
    expect(script).toMatch(/MASQUERADE/);
  });

  it("may attach only its own ENI, from an instance tagged as the NAT instance", () => {
    const policy = JSON.parse(String(resource(stack, "aws_iam_role_policy", "nat_instance").policy));
    const attach = policy.Statement.filter((s: { Action: string[] }) => s.Action.includes("ec2:AttachNetworkInterface"));
    expect(attach.map((s: { Resource: string }) => s.Resource)).toEqual([
      "${aws_network_interface.nat_instance.arn}",
      "arn:${data.aws_partition.current.partition}:ec2:eu-west-1:${data.aws_caller_identity.current.account_id}:instance/*",
    ]);
    expect(attach[1].Condition).toEqual({ StringEquals: { "aws:ResourceTag/deathstar:role": "nat_instance" } });
  });
});

describe("bastion as its own NAT", () => {
  const stack = byMode.bastion;
  const template = resource(stack, "aws_launch_template", "bastion");

  it("keeps its persistent ENI at the bastion's address in the private subnet, with source/dest check off", () => {
    expect(resource(stack, "aws_network_interface", "bastion")).toMatchObject({
      subnet_id: "${aws_subnet.private.id}",
      private_ips: ["10.20.13.140"],
      security_groups: ["${aws_security_group.bastion.id}"],
      source_dest_check: false,
    });
    // In the other modes the ENI forwards nothing and keeps EC2's check.
    expect(resource(byMode.instance, "aws_network_interface", "bastion").source_dest_check).toBeUndefined();
  });

  it("launches in the public subnet with a public IPv4 behind an egress-only group", () => {
    expect(resource(stack, "aws_autoscaling_group", "bastion")).toMatchObject({ vpc_zone_identifier: ["${aws_subnet.public.id}"], min_size: 0, max_size: 1 });
    expect(template.network_interfaces).toEqual([
      { device_index: 0, associate_public_ip_address: "true", security_groups: ["${aws_security_group.bastion_public.id}"], delete_on_termination: "true" },
    ]);
    const onPublicGroup = (type: string) =>
      Object.entries(stack.resource[type] ?? {}).filter(([, rule]) => rule.security_group_id === "${aws_security_group.bastion_public.id}").map(([name]) => name);
    expect(onPublicGroup("aws_vpc_security_group_ingress_rule")).toEqual([]);
    expect(onPublicGroup("aws_vpc_security_group_egress_rule")).toEqual(["bastion_public_all"]);
    // The other modes keep the bastion private.
    expect(resource(byMode.instance, "aws_autoscaling_group", "bastion").vpc_zone_identifier).toEqual(["${aws_subnet.private.id}"]);
    expect(resource(byMode.instance, "aws_launch_template", "bastion").network_interfaces).toMatchObject([{ associate_public_ip_address: "false", security_groups: ["${aws_security_group.bastion.id}"] }]);
  });

  it("boots with the NAT instance's masquerade steps, right after its ENI is up", () => {
    const files = renderedFiles(template);
    const script = files.find((f) => f.path === "/usr/local/sbin/deathstar-bastion-boot")!.content;
    expect(script).toContain("NAT_ON_BASTION='yes'");
    expect(script).toContain("VPC_CIDR='10.20.0.0/16'");
    expect(script).toContain("SUBNET_ROUTER='10.20.13.1'");
    expect(script).toMatch(/^# .* Source: .*templates\/nat-masquerade\.sh.*\.$/m);
    // The same lines as the NAT instance's setup: one source.
    const natScript = parseYaml(decodeUserData(resource(byMode.instance, "aws_launch_template", "nat_instance"))).write_files[0].content as string;
    const masquerade = /^masquerade_vpc\(\) \{\n[\s\S]*?\n\}\n/m;
    const shared = natScript.match(masquerade)?.[0];
    expect(shared).toContain("-j MASQUERADE");
    expect(script.match(masquerade)?.[0]).toBe(shared);
    expect(script.indexOf('masquerade_vpc "$SUBNET_ROUTER"')).toBeGreaterThan(script.indexOf("  route_via_eni\n"));
    expect(script.indexOf('masquerade_vpc "$SUBNET_ROUTER"')).toBeLessThan(script.indexOf("  wait_for_egress\n"));
  });

  it("is not rendered into the bastion of the other modes", () => {
    const script = renderedFiles(resource(byMode.instance, "aws_launch_template", "bastion")).find((f) => f.path === "/usr/local/sbin/deathstar-bastion-boot")!.content;
    expect(script).toContain("NAT_ON_BASTION='no'");
    expect(script).not.toContain("masquerade_vpc() {");
  });
});

/** The files the bastion's user-data writes, decompressed as cloud-init does. */
function renderedFiles(template: Record<string, unknown>): { path: string; content: string }[] {
  const { write_files: files } = parseYaml(decodeUserData(template)) as { write_files: { path: string; content: string; encoding?: string }[] };
  return files.map((f) => ({ path: f.path, content: f.encoding === "gz+b64" ? gunzipSync(Buffer.from(f.content, "base64")).toString("utf8") : f.content }));
}
