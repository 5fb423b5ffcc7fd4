/**
 * An EC2-like VPC in network namespaces, for tests that must fail where EC2 fails.
 *
 * - One namespace ("fabric") holds a Linux bridge per subnet (the subnet's switch), the VPC router
 *   (each subnet's .1, per-subnet route tables), Amazon DNS (dnsmasq on the VPC's .2 and
 *   169.254.169.253), IMDSv2 (169.254.169.254) and the internet gateway (1:1 NAT of public IPs).
 * - Every ENI is a veth: its instance end (ethN, N = device index) carries the ENI's MAC and
 *   addresses; its fabric end is a bridge port where nftables (bridge family) applies EC2's
 *   source/destination check: a frame leaving the ENI whose IPv4 source is not one of the ENI's
 *   addresses, or delivered to it for another address, is dropped, unless the check is off.
 * - ENIs, instances and their check flags come from moto (the EC2 API the code under test calls):
 *   attaching an ENI in moto hot-plugs it into the instance's namespace, as EC2 does.
 * - "internet" is a namespace behind the internet gateway; services of the test process are
 *   exposed there (the EC2/SSM API, stand-in upstream registries) through a TCP relay.
 *
 * A failed check names the hop: an ENI that never appeared, a drop by the source/dest check or
 * the gateway (nftables counters), nothing listening. See docs/validation.md for what is modelled.
 */
