import { gunzipSync } from "node:zlib";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { Bastion } from "../constructs/bastion.js";
import { ResourceArns } from "../constructs/arns.js";
import { decodeUserData, firstDefaultsConfig, resource, synthStack } from "./helpers/synth.js";

// The bastion with a cache volume and a NAT instance beside it: the S3 cache is tested in
// cache-bucket.test.ts, the bastion as its own NAT in nat.test.ts.

const stack = synthStack(firstDefaultsConfig());

function policyDocument(policy: unknown): { Version: string; Statement: Record<string, unknown>[] } {
  return JSON.parse(String(policy)) as { Version: string; Statement: Record<string, unknown>[] };
}

/** The files the user-data writes, decompressed, by path. */
function userDataFiles(): Map<string, string> {
  const text = decodeUserData(resource(stack, "aws_launch_template", "bastion"));
  const document = parseYaml(text) as { write_files: { path: string; content: string }[] };
  return new Map(document.write_files.map((f) => [f.path, gunzipSync(Buffer.from(f.content, "base64")).toString("utf8")]));
}

describe("bastion identity", () => {
  it("keeps its address on a persistent ENI in the private subnet with bastion-sg", () => {
    expect(resource(stack, "aws_network_interface", "bastion")).toMatchObject({
      private_ips: ["10.20.13.140"],
      subnet_id: "${aws_subnet.private.id}",
      security_groups: ["${aws_security_group.bastion.id}"],
    });
  });

  it("keeps its caches on a persistent encrypted gp3 volume in the subnet's AZ, tagged for the boot script", () => {
    expect(resource(stack, "aws_ebs_volume", "bastion_cache")).toMatchObject({
      availability_zone: "eu-west-1a",
      size: 20,
      type: "gp3",
      encrypted: true,
      tags: { "deathstar:volume": "bastion-cache" },
    });
    expect(resource(synthStack(firstDefaultsConfig({ bastion: { cacheVolumeGb: 35 } })), "aws_ebs_volume", "bastion_cache").size).toBe(35);
  });
});

describe("bastion DNS for the VPC", () => {
  it("admits DNS over UDP and TCP from the VPC block only", () => {
    for (const protocol of ["udp", "tcp"]) {
      expect(resource(stack, "aws_vpc_security_group_ingress_rule", `bastion_dns_${protocol}`)).toMatchObject({
        security_group_id: "${aws_security_group.bastion.id}",
        ip_protocol: protocol,
        from_port: 53,
        to_port: 53,
        cidr_ipv4: "10.20.0.0/16",
      });
    }
  });
});

describe("bastion launch template and group", () => {
  const template = resource(stack, "aws_launch_template", "bastion");

  it("launches AL2023 arm64 from the SSM public parameter on a t4g.small with IMDSv2, hop limit 1, standard credits", () => {
    expect(template).toMatchObject({
      image_id: "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
      instance_type: "t4g.small",
      metadata_options: { http_tokens: "required", http_put_response_hop_limit: 1, http_endpoint: "enabled" },
      credit_specification: { cpu_credits: "standard" },
      block_device_mappings: [{ ebs: { encrypted: "true", volume_type: "gp3", volume_size: 8 } }],
      iam_instance_profile: { arn: "${aws_iam_instance_profile.bastion.arn}" },
    });
    expect((template.network_interfaces as Record<string, unknown>[])[0]).toMatchObject({
      associate_public_ip_address: "false",
      security_groups: ["${aws_security_group.bastion.id}"],
    });
  });

  it("runs 0 or 1 instance in the private subnet, rolled on template changes", () => {
    expect(resource(stack, "aws_autoscaling_group", "bastion")).toMatchObject({
      min_size: 0,
      max_size: 1,
      vpc_zone_identifier: ["${aws_subnet.private.id}"],
      launch_template: { id: "${aws_launch_template.bastion.id}", version: "${aws_launch_template.bastion.latest_version}" },
      instance_refresh: { strategy: "Rolling" },
    });
  });

  it("bastion.market spot: the group buys spot only through a mixed instances policy on the same template and type", () => {
    const spotConfig = firstDefaultsConfig({ bastion: { market: "spot" } });
    const spot = synthStack(spotConfig);
    const group = resource(spot, "aws_autoscaling_group", "bastion");
    expect(group.launch_template).toBeUndefined();
    expect(group.mixed_instances_policy).toEqual({
      instances_distribution: { on_demand_base_capacity: 0, on_demand_percentage_above_base_capacity: 0, spot_allocation_strategy: "price-capacity-optimized" },
      launch_template: {
        launch_template_specification: { launch_template_id: "${aws_launch_template.bastion.id}", version: "${aws_launch_template.bastion.latest_version}" },
        override: [{ instance_type: spotConfig.bastion.instanceType }],
      },
    });
    // The template is the on-demand one: the group, not the template, decides the market.
    expect(resource(spot, "aws_launch_template", "bastion")).toEqual(resource(synthStack(firstDefaultsConfig()), "aws_launch_template", "bastion"));
  });

  it("starts and stops on the configured schedule and time zone", () => {
    expect(resource(stack, "aws_autoscaling_schedule", "bastion_start")).toMatchObject({
      recurrence: "0 18 * * *",
      time_zone: "Europe/Dublin",
      desired_capacity: 1,
      autoscaling_group_name: "${aws_autoscaling_group.bastion.name}",
    });
    expect(resource(stack, "aws_autoscaling_schedule", "bastion_stop")).toMatchObject({ recurrence: "0 23 * * *", time_zone: "Europe/Dublin", desired_capacity: 0 });
    const custom = synthStack(firstDefaultsConfig({ bastion: { schedule: { start: "30 7 * * 1-5", stop: "30 12 * * 1-5", timeZone: "UTC" } } }));
    expect(resource(custom, "aws_autoscaling_schedule", "bastion_start")).toMatchObject({ recurrence: "30 7 * * 1-5", time_zone: "UTC" });
  });
});

