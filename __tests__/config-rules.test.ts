/**
 * Each named cross-field rule on its own: the built-in sites pass it, a config that breaks it gets
 * the field path and the fix. Rules that look at the project on disk get a scratch workspace.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mergeOverride } from "../config/load.js";
import { SITE_RULES } from "../config/rules.js";
import type { SiteConfig } from "../config/schema.js";
import { SITES } from "../config/sites.js";
import { untrackedByIndex, WORKSPACE_RULES, type Workspace } from "../config/workspace.js";
import { estimateMonthlyCost } from "../cost/model.js";
import { bareMetalTypes } from "../config/instance-types.js";
import { budgetProblem } from "../cost/report.js";
import { configProblems, siteConfig, synthStack } from "./helpers/synth.js";
import { scratchDir } from "./helpers/processes.js";

const aws = (override: Record<string, unknown> = {}) => mergeOverride(SITES.aws, override) as SiteConfig;
const dhcp = (rangeStart: string, rangeEnd: string) => ({ bastion: { dnsmasq: { dhcp: true, tftp: true, rangeStart, rangeEnd, router: "10.20.13.254" } } });
const pi = (n: number, more: Record<string, unknown> = {}) => ({ name: `pi-${n}`, model: "CM3", serial: `0000000${n}`, mac: `b8:27:eb:00:00:0${n}`, role: "worker", ...more });
const pis = (...nodes: Record<string, unknown>[]) => ({ raspberryPi: { nodes } });
const caches = (...list: [string, string][]) => ({ services: { registryCaches: list.map(([name, upstream], i) => ({ name, port: 5050 + i, upstream })) } });

/** Rule name → a config that breaks it → the problems it must report ("path: message" prefixes). */
const BROKEN: Record<keyof typeof SITE_RULES, [Record<string, unknown>, string[]][]> = {
  availabilityZoneInRegion: [[{ aws: { region: "eu-west-1", availabilityZone: "us-east-1a" } }, ['aws.availabilityZone: us-east-1a is not in aws.region eu-west-1; use a zone of that region, e.g. "eu-west-1a"']]],
  architectureMatchesInstanceTypes: [
    [{ bastion: { instanceType: "t3.small" } }, ["bastion.instanceType: t3.small is not a Graviton (arm64) type"]],
    [
      { architecture: "x86_64", talos: { nodeInstanceType: "t3.large" }, network: { natInstance: { instanceType: "t3.nano" } } },
      ['bastion.instanceType: t4g.small is a Graviton (arm64) type but architecture is "x86_64"'],
    ],
    [{ talos: { installImage: "ghcr.io/cozystack/cozystack/talos:v1.11.6" } }, ["talos.installImage: CozyStack's published Talos installer is amd64-only"]],
    // The nodes' own architecture: Graviton bastion and NAT beside amd64 nodes.
    [{ talos: { architecture: "x86_64" } }, ['talos.nodeInstanceType: t4g.small is a Graviton (arm64) type but talos.architecture is "x86_64", which picks x86_64 AMIs; use an x86_64 type, or set talos.architecture to "arm64"']],
    [{ talos: { architecture: "x86_64", nodeInstanceType: "t3a.xlarge", installImage: "ghcr.io/cozystack/cozystack/talos:v1.11.6" } }, []],
    [{ architecture: "x86_64", bastion: { instanceType: "t3.small" }, network: { natInstance: { instanceType: "t3.nano" } }, talos: { architecture: "arm64" } }, []],
  ],
  instanceTypesPriced: [
    [{ talos: { nodeInstanceType: "r7g.xlarge" } }, ["talos.nodeInstanceType: r7g.xlarge has no price in config/instance-types.ts, so the budget cannot be checked; use one of t4g.nano,"]],
  ],
  s3CacheSupported: [
    [{ images: { registry: "registry:2.8.3" } }, ['images.registry: registry:2.8.3 is registry 2.x; bastion.cacheStorage "s3" needs registry 3.0 or later']],
    [{ bastion: { cacheStorage: "s3" }, images: { registry: "registry@sha256:" + "a".repeat(64) } }, ["images.registry: registry@sha256:" + "a".repeat(64) + " has no version tag to check"]],
  ],
  registryCachesRenderDistinct: [
    [caches(["docker.io", "https://registry-1.docker.io"], ["docker-io", "https://mirror.gcr.io"]), ["services.registryCaches.1.name: docker-io renders to the same Compose service as docker.io (registry-docker-io)"]],
    [caches(["quay.io", "https://quay.io"], ["quay.io", "https://quay.example.net"]), ["services.registryCaches.1.name: quay.io has two caches"]],
  ],
  upstreamsDistinct: [[caches(["quay.io", "https://quay.io"], ["quay.example.net", "https://QUAY.io:443"]), ["services.registryCaches.1.upstream: https://QUAY.io:443 is already the upstream of services.registryCaches.0"]]],
  scheduleRuns: [
    [{ bastion: { schedule: { start: "0 18 * * *", stop: "0 18 * * *" } } }, ["bastion.schedule.stop: fires at the same times as start"]],
    [{ bastion: { schedule: { start: "0 18 * * MON-FRI", stop: "0 18 * * 1-5" } } }, ["bastion.schedule.stop: fires at the same times as start"]],
  ],
  dhcpRangeUsable: [
    [dhcp("10.20.13.200", "10.20.13.150"), ["bastion.dnsmasq.rangeEnd: 10.20.13.150 is below rangeStart 10.20.13.200; the range runs backwards"]],
    [dhcp("10.20.13.100", "10.20.13.199"), ["bastion.dnsmasq.rangeStart: the range 10.20.13.100-10.20.13.199 covers 10.20.13.140 (bastion.privateIp); DHCP would hand fixed addresses"]],
    [dhcp("10.20.13.10", "10.20.13.20"), ["bastion.dnsmasq.rangeStart: the range 10.20.13.10-10.20.13.20 covers 10.20.13.11 (talos.nodeIps.0), 10.20.13.12 (talos.nodeIps.1), 10.20.13.13 (talos.nodeIps.2);"]],
    [{ ...dhcp("10.20.13.150", "10.20.13.254"), bastion: { dnsmasq: { dhcp: true, tftp: true, rangeStart: "10.20.13.150", rangeEnd: "10.20.13.253", router: "10.20.13.200" } } }, ["bastion.dnsmasq.rangeStart: the range 10.20.13.150-10.20.13.253 covers 10.20.13.200 (bastion.dnsmasq.router);"]],
    [{ ...dhcp("10.20.1.5", "10.20.1.50") }, ["bastion.dnsmasq.rangeStart: the range 10.20.1.5-10.20.1.50 covers 10.20.1.10 (network.natInstance.eniAddress);"]],
  ],
  piholeUpstreamNotBastion: [
    [{ services: { dnsUpstreams: ["AmazonProvidedDNS", "10.20.13.140"] } }, ["services.dnsUpstreams.1: 10.20.13.140 is the bastion itself, where Pi-hole runs: a DNS loop"]],
    [{ services: { dnsUpstreams: ["127.0.0.1"] } }, ["services.dnsUpstreams.0: 127.0.0.1 is the bastion itself"]],
    [{ services: { dnsUpstreams: ["AmazonProvidedDNS", "0.0.0.0"] } }, ["services.dnsUpstreams.1: 0.0.0.0 is the bastion itself"]],
  ],
  tagsKeepStackTags: [[{ tags: { Project: "x", site: "y", Owner: "z" } }, ["tags.Project: is set by the stack itself", "tags.site: is set by the stack itself"]]],
  installImageMatchesBoot: [
    [
      { talos: { boot: "talos-ami", installImage: "factory.talos.dev/metal-installer/abc:v1.11.6" } },
      ['talos.installImage: is an Image Factory metal-installer image but talos.boot is "talos-ami", whose nodes need aws-installer; leave talos.installImage unset to get factory.talos.dev/aws-installer/<schematic>:<version>'],
    ],
    [
      { talos: { boot: "ipxe", ipxeAmiId: "ami-0123456789abcdef0", installImage: "factory.talos.dev/aws-installer/abc:v1.11.6" } },
      ['talos.installImage: is an Image Factory aws-installer image but talos.boot is "ipxe", whose nodes need metal-installer;'],
    ],
  ],
  talosVersionMatchesCozystack: [
    [
      { talos: { version: "v1.11.5", cozystack: { enabled: true } } },
      ['talos.version: v1.11.5 does not match CozyStack v0.41.11 (talos.cozystack.version), which ships Talos v1.11.6; set talos.version to "v1.11.6", or pin a CozyStack release built for v1.11.5'],
    ],
  ],
  cozystackBundleFitsNodes: [
    [
      { talos: { cozystack: { enabled: true, bundle: "paas-full" } } },
      [
        'talos.cozystack.bundle: "paas-full" runs KubeVirt, which needs /dev/kvm, but talos.nodeInstanceType t4g.small is not bare metal and has none; ' +
          "set talos.nodeInstanceType to a metal type (eu-west-1 per node: a1.metal ($0.4488/h), c6g.metal ($2.5373/h), c7g.metal ($2.552/h), m7g.metal ($2.8723/h)), " +
          'or talos.cozystack.bundle to "distro-full", which runs without KVM',
      ],
    ],
    // Not burstable, CozyStack's size, still virtualized.
    [{ talos: { nodeInstanceType: "m7g.xlarge", cozystack: { enabled: true, bundle: "paas-full" } } }, ['talos.cozystack.bundle: "paas-full" runs KubeVirt, which needs /dev/kvm, but talos.nodeInstanceType m7g.xlarge is not bare metal']],
  ],
  cozystackBundleOfRelease: [
    [{ talos: { cozystack: { bundle: "isp-full" } } }, ['talos.cozystack.bundle: "isp-full" is not a bundle of CozyStack v0.41.11 (talos.cozystack.version); use one of "distro-full", "paas-full"']],
    [{ talos: { cozystack: { version: "v1.6.2", bundle: "isp-full-no-iaas" } } }, []],
  ],
  cozystackImagesRunOnNodes: [
    [
      { talos: { nodeInstanceType: "t4g.xlarge", cozystack: { enabled: true } } },
      [
        'talos.cozystack.enabled: CozyStack v0.41.11 publishes amd64 images only, but the nodes are arm64 (talos.nodeInstanceType t4g.xlarge, architecture "arm64", which talos.architecture defaults to): ' +
          'its install would fail at the first pod with "exec format error" or "no matching manifest". CozyStack on ARM is open upstream (cozystack/cozystack#903). ' +
          'Either run amd64 nodes beside the Graviton bastion: set talos.architecture to "x86_64" and talos.nodeInstanceType to e.g. "t3a.xlarge"; ' +
          'or install an own build with arm64 images: set talos.cozystack.ownBuild (docs/cozystack.md, "An own arm64 build")',
      ],
    ],
    [{ talos: { architecture: "arm64", cozystack: { enabled: true, version: "v1.6.2" } } }, ['talos.cozystack.enabled: CozyStack v1.6.2 publishes amd64 images only, but the nodes are arm64 (talos.nodeInstanceType t4g.small, talos.architecture "arm64")']],
    [{ talos: { architecture: "x86_64", nodeInstanceType: "t3a.xlarge", cozystack: { enabled: true } } }, []],
    [{ talos: { cozystack: { enabled: true, ownBuild: { manifestUrl: "https://example.net/cozystack-installer.yaml", registry: "ghcr.io", architectures: ["arm64"] } } } }, []],
    [
      { talos: { cozystack: { enabled: true, ownBuild: { manifestUrl: "https://example.net/cozystack-installer.yaml", registry: "ghcr.io", architectures: ["amd64"] } } } },
      ["talos.cozystack.ownBuild.architectures: the own build publishes amd64 images, but the nodes are arm64; build its images for arm64 too"],
    ],
  ],
  cozystackOwnBuildComplete: [
    [
      { talos: { cozystack: { ownBuild: { registry: "ghcr.io", architectures: ["arm64"] } } } },
      ["talos.cozystack.ownBuild.manifestUrl: is required for an own build: the URL of the build's own cozystack-installer.yaml (the release's would install the upstream amd64 images)"],
    ],
    [
      { talos: { cozystack: { version: "v1.6.2", ownBuild: { registry: "ghcr.io", architectures: ["arm64"] } } } },
      ['talos.cozystack.ownBuild.manifestUrl: is required for an own build: the URL of the build\'s own cozystack-operator-talos.yaml (the release\'s would install the upstream amd64 images), e.g. "https://github.com/<owner>/<fork>/releases/download/v1.6.2/cozystack-operator-talos.yaml"'],
    ],
    [
      { talos: { cozystack: { ownBuild: { manifestUrl: "https://example.net/cozystack-installer.yaml", registry: "registry.example.net", architectures: ["arm64"] } } } },
      ["talos.cozystack.ownBuild.registry: registry.example.net has no cache in services.registryCaches, so the nodes would pull the build's images past the bastion; use one of docker.io, registry.k8s.io, quay.io, gcr.io, ghcr.io, or add a cache for registry.example.net"],
    ],
  ],
  bastionHasEgress: [[{ network: { nat: "none" } }, ['network.nat: "none" leaves the bastion without egress']]],
  subnetsFitVpc: [
    [{ network: { vpcCidr: "10.0.0.0/8" } }, ["network.vpcCidr: VPC prefix must be between /16 and /28 (AWS limit)"]],
    [{ network: { publicSubnet: { cidr: "10.21.1.0/24" } } }, ["network.publicSubnet.cidr: must lie inside the VPC 10.20.0.0/16"]],
    [{ network: { privateSubnet: { cidr: "10.20.1.0/29" } } }, ["network.privateSubnet.cidr: subnet prefix must be /28 or larger", "network.privateSubnet.cidr: overlaps the public subnet 10.20.1.0/24; pick a disjoint block, e.g. 10.20.2.0/29"]],
  ],
  hostsInSubnets: [
    [{ bastion: { privateIp: "10.20.1.140" } }, ["bastion.privateIp: 10.20.1.140 is outside the private subnet 10.20.13.0/24"]],
    [{ network: { natInstance: { eniAddress: "10.20.1.1" } } }, ["network.natInstance.eniAddress: 10.20.1.1 is reserved by AWS (first four and last address of 10.20.1.0/24); use a host such as 10.20.1.10"]],
    [{ talos: { nodeIps: ["10.20.13.11", "10.20.13.255"] } }, ["talos.nodeIps.1: 10.20.13.255 is reserved by AWS"]],
    [{ bastion: { dnsmasq: { dhcp: true, tftp: true, rangeStart: "10.20.13.160", rangeEnd: "10.20.14.239", router: "10.20.13.249" } } }, ["bastion.dnsmasq.rangeEnd: 10.20.14.239 is outside the private subnet"]],
  ],
  nodeIpsDistinct: [
    [{ talos: { nodeIps: ["10.20.13.140", "10.20.13.12", "10.20.13.12"] } }, ["talos.nodeIps.0: 10.20.13.140 is the bastion's address", "talos.nodeIps.2: 10.20.13.12 is listed twice"]],
  ],
  bastionPortsDistinct: [
    [{ services: { piholeWebPort: 8080 } }, ["services.piholeWebPort: port 8080 is already used by services.matchboxPort; every bastion service needs its own port"]],
    [caches(["docker.io", "https://registry-1.docker.io"], ["quay.io", "https://quay.io"]), []],
  ],
  ipxeBootHasAmi: [[{ talos: { boot: "ipxe" } }, ['talos.ipxeAmiId: is required when talos.boot is "ipxe"']]],
  sessionNodesConfigured: [[{ usage: { nodesPerSession: 3 }, talos: { nodeIps: ["10.20.13.11"] } }, ["usage.nodesPerSession: is 3 but only 1 node addresses are configured in talos.nodeIps"]]],
  dhcpSettingsComplete: [
    [{ bastion: { dnsmasq: { dhcp: true, tftp: false, rangeStart: "10.20.13.160" } } }, ["bastion.dnsmasq.rangeEnd: is required when bastion.dnsmasq.dhcp is true", "bastion.dnsmasq.router: is required"]],
  ],
  piholeImageIsV5: [[{ images: { pihole: "pihole/pihole:2025.02.0" } }, ["images.pihole: pihole/pihole:2025.02.0 is Pi-hole v6"]]],
  amazonDnsOnlyInVpc: [[{ site: { name: "home", kind: "home" } }, ['services.dnsUpstreams: "AmazonProvidedDNS" exists only in a VPC; on a home site']]],
  existingModulesConsistent: [
    [
      {
        existing: {
          modules: [
            { name: "net", source: "legacy/net", inputs: { vpc: { fromModule: "later", output: "id" } }, outputs: { vpcId: "vpc_id" } },
            { name: "net", source: "legacy/net2", inputs: {}, outputs: {} },
          ],
        },
      },
      [
        'existing.modules.0.inputs.vpc: refers to module "later", which is not listed before "net"',
        'existing.modules.1.name: module "net" is listed twice',
        "existing.modules: outputs provide part of the network (vpcId); also map",
      ],
    ],
  ],
  raspberryPisAtHome: [
    [pis(pi(1)), ['raspberryPi.nodes: Raspberry Pis netboot only at a home site (site.kind "home"), not on this aws site']],
    [{ site: { name: "home", kind: "home" }, ...pis(pi(1)) }, ["bastion.dnsmasq.dhcp: must be true while raspberryPi.nodes lists Pis", "bastion.dnsmasq.tftp: must be true"]],
  ],
  raspberryPisDistinct: [
    [pis(pi(1), pi(2, { serial: "00000001", mac: "b8:27:eb:00:00:01" })), ["raspberryPi.nodes.1.serial: 00000001 is already the serial of raspberryPi.nodes.0", "raspberryPi.nodes.1.mac: b8:27:eb:00:00:01 is already the mac of raspberryPi.nodes.0"]],
    [pis(pi(1), pi(2, { name: "pi-1" })), ["raspberryPi.nodes.1.name: pi-1 is already the name of raspberryPi.nodes.0"]],
    [pis(pi(1, { name: "talos-2" })), ['raspberryPi.nodes.0.name: talos-2 is a Talos node\'s name (talos.nodeIps); name the Pi e.g. "pi-1"']],
    [pis(pi(1), pi(2, { name: "default" })), ['raspberryPi.nodes.1.name: default is matchbox\'s group for unknown machines; name the Pi e.g. "pi-2"']],
  ],
  raspberryPiMacs: [[pis(pi(1, { mac: "52:54:00:12:34:56" })), ["raspberryPi.nodes.0.mac: 52:54:00:12:34:56 is not a Raspberry Pi MAC (b8:27:eb,"]]],
  raspberryPisWithoutCozystack: [[{ ...pis(pi(1), pi(2, { model: "3B+" })), talos: { cozystack: { enabled: true } } }, ["talos.cozystack.enabled: must be false while raspberryPi.nodes lists Pis: a CM3 (1 GiB), 3B+ (1 GiB) cannot run CozyStack's per-node components"]]],
  mikrotikHasSources: [[{ access: { mikrotik: { enabled: true, sources: [] } } }, ["access.mikrotik.sources: needs at least one /128"]]],
};