import { execFile, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { AwsApi, VPC_TOOLS, type AwsAnswer } from "./aws-api.js";
import { readyOrReleased, startProcess, tempDir, waitUntil, type RunningProcess } from "./processes.js";
import { amazonDnsAddress, cidrContainsIp, nthAddress, parseIpv4Cidr } from "../../lib/net.js";
import type { SiteConfig } from "../../config/schema.js";

const execFileAsync = promisify(execFile);

/** Link between the internet gateway (fabric side) and the internet namespace. */
const IGW = { fabric: "192.0.2.1", internet: "192.0.2.2", prefix: 30 } as const;
/** Public IPv4 addresses handed to instances and the NAT gateway. */
const PUBLIC_POOL = "203.0.113";
const NAT_GATEWAY_PUBLIC_IP = `${PUBLIC_POOL}.254`;
export const IMDS_ADDRESS = "169.254.169.254";
const AMAZON_LINK_LOCAL_DNS = "169.254.169.253";
/** Where the EC2/SSM API answers on the internet; AWS_ENDPOINT_URL of instances. */
export const AWS_API_ADDRESS = "198.51.100.20";
/** Route-table metric of a secondary ENI's subnet route (the primary's wins, as on EC2 Linux). */
const SECONDARY_ENI_METRIC = 1000;

export interface SubnetSpec {
  readonly cidr: string;
  /** Public: default route to the internet gateway. */
  readonly public: boolean;
}

export interface VpcOptions {
  readonly region: string;
  readonly availabilityZone: string;
  readonly cidr: string;
  readonly subnets: Readonly<Record<string, SubnetSpec>>;
  /** moto's venv (boto3) and endpoint on loopback. */
  readonly venv: string;
  readonly motoEndpoint: string;
  /** Names Amazon DNS answers (e.g. upstream registries served on the internet namespace). */
  readonly dnsRecords?: Readonly<Record<string, string>>;
}

/** A site's VPC: its block, its public and private subnets, in its region and zone. */
export function siteVpc(config: Readonly<SiteConfig>, venv: string, motoEndpoint: string): VpcOptions {
  const { network } = config;
  return {
    region: config.aws.region,
    availabilityZone: config.aws.availabilityZone,
    cidr: network.vpcCidr,
    subnets: { public: { cidr: network.publicSubnet.cidr, public: true }, private: { cidr: network.privateSubnet.cidr, public: false } },
    venv,
    motoEndpoint,
  };
}

export interface LaunchOptions {
  readonly subnet: string;
  readonly privateIp?: string;
  /** A public IPv4 address (mapped 1:1 by the internet gateway). @default false */
  readonly publicIp?: boolean;
  /** IMDS PUT response hop limit. @default 1 */
  readonly hopLimit?: number;
  readonly userData?: string;
}

export interface Instance {
  readonly name: string;
  readonly id: string;
  /** Network namespace, for `ip netns exec`. */
  readonly netns: string;
  readonly privateIp: string;
  readonly publicIp?: string;
  /** Environment for the AWS CLI inside the instance: its calls reach moto through the VPC. */
  readonly awsEnv: Readonly<Record<string, string>>;
}

/** Egress of a subnet's route table besides the local route. */
export type DefaultRoute = { readonly kind: "internet-gateway" } | { readonly kind: "nat-gateway" } | { readonly kind: "eni"; readonly address: string } | { readonly kind: "none" };

interface PluggedEni {
  readonly id: string;
  readonly port: string;
  readonly instance: string;
  readonly device: string;
  readonly addresses: readonly string[];
  readonly sourceDestCheck: boolean;
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class Vpc {
  readonly fabric: string;
  readonly internet: string;
  readonly vpcId: string;
  private readonly subnetIds: Record<string, string>;
  private readonly routes: Record<string, DefaultRoute> = {};
  private readonly instances = new Map<string, Instance & { readonly subnet: string; readonly hopLimit: number; readonly userData: string; readonly mac: string }>();
  private readonly enis = new Map<string, PluggedEni>();
  private readonly processes: RunningProcess[] = [];
  private hotplug?: NodeJS.Timeout;
  private hotplugError?: Error;
  private portCount = 0;
  private publicCount = 0;

  private constructor(
    private readonly options: VpcOptions,
    readonly aws: AwsApi,
    private readonly prefix: string,
    private readonly dir: ReturnType<typeof tempDir>,
    ids: { vpcId: string; subnetIds: Record<string, string> },
  ) {
    this.fabric = `${prefix}-fabric`;
    this.internet = `${prefix}-internet`;
    this.vpcId = ids.vpcId;
    this.subnetIds = ids.subnetIds;
  }

  /** Creates the VPC in moto and its namespaces here; `destroy()` removes both. */
  static async create(options: VpcOptions): Promise<Vpc> {
    const aws = new AwsApi(options.venv, options.motoEndpoint, options.region);
    const vpcId = (await aws.call("ec2", "create_vpc", { CidrBlock: options.cidr })).Vpc.VpcId as string;
    const subnetIds: Record<string, string> = {};
    for (const [name, subnet] of Object.entries(options.subnets)) {
      const answer = await aws.call("ec2", "create_subnet", { VpcId: vpcId, CidrBlock: subnet.cidr, AvailabilityZone: options.availabilityZone });
      subnetIds[name] = answer.Subnet.SubnetId;
    }
    const prefix = `ds${Math.random().toString(16).slice(2, 6)}`;
    return readyOrReleased(
      new Vpc(options, aws, prefix, tempDir("vpc"), { vpcId, subnetIds }),
      (vpc) => vpc.build(),
      (vpc) => vpc.destroy(),
    );
  }

  subnetId(name: string): string {
    const id = this.subnetIds[name];
    if (!id) throw new Error(`no subnet ${name}`);
    return id;
  }

  private subnetCidr(name: string): string {
    const subnet = this.options.subnets[name];
    if (!subnet) throw new Error(`no subnet ${name}`);
    return subnet.cidr;
  }

  private bridge(subnet: string): string {
    return `br-${subnet}`.slice(0, 15);
  }

  private async build(): Promise<void> {
    const { fabric, internet } = this;
    await sh(["ip", "netns", "add", fabric]);
    await sh(["ip", "netns", "add", internet]);
    for (const ns of [fabric, internet]) {
      await sh(["ip", "-n", ns, "link", "set", "lo", "up"]);
      await sh(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    }
    for (const [name, subnet] of Object.entries(this.options.subnets)) {
      const bridge = this.bridge(name);
      const cidr = parseIpv4Cidr(subnet.cidr)!;
      await sh(["ip", "-n", fabric, "link", "add", bridge, "type", "bridge"]);
      await sh(["ip", "-n", fabric, "addr", "add", `${nthAddress(cidr, 1)}/${cidr.prefix}`, "dev", bridge]);
      await sh(["ip", "-n", fabric, "link", "set", bridge, "up"]);
      this.routes[name] = subnet.public ? { kind: "internet-gateway" } : { kind: "none" };
    }
    const amazonDns = amazonDnsAddress(parseIpv4Cidr(this.options.cidr)!);
    for (const address of [amazonDns, AMAZON_LINK_LOCAL_DNS, IMDS_ADDRESS]) await sh(["ip", "-n", fabric, "addr", "add", `${address}/32`, "dev", "lo"]);

    // Internet gateway link.
    await sh(["ip", "link", "add", `${this.prefix}-g0`, "type", "veth", "peer", "name", `${this.prefix}-g1`]);
    await sh(["ip", "link", "set", `${this.prefix}-g0`, "netns", fabric]);
    await sh(["ip", "link", "set", `${this.prefix}-g1`, "netns", internet]);
    await sh(["ip", "-n", fabric, "link", "set", `${this.prefix}-g0`, "name", "igw", "up"]);
    await sh(["ip", "-n", internet, "link", "set", `${this.prefix}-g1`, "name", "igw", "up"]);
    await sh(["ip", "-n", fabric, "addr", "add", `${IGW.fabric}/${IGW.prefix}`, "dev", "igw"]);
    await sh(["ip", "-n", internet, "addr", "add", `${IGW.internet}/${IGW.prefix}`, "dev", "igw"]);
    await sh(["ip", "-n", internet, "route", "add", `${PUBLIC_POOL}.0/24`, "via", IGW.fabric]);
    await this.applyRoutes();
    await this.applyRules();

    // Amazon DNS: the records the test asks for, and the EC2-style private names of instances.
    const records = Object.entries(this.options.dnsRecords ?? {}).map(([name, address]) => `--host-record=${name},${address}`);
    this.processes.push(
      startProcess(
        "ip",
        ["netns", "exec", fabric, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces", `--listen-address=${amazonDns}`,
          `--listen-address=${AMAZON_LINK_LOCAL_DNS}`, "--log-facility=-", "--log-queries", "--user=root", ...records],
        { name: "Amazon DNS (dnsmasq in the VPC fabric)", logFile: join(this.dir.path, "amazon-dns.log") },
      ),
    );
    writeFileSync(this.imdsFile(), "{}");
    this.processes.push(
      startProcess("ip", ["netns", "exec", fabric, "python3", VPC_TOOLS, "imds", this.imdsFile()], {
        name: "IMDS (in the VPC fabric)",
        logFile: join(this.dir.path, "imds.log"),
      }),
    );
    // The EC2/SSM API answers on the internet (moto listens on the test's loopback).
    const motoPort = new URL(this.options.motoEndpoint).port;
    await sh(["ip", "-n", internet, "addr", "add", `${AWS_API_ADDRESS}/32`, "dev", "lo"]);
    await this.expose([{ address: AWS_API_ADDRESS, port: 80, target: `127.0.0.1:${motoPort}` }], "EC2/SSM API relay");
    for (const [service, filter] of [[this.processes[0]!, `src ${amazonDns} and sport = 53`], [this.processes[1]!, `src ${IMDS_ADDRESS} and sport = 80`]] as const) {
      await waitUntil(`${service.name} to listen`, async () => (await this.exec(fabric, "ss", ["-Hln", filter])).stdout.trim() !== "", { timeoutMs: 20_000, process: service });
    }
  }

  private imdsFile(): string {
    return join(this.dir.path, "imds.json");
  }

  /**
   * Serves test-process listeners on the internet: each `address:port` in the internet namespace
   * relays to `target` on this host's loopback (TLS ends at the relay when `tls` is given).
   */
  async expose(
    services: readonly { address: string; port: number; target: string; tls?: { cert: string; key: string } }[],
    name: string,
  ): Promise<void> {
    const specs: string[] = [];
    for (const service of services) {
      const existing = await this.exec(this.internet, "ip", ["-o", "addr", "show", "dev", "lo"]);
      if (!existing.stdout.includes(` ${service.address}/`)) await sh(["ip", "-n", this.internet, "addr", "add", `${service.address}/32`, "dev", "lo"]);
      specs.push(`${service.address}:${service.port}=${service.target}${service.tls ? `,tls=${service.tls.cert}:${service.tls.key}` : ""}`);
    }
    const proc = startProcess("python3", [VPC_TOOLS, "forward", `/run/netns/${this.internet}`, ...specs], {
      name,
      logFile: join(this.dir.path, `relay-${this.processes.length}.log`),
    });
    this.processes.push(proc);
    await waitUntil(`${name} to listen`, () => proc.log().includes("ready"), { timeoutMs: 20_000, process: proc });
  }

  /** A web site on the internet at `address:port` that answers "you are <the address it saw>". */
  async serveEcho(address: string, port: number): Promise<void> {
    // The address first: the site binds to it, and says "ready" once it listens.
    await sh(["ip", "-n", this.internet, "addr", "add", `${address}/32`, "dev", "lo"]);
    const site = this.start(this.internet, "internet site", "python3", [VPC_TOOLS, "echo", `${address}:${port}`]);
    await waitUntil("the internet site to listen", () => site.log().includes("ready"), { timeoutMs: 20_000, process: site });
  }

  /** Starts a process inside a namespace of this VPC; stopped by `destroy()`. */
  start(netns: string, name: string, command: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): RunningProcess {
    const proc = startProcess("ip", ["netns", "exec", netns, command, ...args], { name, logFile: join(this.dir.path, `${name.replace(/\W+/g, "-")}.log`), env });
    this.processes.push(proc);
    return proc;
  }

  /** Sets the route table of `subnet` (besides its local route), as `aws ec2 create-route` would. */
  async setDefaultRoute(subnet: string, route: DefaultRoute): Promise<void> {
    this.subnetCidr(subnet);
    this.routes[subnet] = route;
    await this.applyRoutes();
    await this.applyRules();
  }

  private async applyRoutes(): Promise<void> {
    let table = 100;
    for (const [name, route] of Object.entries(this.routes)) {
      table += 1;
      const bridge = this.bridge(name);
      await execFileAsync("ip", ["-n", this.fabric, "route", "flush", "table", String(table)]).catch(() => undefined); // absent at first
      // The local route: every subnet of the VPC.
      for (const [other, spec] of Object.entries(this.options.subnets)) {
        await sh(["ip", "-n", this.fabric, "route", "add", spec.cidr, "dev", this.bridge(other), "table", String(table)]);
      }
      if (route.kind === "internet-gateway" || route.kind === "nat-gateway") {
        await sh(["ip", "-n", this.fabric, "route", "add", "default", "via", IGW.internet, "dev", "igw", "table", String(table)]);
      } else if (route.kind === "eni") {
        await sh(["ip", "-n", this.fabric, "route", "add", "default", "via", route.address, "dev", this.bridgeOf(route.address), "table", String(table)]);
      }
      const rule = ["iif", bridge, "lookup", String(table), "priority", String(table)];
      await execFileAsync("ip", ["-n", this.fabric, "rule", "del", ...rule]).catch(() => undefined);
      await sh(["ip", "-n", this.fabric, "rule", "add", ...rule]);
    }
  }

  private bridgeOf(address: string): string {
    for (const [name, spec] of Object.entries(this.options.subnets)) {
      if (cidrContainsIp(parseIpv4Cidr(spec.cidr)!, address)) return this.bridge(name);
    }
    throw new Error(`${address} is in no subnet of the VPC`);
  }

  /** nftables of the fabric, rendered whole from the current state and loaded atomically. */
  private async applyRules(): Promise<void> {
    const counters: string[] = [];
    const pre: string[] = [];
    const post: string[] = [];
    for (const eni of this.enis.values()) {
      if (!eni.sourceDestCheck) continue;
      const name = counterName(eni.id);
      const set = `{ ${eni.addresses.join(", ")} }`;
      counters.push(`counter ${name}_src {}`, `counter ${name}_dst {}`);
      pre.push(`iifname "${eni.port}" ether type ip ip saddr != ${set} counter name "${name}_src" drop`);
      post.push(`oifname "${eni.port}" ether type ip ip daddr != ${set} counter name "${name}_dst" drop`);
    }
    const mapped = [...this.instances.values()].filter((i) => i.publicIp);
    const natGatewaySubnets = Object.entries(this.routes).filter(([, r]) => r.kind === "nat-gateway").map(([name]) => this.subnetCidr(name));
    const allowedOut = [...mapped.map((i) => i.privateIp), ...natGatewaySubnets];
    const text = `flush ruleset
table bridge ec2 {
  ${counters.join("\n  ")}
  chain prerouting { type filter hook prerouting priority 0; policy accept;
    ${pre.join("\n    ")}
  }
  chain postrouting { type filter hook postrouting priority 0; policy accept;
    ${post.join("\n    ")}
  }
}
table ip igw {
  counter no_public_ip {}
  chain prerouting { type nat hook prerouting priority dstnat; policy accept;
    ${mapped.map((i) => `iifname "igw" ip daddr ${i.publicIp} dnat to ${i.privateIp}`).join("\n    ")}
  }
  chain postrouting { type nat hook postrouting priority srcnat; policy accept;
    ${mapped.map((i) => `oifname "igw" ip saddr ${i.privateIp} snat to ${i.publicIp}`).join("\n    ")}
    ${natGatewaySubnets.map((cidr) => `oifname "igw" ip saddr ${cidr} snat to ${NAT_GATEWAY_PUBLIC_IP}`).join("\n    ")}
  }
  chain forward { type filter hook forward priority 0; policy accept;
    ${allowedOut.length ? `oifname "igw" ip saddr != { ${allowedOut.join(", ")} } counter name "no_public_ip" drop` : `oifname "igw" counter name "no_public_ip" drop`}
  }
}
`;
    const file = join(this.dir.path, "fabric.nft");
    writeFileSync(file, text);
    await sh(["ip", "netns", "exec", this.fabric, "nft", "-f", file]);
  }

  /** Launches an instance in moto and gives it a namespace with its primary ENI as eth0. */
  async launch(name: string, options: LaunchOptions): Promise<Instance> {
    const answer = await this.aws.call("ec2", "run_instances", {
      ImageId: "ami-0a1b2c3d4e5f60718",
      InstanceType: "t4g.small",
      MinCount: 1,
      MaxCount: 1,
      SubnetId: this.subnetId(options.subnet),
      ...(options.privateIp ? { PrivateIpAddress: options.privateIp } : {}),
      MetadataOptions: { HttpTokens: "required", HttpPutResponseHopLimit: options.hopLimit ?? 1, HttpEndpoint: "enabled" },
    });
    const launched = answer.Instances[0];
    const eth0 = launched.NetworkInterfaces[0];
    const netns = `${this.prefix}-${name}`;
    await sh(["ip", "netns", "add", netns]);
    await sh(["ip", "-n", netns, "link", "set", "lo", "up"]);
    // EC2 answers ARP for each ENI's own addresses only: no interface answers for another's.
    for (const setting of ["arp_ignore=1", "arp_announce=2"]) {
      for (const scope of ["all", "default"]) await sh(["ip", "netns", "exec", netns, "sysctl", "-qw", `net.ipv4.conf.${scope}.${setting}`]);
    }
    const publicIp = options.publicIp ? `${PUBLIC_POOL}.${++this.publicCount}` : undefined;
    const instance = {
      name,
      id: launched.InstanceId as string,
      netns,
      privateIp: launched.PrivateIpAddress as string,
      ...(publicIp ? { publicIp } : {}),
      awsEnv: {
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_ENDPOINT_URL: `http://${AWS_API_ADDRESS}`,
        AWS_EC2_METADATA_DISABLED: "true",
      },
      subnet: options.subnet,
      hopLimit: options.hopLimit ?? 1,
      userData: options.userData ?? "",
      mac: eth0.MacAddress as string,
    };
    this.instances.set(instance.id, instance);
    // What EC2's DHCP hands out: Amazon DNS (`ip netns exec` bind-mounts this over /etc/resolv.conf).
    mkdirSync(dirname(this.resolvConf(instance)), { recursive: true });
    writeFileSync(this.resolvConf(instance), `nameserver ${amazonDnsAddress(parseIpv4Cidr(this.options.cidr)!)}\n`);
    await this.plug(eth0, instance.id, 0);
    await sh(["ip", "-n", netns, "route", "add", "default", "via", nthAddress(parseIpv4Cidr(this.subnetCidr(options.subnet))!, 1), "dev", "eth0"]);
    this.writeImds();
    await this.applyRules();
    return instance;
  }

  /** The instance's /etc/resolv.conf, as seen by processes started with `exec` or `start`. */
  resolvConf(instance: Instance): string {
    return `/etc/netns/${instance.netns}/resolv.conf`;
  }

  /** Creates an ENI in moto (not attached), e.g. the bastion's persistent interface. */
  async createEni(subnet: string, address: string, sourceDestCheck = true): Promise<string> {
    const eni = (await this.aws.call("ec2", "create_network_interface", { SubnetId: this.subnetId(subnet), PrivateIpAddress: address })).NetworkInterface;
    if (!sourceDestCheck) {
      await this.aws.call("ec2", "modify_network_interface_attribute", { NetworkInterfaceId: eni.NetworkInterfaceId, SourceDestCheck: { Value: false } });
    }
    return eni.NetworkInterfaceId as string;
  }

  /** Hot-plugs every ENI moto reports attached to one of our instances (as EC2 does), from now on. */
  watchAttachments(): void {
    if (this.hotplug) return;
    let busy = false;
    this.hotplug = setInterval(() => {
      if (busy) return;
      busy = true;
      this.syncAttachments()
        .catch((error: Error) => (this.hotplugError = error))
        .finally(() => (busy = false));
    }, 500);
  }

  private async syncAttachments(): Promise<void> {
    const { NetworkInterfaces } = await this.aws.call("ec2", "describe_network_interfaces", { Filters: [{ Name: "vpc-id", Values: [this.vpcId] }] });
    for (const eni of NetworkInterfaces) {
      const attachment = eni.Attachment;
      if (!attachment?.InstanceId || this.enis.has(eni.NetworkInterfaceId) || !this.instances.has(attachment.InstanceId)) continue;
      await this.plug(eni, attachment.InstanceId, Number(attachment.DeviceIndex));
      await this.applyRules();
    }
  }

  /** Plugs an ENI as moto describes it (`describe_network_interfaces` / `run_instances`) into an instance. */
  private async plug(eni: AwsAnswer, instanceId: string, deviceIndex: number): Promise<void> {
    const instance = this.instances.get(instanceId)!;
    const port = `${this.prefix}p${++this.portCount}`;
    const device = `eth${deviceIndex}`;
    const addresses = (eni.PrivateIpAddresses as { PrivateIpAddress: string }[]).map((a) => a.PrivateIpAddress);
    const subnet = Object.entries(this.subnetIds).find(([, id]) => id === eni.SubnetId)?.[0];
    if (!subnet) throw new Error(`ENI ${eni.NetworkInterfaceId} is in subnet ${eni.SubnetId}, not one of this VPC's`);
    const prefix = parseIpv4Cidr(this.subnetCidr(subnet))!.prefix;
    await sh(["ip", "link", "add", port, "type", "veth", "peer", "name", `${port}i`]);
    await sh(["ip", "link", "set", port, "netns", this.fabric]);
    await sh(["ip", "link", "set", `${port}i`, "netns", instance.netns]);
    await sh(["ip", "-n", this.fabric, "link", "set", port, "master", this.bridge(subnet), "up"]);
    await sh(["ip", "-n", instance.netns, "link", "set", `${port}i`, "name", device, "address", eni.MacAddress, "up"]);
    // What EC2's DHCP gives the interface; a secondary ENI's subnet route ranks below the primary's.
    // The addresses come last: a script that waits for its address may use the link right away.
    if (deviceIndex > 0) {
      await sh(["ip", "-n", instance.netns, "route", "add", this.subnetCidr(subnet), "dev", device, "metric", String(SECONDARY_ENI_METRIC + deviceIndex)]);
    }
    for (const address of addresses) {
      await sh(["ip", "-n", instance.netns, "addr", "add", `${address}/${prefix}`, "dev", device, ...(deviceIndex > 0 ? ["noprefixroute"] : [])]);
    }
    this.enis.set(eni.NetworkInterfaceId, {
      id: eni.NetworkInterfaceId,
      port,
      instance: instance.name,
      device,
      addresses,
      sourceDestCheck: eni.SourceDestCheck !== false,
    });
  }

  private writeImds(): void {
    const byAddress: Record<string, unknown> = {};
    for (const i of this.instances.values()) {
      byAddress[i.privateIp] = {
        hopLimit: i.hopLimit,
        userData: i.userData,
        metaData: {
          "instance-id": i.id,
          mac: i.mac,
          "local-ipv4": i.privateIp,
          ...(i.publicIp ? { "public-ipv4": i.publicIp } : {}),
          "placement/region": this.options.region,
          "placement/availability-zone": this.options.availabilityZone,
          [`network/interfaces/macs/${i.mac}/vpc-id`]: this.vpcId,
          [`network/interfaces/macs/${i.mac}/subnet-id`]: this.subnetId(i.subnet),
        },
      };
    }
    writeFileSync(this.imdsFile(), JSON.stringify(byAddress));
  }

  /** Runs a command inside a namespace (never throws on a non-zero exit). */
  async exec(netns: string, command: string, args: readonly string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ExecResult> {
    return new Promise((resolve) => {
      const child = spawn("ip", ["netns", "exec", netns, command, ...args], { env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}\n(killed by ${signal})` : stderr });
      });
    });
  }

  /**
   * A GET from an instance; returns the body, or fails with `what` and the hop that broke. With
   * `retryMs`, a failed GET is retried for that long, as a client would: the first connection
   * through a freshly attached interface can fail while the router still resolves its address.
   */
  async get(from: Instance, url: string, what: string, retryMs = 0): Promise<string> {
    const deadline = Date.now() + retryMs;
    for (;;) {
      await this.resetCounters();
      const result = await this.exec(from.netns, "curl", ["-sS", "-f", "--max-time", "5", url]);
      if (result.code !== 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        continue;
      }
      await this.expectOk(what, result);
      return result.stdout.trim();
    }
  }

  /** Zeroes the drop counters, so that `explain()` reports what the next probe hit. */
  async resetCounters(): Promise<void> {
    await sh(["ip", "netns", "exec", this.fabric, "nft", "reset", "counters"]);
  }

  /**
   * What the VPC dropped since the last reset, and which ENIs exist where: the hop that broke,
   * in words. Empty lines are omitted; an all-clear says so.
   */
  async explain(): Promise<string> {
    const lines: string[] = [];
    if (this.hotplugError) lines.push(`hot-plugging ENIs failed: ${this.hotplugError.message}`);
    const listed = await this.exec(this.fabric, "nft", ["-j", "list", "counters"]);
    const objects = (JSON.parse(listed.stdout || "{}") as { nftables?: { counter?: { name: string; packets: number } }[] }).nftables ?? [];
    for (const { counter } of objects) {
      if (!counter || counter.packets === 0) continue;
      if (counter.name === "no_public_ip") {
        lines.push(`internet gateway dropped ${counter.packets} packet(s) from an address with no public IP (no NAT on the way out?)`);
        continue;
      }
      const eni = [...this.enis.values()].find((e) => counter.name.startsWith(counterName(e.id)));
      const direction = counter.name.endsWith("_src") ? "leaving" : "delivered to";
      const rule = counter.name.endsWith("_src") ? "source" : "destination";
      lines.push(
        `EC2 source/dest check dropped ${counter.packets} packet(s) ${direction} ${eni?.id} (${eni?.instance} ${eni?.device}, addresses ${eni?.addresses.join(", ")}) with another ${rule} address`,
      );
    }
    const neighbours = await this.exec(this.fabric, "ip", ["neigh", "show", "nud", "failed"]);
    for (const line of neighbours.stdout.split("\n").filter(Boolean)) lines.push(`VPC router: no answer to ARP for ${line.trim()}`);
    for (const eni of this.enis.values()) lines.push(`ENI ${eni.id} is plugged: ${eni.instance} ${eni.device} ${eni.addresses.join(", ")}, source/dest check ${eni.sourceDestCheck ? "on" : "off"}`);
    for (const proc of this.processes) if (proc.hasExited()) lines.push(`${proc.name} has exited: ${proc.log().slice(-500)}`);
    return lines.join("\n");
  }

  /** Fails with `what`, the command's output and the VPC's explanation, unless the command succeeded. */
  async expectOk(what: string, result: ExecResult): Promise<void> {
    if (result.code === 0) return;
    throw new Error(`${what} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}\n${await this.explain()}`);
  }

  async destroy(): Promise<void> {
    if (this.hotplug) clearInterval(this.hotplug);
    await Promise.all(this.processes.map((p) => p.stop()));
    this.aws.close();
    const namespaces = [this.fabric, this.internet, ...[...this.instances.values()].map((i) => i.netns)];
    for (const ns of namespaces) await execFileAsync("ip", ["netns", "del", ns]).catch(() => undefined);
    for (const instance of this.instances.values()) rmSync(dirname(this.resolvConf(instance)), { recursive: true, force: true });
    this.dir.remove();
  }
}

/**
 * Amazon Linux's package manager, which the namespaces do not have: an `rpm` answering that
 * `iptables-nft` is installed (the host's iptables is used). Returns the directory to put first on PATH.
 */
export function iptablesInstalledShim(dir: string): string {
  const shims = join(dir, "shims");
  mkdirSync(shims, { recursive: true });
  writeFileSync(join(shims, "rpm"), '#!/bin/sh\n[ "$1 $2" = "-q iptables-nft" ]\n', { mode: 0o755 });
  return shims;
}

function counterName(eniId: string): string {
  return eniId.replace(/\W/g, "_");
}

async function sh(argv: readonly string[]): Promise<void> {
  try {
    await execFileAsync(argv[0]!, argv.slice(1));
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${argv.join(" ")}: ${e.stderr?.trim() || e.message}`);
  }
}
