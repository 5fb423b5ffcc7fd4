import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadSiteConfig } from "../config/load.js";
import { awsSite, homeSite } from "../config/sites.js";
import { cronProblems, timeZoneProblem } from "../lib/cron.js";
import { isIpv6HostCidr, parseIpv4Cidr, awsReservedAddresses } from "../lib/net.js";
import { scratchDir } from "./helpers/processes.js";
import { configProblems } from "./helpers/synth.js";

function expectProblem(override: Record<string, unknown>, path: string, text: RegExp): void {
  const found = configProblems(override);
  expect(found.some((p) => p.startsWith(`${path}: `) && text.test(p)), `expected "${path}: ${text}" in:\n${found.join("\n")}`).toBe(true);
}

describe("built-in sites", () => {
  it("the AWS site is valid and frozen", () => {
    const config = loadSiteConfig({ configFile: "" });
    expect(config.network.vpcCidr).toBe("10.20.0.0/16");
    expect(config.bastion.privateIp).toBe("10.20.13.140");
    expect(Object.isFrozen(config.network)).toBe(true);
  });

  it("the home site is valid", () => {
    const config = loadSiteConfig({ site: "home", configFile: "" });
    expect(config.bastion.privateIp).toBe("10.17.13.140");
    expect(config.bastion.dnsmasq.router).toBe("10.17.13.249");
  });

  it("accepts every valid NAT mode", () => {
    for (const nat of ["gateway", "instance"]) expect(configProblems({ network: { nat } })).toEqual([]);
  });

  it("homeSite shares the AWS site's images", () => {
    expect(homeSite.images).toEqual(awsSite.images);
  });
});

describe("override files", () => {
  const dir = scratchDir("config");
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it("merges a JSON override over the defaults", () => {
    const config = loadSiteConfig({ configFile: write("nat.json", '{"network": {"nat": "gateway"}}') });
    expect(config.network.nat).toBe("gateway");
    expect(config.network.vpcCidr).toBe("10.20.0.0/16");
  });

  it("merges a YAML override and replaces arrays whole", () => {
    const config = loadSiteConfig({ configFile: write("nodes.yaml", "talos:\n  nodeIps: [10.20.13.21]\nusage:\n  nodesPerSession: 1\n") });
    expect(config.talos.nodeIps).toEqual(["10.20.13.21"]);
  });

  it("a missing file is an error naming DEATHSTAR_CONFIG", () => {
    expect(() => loadSiteConfig({ configFile: join(dir, "nope.json") })).toThrow(/DEATHSTAR_CONFIG: cannot read .*nope\.json \(ENOENT\)/);
  });

  it("malformed JSON is an error naming the file", () => {
    expect(() => loadSiteConfig({ configFile: write("broken.json", "{ nat: ") })).toThrow(/broken\.json is not valid JSON/);
  });

  it("a top-level array is refused", () => {
    expect(() => loadSiteConfig({ configFile: write("list.yaml", "- a\n- b\n") })).toThrow(/must contain a YAML mapping/);
  });

  it("reports every problem at once with its field path", () => {
    const path = write("bad.json", JSON.stringify({ network: { privateSubnet: { cidr: "10.20.1.128/25" } }, bastion: { privateIp: "10.20.99.5" } }));
    try {
      loadSiteConfig({ configFile: path });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).problems.join("\n");
      expect(text).toMatch(/^network\.privateSubnet\.cidr: overlaps the public subnet/m);
      expect(text).toMatch(/^bastion\.privateIp: 10\.20\.99\.5 is outside the private subnet/m);
    }
  });
});