describe("bastion role", () => {
  const arn = (service: string, resourcePart: string) =>
    `arn:\${data.aws_partition.current.partition}:${service}:eu-west-1:\${data.aws_caller_identity.current.account_id}:${resourcePart}`;

  it("may attach exactly its ENI and volume, read exactly its parameters, and use Session Manager", () => {
    const document = policyDocument(resource(stack, "aws_iam_role_policy", "bastion").policy);
    expect(document.Statement).toEqual([
      { Sid: "AttachOwnEni", Effect: "Allow", Action: ["ec2:AttachNetworkInterface"], Resource: "${aws_network_interface.bastion.arn}" },
      { Sid: "AttachOwnCacheVolume", Effect: "Allow", Action: ["ec2:AttachVolume"], Resource: "${aws_ebs_volume.bastion_cache.arn}" },
      {
        Sid: "AttachToBastion",
        Effect: "Allow",
        Action: ["ec2:AttachNetworkInterface", "ec2:AttachVolume"],
        Resource: arn("ec2", "instance/*"),
        Condition: { StringEquals: { "aws:ResourceTag/deathstar:role": "bastion" } },
      },
      { Sid: "FindEniAndVolume", Effect: "Allow", Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeVolumes"], Resource: "*" },
      { Sid: "ReadOwnParameters", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [arn("ssm", "parameter/deathstar/pihole/web-password")] },
      { Sid: "SessionManagerRegistration", Effect: "Allow", Action: ["ssm:UpdateInstanceInformation"], Resource: arn("ec2", "instance/*") },
      {
        Sid: "SessionManagerChannels",
        Effect: "Allow",
        Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
        Resource: "*",
      },
    ]);
  });

  it("may read the Tailscale key only when Tailscale is enabled", () => {
    const withTailscale = synthStack(firstDefaultsConfig({ bastion: { tailscale: { enabled: true } } }));
    const statement = policyDocument(resource(withTailscale, "aws_iam_role_policy", "bastion").policy).Statement.find((s) => s.Sid === "ReadOwnParameters");
    expect(statement!.Resource).toEqual([arn("ssm", "parameter/deathstar/pihole/web-password"), arn("ssm", "parameter/deathstar/tailscale/auth-key")]);
  });

  it("may read each cache's credentials parameter once, and no other", () => {
    const shared = "/deathstar/registry/shared";
    const caches = firstDefaultsConfig().services.registryCaches.map((cache, i) => (i < 2 ? { ...cache, credentialsParameter: shared } : cache));
    caches[4] = { ...caches[4]!, credentialsParameter: "/deathstar/registry/ghcr.io" };
    const withCredentials = synthStack(firstDefaultsConfig({ services: { registryCaches: caches } }));
    const statement = policyDocument(resource(withCredentials, "aws_iam_role_policy", "bastion").policy).Statement.find((s) => s.Sid === "ReadOwnParameters");
    expect(statement!.Resource).toEqual([
      arn("ssm", "parameter/deathstar/pihole/web-password"),
      arn("ssm", `parameter${shared}`),
      arn("ssm", "parameter/deathstar/registry/ghcr.io"),
    ]);
  });

  it("tags the instance with its role, which the attach condition matches", () => {
    const specs = resource(stack, "aws_launch_template", "bastion").tag_specifications as { resource_type: string; tags: Record<string, string> }[];
    expect(specs.find((s) => s.resource_type === "instance")!.tags["deathstar:role"]).toBe("bastion");
  });
});

describe("bastion user-data in the synthesized stack", () => {
  const files = userDataFiles();

  it("holds the five caches, dnsmasq, matchbox and Pi-hole with the pinned images", () => {
    const compose = parseYaml(files.get("/opt/deathstar/compose.yaml")!) as { services: Record<string, { image: string; ports?: string[] }> };
    const images = Object.fromEntries(Object.entries(compose.services).map(([name, s]) => [name, s.image]));
    expect(images).toEqual({
      dnsmasq: "quay.io/poseidon/dnsmasq:v0.5.0-40-g494d4e0",
      matchbox: "quay.io/poseidon/matchbox:v0.11.0",
      pihole: "pihole/pihole:2024.07.0",
      "registry-docker-io": "registry:2.8.3",
      "registry-registry-k8s-io": "registry:2.8.3",
      "registry-quay-io": "registry:2.8.3",
      "registry-gcr-io": "registry:2.8.3",
      "registry-ghcr-io": "registry:2.8.3",
    });
    for (const name of ["docker.io", "registry.k8s.io", "quay.io", "gcr.io", "ghcr.io"]) {
      expect(files.has(`/opt/deathstar/registry/${name}/config.yml`), name).toBe(true);
    }
    // EC2 has no PXE: the AWS site serves no TFTP.
    expect(files.get("/opt/deathstar/dnsmasq/dnsmasq.conf")).not.toContain("tftp");
    expect(files.has("/opt/deathstar/matchbox/profiles/talos-maintenance.json")).toBe(true);
  });

  it("carries no secret: the synthesized JSON names SSM parameters and holds no password or key", () => {
    const everything = [JSON.stringify(stack), ...files.values()].join("\n");
    expect(everything).not.toMatch(/WEBPASSWORD=|TS_AUTHKEY=|tskey-/);
    expect([...files.keys()].filter((p) => p.includes("/secrets/"))).toEqual([]);
    expect(files.get("/usr/local/sbin/deathstar-bastion-boot")).toContain("'/deathstar/pihole/web-password'");
  });
});

function bastionProps(arns: ResourceArns) {
  return {
    privateIp: "10.20.13.140",
    privateSubnetId: "subnet-1",
    securityGroupId: "sg-1",
    vpcCidr: "10.20.0.0/16",
    architecture: "arm64" as const,
    instanceType: "t4g.small",
    rootVolumeGb: 8,
    cache: { storage: "ebs" as const, volumeGb: 20, availabilityZone: "eu-west-1a" },
    schedule: { start: "0 18 * * *", stop: "0 23 * * *", timeZone: "Europe/Dublin" },
    cpuCredits: "standard" as const,
    userData: "#cloud-config\n{}\n",
    secretParameterNames: ["/deathstar/pihole/web-password"],
    arns,
    tags: {},
  };
}

describe("Bastion validation", () => {
  it("refuses user-data over EC2's 16 KB limit as a config error (no stack trace at synth)", () => {
    expect(() =>
      Testing.synthScope((scope) => {
        const arns = new ResourceArns(scope, "arns", "eu-west-1");
        new Bastion(scope, "bastion", { ...bastionProps(arns), userData: "x".repeat(16 * 1024 + 1) });
      }),
    ).toThrow(/^invalid site config \(bastion user-data\):\n  - services\.registryCaches: the bastion user-data rendered from this config is 16385 bytes; EC2 accepts at most 16384/);
  });
});
