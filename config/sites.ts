/**
 * Built-in sites. `aws` is the seed's AWS replica (the default); `home` is the home lab the AWS
 * site rehearses, which renders only the netboot bundle (no AWS resources).
 * A config file named by DEATHSTAR_CONFIG is merged over one of these.
 */
import { COZYSTACK_RELEASES, PINNED_COZYSTACK_VERSION } from "./cozystack.js";
import type { SiteConfig } from "./schema.js";
import { RPI_GENERIC_SCHEMATIC_ID } from "./raspberry-pi.js";
import { VANILLA_SCHEMATIC_ID } from "./talos.js";

export const awsSite: SiteConfig = {
  site: { name: "aws-eu-west-1", kind: "aws" },
  aws: { region: "eu-west-1", availabilityZone: "eu-west-1a" },
  architecture: "arm64",
  network: {
    vpcCidr: "10.20.0.0/16",
    publicSubnet: { cidr: "10.20.1.0/24" },
    privateSubnet: { cidr: "10.20.13.0/24" },
    // The bastion forwards the private subnet itself: no NAT instance, no second public IPv4
    // (docs/cost.md, "The defaults and their trade-offs").
    nat: "bastion",
    natInstance: { instanceType: "t4g.nano", eniAddress: "10.20.1.10" },
    domainName: "eu-west-1.compute.internal",
    // Pi-hole first, Amazon DNS second: the bastion runs a few hours a day.
    dnsServers: ["bastion", "AmazonProvidedDNS"],
  },
  access: {
    operatorSshSources: ["2001:db8::10/128"],
    mikrotik: { enabled: false, sources: [], wireguardPort: 13231 },
  },
  bastion: {
    privateIp: "10.20.13.140",
    instanceType: "t4g.small",
    rootVolumeGb: 8,
    // A bucket bills the cached bytes only; a volume bills its size all month (docs/bastion.md, "Cache storage").
    cacheStorage: "s3",
    cacheVolumeGb: 20,
    cacheExpiryDays: 30,
    schedule: { start: "0 18 * * *", stop: "0 23 * * *", timeZone: "Europe/Dublin" },
    cpuCredits: "standard",
    // Spot: about half the hourly price; an interruption ends the session's egress until the
    // group's replacement boots (docs/cost.md, "The defaults and their trade-offs").
    market: "spot",
    // EC2 has no PXE and iPXE fetches from matchbox over HTTP: nothing here would ask for TFTP.
    dnsmasq: { dhcp: false, tftp: false },
    tailscale: { enabled: false },
    secrets: {
      piholeWebPassword: "/deathstar/pihole/web-password",
      tailscaleAuthKey: "/deathstar/tailscale/auth-key",
    },
  },
  services: {
    matchboxPort: 8080,
    piholeWebPort: 8081,
    dnsUpstreams: ["AmazonProvidedDNS"],
    localDomain: "deathstar.internal",
    registryCaches: [
      { name: "docker.io", port: 5050, upstream: "https://registry-1.docker.io" },
      { name: "registry.k8s.io", port: 5051, upstream: "https://registry.k8s.io" },
      { name: "quay.io", port: 5052, upstream: "https://quay.io" },
      { name: "gcr.io", port: 5053, upstream: "https://gcr.io" },
      { name: "ghcr.io", port: 5054, upstream: "https://ghcr.io" },
    ],
  },
  images: {
    dnsmasq: "quay.io/poseidon/dnsmasq:v0.5.0-40-g494d4e0",
    matchbox: "quay.io/poseidon/matchbox:v0.11.0",
    // 3.x: its S3 driver reads the instance role under IMDSv2, and proxy.ttl is configurable.
    registry: "registry:3.0.0",
    pihole: "pihole/pihole:2024.07.0",
    tailscale: "tailscale/tailscale:v1.78.1",
  },
  talos: {
    // The Talos release the pinned CozyStack release ships (talos-config-check's go.mod follows it).
    version: COZYSTACK_RELEASES[PINNED_COZYSTACK_VERSION].talosVersion,
    schematicId: VANILLA_SCHEMATIC_ID,
    boot: "talos-ami",
    nodeInstanceType: "t4g.small",
    // Sessions bootstrap a cluster: a fresh standard-credit node has no credits and runs at baseline.
    nodeCpuCredits: "unlimited",
    // "spot" is the cheaper choice that a reclaimed node can interrupt (docs/cost.md, "Spot nodes").
    nodeMarket: "on-demand",
    nodeRootVolumeGb: 20,
    // A session's nodes are terminated this long after they were launched (docs/cost.md).
    sessionHours: 3,
    nodeIps: ["10.20.13.11", "10.20.13.12", "10.20.13.13"],
    clusterName: "deathstar",
    installDisk: "/dev/nvme0n1",
    // Off: upstream CozyStack publishes amd64 images only and these nodes are Graviton. To turn it on,
    // run amd64 nodes (talos.architecture "x86_64", talos.nodeInstanceType "t3a.xlarge") or an
    // own arm64 build (talos.cozystack.ownBuild): docs/cozystack.md.
    cozystack: { enabled: false, version: PINNED_COZYSTACK_VERSION, bundle: "distro-full" },
  },
  // Pis netboot only at home (examples/home-pi.yaml lists some).
  raspberryPi: { schematicId: RPI_GENERIC_SCHEMATIC_ID, installDisk: "/dev/mmcblk0", nodes: [] },
  budget: { monthlyUsd: 10, allowOver: false, email: "owner@example.com", t4gTrial: false },
  usage: {
    experimentSessionsPerMonth: 4,
    hoursPerSession: 3,
    nodesPerSession: 3,
    natGbPerMonth: 10,
    internetEgressGbPerMonth: 1,
    cacheGb: 10,
    // Unmeasured until a session is: the ceiling, so the projection never undershoots.
    nodeCpuPercent: 100,
  },
  // cdktf's own convention for a stack's local state: `cdktf synth` refuses to run while a
  // ./terraform.tfstate exists (it takes one for state of a single-stack project).
  state: { backend: "local", path: "terraform.deathstar.tfstate" },
  existing: { modules: [] },
  tags: {},
};

/** The home lab: real DHCP on the inner network, fileserver 10.17.13.140, router .249. */
export const homeSite: SiteConfig = {
  ...awsSite,
  site: { name: "home", kind: "home" },
  network: {
    ...awsSite.network,
    vpcCidr: "10.17.0.0/16",
    publicSubnet: { cidr: "10.17.12.0/24" },
    privateSubnet: { cidr: "10.17.13.0/24" },
    nat: "none",
    natInstance: { ...awsSite.network.natInstance, eniAddress: "10.17.12.10" },
    domainName: "home.lab",
    dnsServers: ["bastion"],
  },
  bastion: {
    ...awsSite.bastion,
    privateIp: "10.17.13.140",
    // The fileserver's own disk: a home site has no bucket.
    cacheStorage: "ebs",
    dnsmasq: { dhcp: true, tftp: true, rangeStart: "10.17.13.160", rangeEnd: "10.17.13.239", router: "10.17.13.249" },
  },
  services: { ...awsSite.services, dnsUpstreams: ["10.17.13.249"], localDomain: "home.lab" },
  // Home machines netboot from dnsmasq and matchbox: the metal platform and its installer.
  talos: { ...awsSite.talos, boot: "ipxe", nodeIps: ["10.17.13.11", "10.17.13.12", "10.17.13.13"] },
};

export const SITES = { aws: awsSite, home: homeSite } as const;
export type SiteName = keyof typeof SITES;