const format = (problems: { path: (string | number)[]; message: string }[]) => problems.map((p) => `${p.path.join(".")}: ${p.message}`);

describe("cross-field rules", () => {
  it("every rule has its own cases here", () => {
    expect(Object.keys(BROKEN).sort()).toEqual(Object.keys(SITE_RULES).sort());
  });

  for (const [name, rule] of Object.entries(SITE_RULES)) {
    describe(name, () => {
      it("passes both built-in sites", () => {
        expect(rule(SITES.aws)).toEqual([]);
        expect(rule(SITES.home)).toEqual([]);
      });
      it.each(BROKEN[name as keyof typeof SITE_RULES])("refuses %j", (override, expected) => {
        const problems = format(rule(aws(override)));
        expect(problems).toHaveLength(expected.length);
        expected.forEach((prefix, i) => expect(problems[i]).toMatch(new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`)));
      });
    });
  }
});

describe("cozystackBundleFitsNodes beyond the built-in sites", () => {
  const rule = SITE_RULES.cozystackBundleFitsNodes;
  const kvm = { cozystack: { enabled: true, bundle: "paas-full" } };

  it("lets a KubeVirt bundle run on every bare-metal type of the price table, whose prices it quotes", () => {
    const metal = bareMetalTypes("arm64");
    expect(metal.map((m) => m.type)).toEqual(["a1.metal", "c6g.metal", "c7g.metal", "m7g.metal"]);
    for (const { type, usdPerHour } of metal) {
      expect(rule(aws({ talos: { nodeInstanceType: type, ...kvm } })), type).toEqual([]);
      expect(format(rule(aws({ talos: kvm })))[0]).toContain(`${type} ($${usdPerHour}/h)`);
    }
  });

  it("leaves the home site alone (its nodes are its own machines) and a disabled CozyStack too", () => {
    expect(rule(mergeOverride(SITES.home, { talos: kvm }) as SiteConfig)).toEqual([]);
    expect(rule(aws({ talos: { cozystack: { enabled: false, bundle: "paas-full" } } }))).toEqual([]);
  });

  it("leaves an unpriced type to instanceTypesPriced", () => {
    expect(rule(aws({ talos: { nodeInstanceType: "r7g.xlarge", ...kvm } }))).toEqual([]);
  });

  it("is part of loading a config: synth refuses the pair before writing anything", () => {
    expect(configProblems({ talos: { ...kvm, architecture: "x86_64", nodeInstanceType: "t3a.xlarge" } })).toEqual([expect.stringMatching(/^talos\.cozystack\.bundle: "paas-full" runs KubeVirt/)]);
  });
});

describe("rules against the project on disk", () => {
  const root = scratchDir("workspace");
  const workspace: Workspace = { root, outdir: join(root, "cdktf.out") };
  const local = (path: string) => aws({ state: { backend: "local", path } });
  mkdirSync(join(root, "docs"));
  mkdirSync(join(root, "legacy", "vpc"), { recursive: true });
  writeFileSync(join(root, "package.json"), "{}");
  writeFileSync(join(root, "notes.txt"), "keep me");
  writeFileSync(join(root, "old.tfstate"), '{"version": 4, "terraform_version": "1.5.7", "serial": 3, "lineage": "x"}');
  writeFileSync(join(root, "adopt.json"), '{"version": 1, "state": "old.tfstate", "moved": [], "import": [], "keep": []}');

  it("every rule is covered here", () => {
    expect(Object.keys(WORKSPACE_RULES).sort()).toEqual(["adoptFileNotProjectFile", "moduleSourcesExist", "stateNotOnProjectFile", "stateOutsideSynthOutput"]);
  });

  it("stateOutsideSynthOutput refuses a state file the next synth would delete, wherever the output dir is", () => {
    expect(WORKSPACE_RULES.stateOutsideSynthOutput(local("terraform.deathstar.tfstate"), workspace)).toEqual([]);
    expect(format(WORKSPACE_RULES.stateOutsideSynthOutput(local("cdktf.out/x.tfstate"), workspace))[0]).toMatch(/^state\.path: "cdktf\.out\/x\.tfstate" lies inside the synth output dir/);
    // CDKTF_OUTDIR elsewhere: the backend path is relative to the stack dir, i.e. to the output dir's parent.
    const moved = { root, outdir: join(root, "build", "out") };
    expect(format(WORKSPACE_RULES.stateOutsideSynthOutput(local("out/x.tfstate"), moved))[0]).toMatch(/lies inside the synth output dir/);
    expect(format(WORKSPACE_RULES.stateOutsideSynthOutput(local("build/out/x.tfstate"), moved))[0]).toMatch(/lies inside the synth output dir/);
    expect(WORKSPACE_RULES.stateOutsideSynthOutput(aws({ state: { backend: "s3", bucket: "b-1", key: "k", region: "eu-west-1" } }), workspace)).toEqual([]);
  });

  it("stateNotOnProjectFile refuses project files, other files, directories and node_modules; an existing state is fine", () => {
    const problem = (path: string) => format(WORKSPACE_RULES.stateNotOnProjectFile(local(path), workspace))[0];
    expect(problem("package.json")).toMatch(/^state\.path: "package\.json" is package\.json, a file of the project itself/);
    expect(problem("tsconfig.json")).toMatch(/a file of the project itself/); // absent here, still the project's
    expect(problem("notes.txt")).toMatch(/is an existing file of another kind/);
    expect(problem("docs")).toMatch(/is a directory/);
    expect(problem("node_modules/x.tfstate")).toMatch(/lies inside node_modules\//);
    expect(problem("old.tfstate")).toBeUndefined();
    expect(problem("new.tfstate")).toBeUndefined();
  });

  it("stateNotOnProjectFile knows the files git tracks in a checkout", () => {
    const repo = join(import.meta.dirname, "..");
    const problems = format(WORKSPACE_RULES.stateNotOnProjectFile(local("docs/not-yet-written.md"), { root: repo, outdir: join(repo, "cdktf.out") }));
    expect(problems).toEqual([]);
    expect(format(WORKSPACE_RULES.stateNotOnProjectFile(local("config/schema.ts"), { root: repo, outdir: join(repo, "cdktf.out") }))[0]).toMatch(/existing file of another kind/);
  });

  it("the git index settles untracked paths without running git and never hides a tracked one", () => {
    const project = join(import.meta.dirname, "..");
    const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: project, encoding: "utf8" }).split("\0").filter((f) => f !== "");
    expect(tracked.filter((file) => untrackedByIndex(project, file))).toEqual([]);
    expect(untrackedByIndex(project, "terraform.deathstar.tfstate")).toBe(true);

    const checkout = scratchDir("checkout");
    const git = (...args: string[]) => execFileSync("git", args, { cwd: checkout, stdio: "ignore" });
    git("init", "--quiet");
    mkdirSync(join(checkout, "docs"));
    writeFileSync(join(checkout, "docs", "notes.md"), "tracked, then deleted from the work tree");
    git("add", "docs/notes.md");
    rmSync(join(checkout, "docs", "notes.md"));
    const inCheckout = (path: string) => format(WORKSPACE_RULES.stateNotOnProjectFile(local(path), { root: checkout, outdir: join(checkout, "cdktf.out") }));
    expect(untrackedByIndex(checkout, "docs/notes.md")).toBe(false);
    expect(inCheckout("docs/notes.md")[0]).toMatch(/is docs\/notes\.md, a file of the project itself/);
    expect(untrackedByIndex(checkout, "new.tfstate")).toBe(true);
    expect(untrackedByIndex(checkout, "notes.md")).toBe(false); // the tail of a tracked path: git decides
    expect(inCheckout("notes.md")).toEqual([]);
    // Version 4 compresses paths: git answers every question.
    git("update-index", "--index-version", "4");
    expect(untrackedByIndex(checkout, "new.tfstate")).toBe(false);
    expect(inCheckout("docs/notes.md")[0]).toMatch(/a file of the project itself/);
    expect(inCheckout("new.tfstate")).toEqual([]);
  });

  it("adoptFileNotProjectFile refuses the project's own files and the output dir, not an existing adopt file", () => {
    const adopt = (adoptFile: string) => format(WORKSPACE_RULES.adoptFileNotProjectFile(aws({ existing: { modules: [], adoptFile } }), workspace));
    expect(adopt("adopt.json")).toEqual([]);
    expect(adopt("package.json")[0]).toMatch(/^existing\.adoptFile: "package\.json" is package\.json, a file of the project itself/);
    expect(adopt("cdktf.out/adopt.json")[0]).toMatch(/lies inside the synth output dir/);
  });

  it("moduleSourcesExist names the dotted path of a missing module directory", () => {
    const modules = (source: string) => aws({ existing: { modules: [{ name: "vpc", source, inputs: {}, outputs: {} }] } });
    expect(WORKSPACE_RULES.moduleSourcesExist(modules("legacy/vpc"), workspace)).toEqual([]);
    expect(format(WORKSPACE_RULES.moduleSourcesExist(modules("legacy/gone"), workspace))).toEqual([
      `existing.modules.0.source: "legacy/gone" is not a directory under ${root}; give the module's directory relative to the project root`,
    ]);
  });
});

describe("hints fit the field", () => {
  it("a reserved node address suggests a node address, a reserved bastion address the bastion's", () => {
    expect(configProblems({ talos: { nodeIps: ["10.20.13.11", "10.20.13.3"] }, usage: { nodesPerSession: 2 } })).toEqual([
      "talos.nodeIps.1: 10.20.13.3 is reserved by AWS (first four and last address of 10.20.13.0/24); use a host such as 10.20.13.12",
    ]);
    expect(configProblems({ bastion: { privateIp: "10.20.13.255" } })[0]).toMatch(/use a host such as 10\.20\.13\.140$/);
  });

  it("an overlapping private subnet gets an example that does not overlap", () => {
    expect(configProblems({ network: { publicSubnet: { cidr: "10.20.13.0/24" }, natInstance: { eniAddress: "10.20.13.10" } } })).toContain(
      "network.privateSubnet.cidr: overlaps the public subnet 10.20.13.0/24; pick a disjoint block, e.g. 10.20.14.0/24",
    );
  });

  it("an over-budget projection suggests the bastion as its own NAT (the cheapest mode) only when a NAT Gateway is what costs", () => {
    const over = (nat: string) => {
      const config = siteConfig({ network: { nat }, budget: { monthlyUsd: 0.01 } });
      return budgetProblem(estimateMonthlyCost(synthStack(config), config), config.budget)!;
    };
    expect(over("gateway")).toContain('network.nat "bastion"');
    expect(over("instance")).not.toContain("network.nat");
  });
});