describe("validation rules (one per rule)", () => {
  it("unknown keys are errors, at any depth", () => {
    expectProblem({ netwrok: {} }, "(top level)", /unknown key "netwrok"/);
    expectProblem({ bastion: { instanceTyp: "t4g.small" } }, "bastion", /unknown key "instanceTyp"/);
  });

  it("wrong types are errors", () => {
    expectProblem({ bastion: { cacheVolumeGb: "20" } }, "bastion.cacheVolumeGb", /must be a number, not a string/);
  });

  it("CIDRs must parse", () => {
    expectProblem({ network: { vpcCidr: "10.20.0.0/33" } }, "network.vpcCidr", /IPv4 CIDR/);
    expectProblem({ network: { publicSubnet: { cidr: "10.20.1.5/24" } } }, "network.publicSubnet.cidr", /no host bits/);
  });

  it("the VPC prefix is within AWS limits", () => {
    expectProblem({ network: { vpcCidr: "10.0.0.0/8" } }, "network.vpcCidr", /between \/16 and \/28/);
  });

  it("subnets nest in the VPC", () => {
    expectProblem({ network: { publicSubnet: { cidr: "10.21.1.0/24" } } }, "network.publicSubnet.cidr", /inside the VPC 10\.20\.0\.0\/16/);
  });

  it("subnets do not overlap", () => {
    expectProblem({ network: { privateSubnet: { cidr: "10.20.0.0/23" } } }, "network.privateSubnet.cidr", /overlaps the public subnet/);
  });

  it("the bastion lies inside the private subnet", () => {
    expectProblem({ bastion: { privateIp: "10.20.1.140" } }, "bastion.privateIp", /outside the private subnet/);
  });

  it("the bastion is not an AWS-reserved address", () => {
    for (const ip of ["10.20.13.0", "10.20.13.1", "10.20.13.2", "10.20.13.3", "10.20.13.255"]) {
      expectProblem({ bastion: { privateIp: ip } }, "bastion.privateIp", /reserved by AWS/);
    }
  });

  it("node addresses are distinct, in the private subnet and not the bastion's", () => {
    expectProblem({ talos: { nodeIps: ["10.20.13.11", "10.20.13.11"] } }, "talos.nodeIps.1", /listed twice/);
    expectProblem({ talos: { nodeIps: ["10.20.13.140"] }, usage: { nodesPerSession: 1 } }, "talos.nodeIps.0", /bastion's address/);
    expectProblem({ talos: { nodeIps: ["10.20.1.11"] }, usage: { nodesPerSession: 1 } }, "talos.nodeIps.0", /outside the private subnet/);
  });

  it("the NAT instance's ENI lies in the public subnet", () => {
    expectProblem({ network: { natInstance: { eniAddress: "10.20.13.10" } } }, "network.natInstance.eniAddress", /outside the public subnet/);
  });

  it("instance types are Graviton when the architecture is arm64", () => {
    expectProblem({ bastion: { instanceType: "t3.small" } }, "bastion.instanceType", /not a Graviton/);
    expectProblem({ talos: { nodeInstanceType: "m5.large" } }, "talos.nodeInstanceType", /not a Graviton/);
    expectProblem({ network: { natInstance: { instanceType: "t3.nano" } } }, "network.natInstance.instanceType", /not a Graviton/);
    expect(configProblems({ architecture: "x86_64", bastion: { instanceType: "t3.small" }, talos: { nodeInstanceType: "t3.large" }, network: { natInstance: { instanceType: "t3.nano" } } })).toEqual([]);
  });

  it("CozyStack's amd64 installer is refused on arm64", () => {
    expectProblem({ talos: { installImage: "ghcr.io/cozystack/cozystack/talos:v1.11.6" } }, "talos.installImage", /amd64-only/);
  });

  it("a Talos version other than the pinned CozyStack release's is refused; without CozyStack it is free", () => {
    expectProblem({ talos: { version: "v1.11.5", architecture: "x86_64", nodeInstanceType: "t3a.xlarge", cozystack: { enabled: true } } }, "talos.version", /does not match CozyStack v0\.41\.11 .*which ships Talos v1\.11\.6; set talos\.version to "v1\.11\.6"/);
    expectProblem({ talos: { cozystack: { version: "v0.40.7" } } }, "talos.cozystack.version", /v0\.41\.11/);
    expect(configProblems({ talos: { version: "v1.11.5", cozystack: { enabled: false } } })).toEqual([]);
  });

  it("ports do not collide", () => {
    expectProblem({ services: { piholeWebPort: 8080 } }, "services.piholeWebPort", /already used by services\.matchboxPort/);
    const caches = awsSite.services.registryCaches.map((c, i) => ({ ...c, port: i === 4 ? 5050 : c.port }));
    expectProblem({ services: { registryCaches: caches } }, "services.registryCaches.4.port", /already used/);
  });

  it("ports are 1024 or higher", () => {
    expectProblem({ services: { matchboxPort: 80 } }, "services.matchboxPort", /1024 or higher/);
  });

  it("one cache per upstream", () => {
    const caches = awsSite.services.registryCaches.map((c, i) => ({ ...c, name: i === 1 ? "docker.io" : c.name }));
    expectProblem({ services: { registryCaches: caches } }, "services.registryCaches.1.name", /two caches/);
  });

  it("the node count is 1 to 3", () => {
    expectProblem({ talos: { nodeIps: [] }, usage: { nodesPerSession: 0 } }, "talos.nodeIps", /at least 1/);
    expectProblem({ talos: { nodeIps: ["10.20.13.11", "10.20.13.12", "10.20.13.13", "10.20.13.14"] } }, "talos.nodeIps", /at most 3/);
  });

  it("usage cannot run more nodes than are configured", () => {
    expectProblem({ talos: { nodeIps: ["10.20.13.11"] } }, "usage.nodesPerSession", /only 1 node addresses/);
  });

  it("cron strings are valid 5-field expressions", () => {
    expectProblem({ bastion: { schedule: { start: "0 0 18 * * *" } } }, "bastion.schedule.start", /6 fields/);
    expectProblem({ bastion: { schedule: { stop: "0 25 * * *" } } }, "bastion.schedule.stop", /hour value 25/);
  });

  it("time zones are IANA names", () => {
    expectProblem({ bastion: { schedule: { timeZone: "Europe/Atlantis" } } }, "bastion.schedule.timeZone", /IANA time zone/);
  });

  it("operator SSH sources are IPv6 /128 hosts", () => {
    expectProblem({ access: { operatorSshSources: ["203.0.113.5/32"] } }, "access.operatorSshSources.0", /IPv6 host/);
    expectProblem({ access: { operatorSshSources: ["::/0"] } }, "access.operatorSshSources.0", /IPv6 host/);
  });

  it("images are pinned", () => {
    expectProblem({ images: { registry: "registry" } }, "images.registry", /pinned/);
    expectProblem({ images: { pihole: "pihole/pihole:latest" } }, "images.pihole", /latest/);
    expectProblem({ images: { matchbox: "quay.io/poseidon/matchbox:v0.11.0; rm -rf /" } }, "images.matchbox", /image reference/);
  });

  it("SSM parameter names are plain paths", () => {
    expectProblem({ bastion: { secrets: { piholeWebPassword: "/deathstar/../x" } } }, "bastion.secrets.piholeWebPassword", /"\.\."/);
    expectProblem({ bastion: { secrets: { tailscaleAuthKey: "tskey-auth-abc" } } }, "bastion.secrets.tailscaleAuthKey", /SSM parameter name/);
  });

  it("the iPXE boot mode needs an AMI id", () => {
    expectProblem({ talos: { boot: "ipxe" } }, "talos.ipxeAmiId", /required when talos\.boot is "ipxe"/);
    expect(configProblems({ talos: { boot: "ipxe", ipxeAmiId: "ami-0123456789abcdef0" } })).toEqual([]);
  });

  it("DHCP needs a range and a router", () => {
    expectProblem({ bastion: { dnsmasq: { dhcp: true } } }, "bastion.dnsmasq.router", /required when bastion\.dnsmasq\.dhcp/);
  });

  it("the budget is more than 0 (AWS Budgets rejects 0)", () => {
    expectProblem({ budget: { monthlyUsd: -1 } }, "budget.monthlyUsd", /at least 0\.01/);
    expectProblem({ budget: { monthlyUsd: 0 } }, "budget.monthlyUsd", /zero-spend budget/);
  });

  it("the state path is relative and plain", () => {
    expectProblem({ state: { backend: "local", path: "/abs/terraform.tfstate" } }, "state.path", /relative path/);
  });

  it("mikrotik-sg needs sources when enabled", () => {
    expectProblem({ access: { mikrotik: { enabled: true } } }, "access.mikrotik.sources", /at least one/);
  });
});

describe("address helpers", () => {
  it("parses CIDRs and lists AWS-reserved addresses", () => {
    const subnet = parseIpv4Cidr("10.20.13.0/24")!;
    expect(awsReservedAddresses(subnet)).toEqual(["10.20.13.0", "10.20.13.1", "10.20.13.2", "10.20.13.3", "10.20.13.255"]);
    expect(parseIpv4Cidr("300.1.1.0/24")).toBeUndefined();
  });

  it("recognises IPv6 /128 hosts only", () => {
    expect(isIpv6HostCidr("2001:db8::10/128")).toBe(true);
    expect(isIpv6HostCidr("2001:db8:0:0:0:0:0:10/128")).toBe(true);
    expect(isIpv6HostCidr("2001:db8::/64")).toBe(false);
    expect(isIpv6HostCidr("2001:db8::1::2/128")).toBe(false);
  });

  it("validates cron fields and time zones", () => {
    expect(cronProblems("0 18 * * MON-FRI")).toEqual([]);
    expect(cronProblems("*/15 6-9 1,15 JAN-MAR *")).toEqual([]);
    expect(cronProblems("0 18 * * FRI-MON")[0]).toMatch(/runs backwards/);
    expect(timeZoneProblem("Europe/Dublin")).toBeUndefined();
    expect(timeZoneProblem("Mars/Olympus")).toMatch(/must be an IANA time zone name/);
    expect(timeZoneProblem("europe/dublin")).toBe('time zone names are case-sensitive: write "Europe/Dublin"');
    expect(timeZoneProblem("UTC")).toBeUndefined();
    expect(timeZoneProblem("US/Eastern")).toBeUndefined(); // an alias, not in the canonical list
    expect(Intl.supportedValuesOf("timeZone").filter((zone) => timeZoneProblem(zone) !== undefined)).toEqual([]);
  });
});
