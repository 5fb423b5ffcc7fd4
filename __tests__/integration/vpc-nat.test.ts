/**
 * The NAT instance in an EC2-like VPC (__tests__/helpers/vpc.ts): the synthesized launch
 * template's user-data is read like cloud-init would, and what its boot unit runs is run in the
 * instance's namespace (attaching the persistent ENI through moto). A node on the private subnet
 * then reaches the internet namespace through it, seen there as the NAT's public address; after a
 * simulated reboot (kernel state gone: rules, forwarding, routes beyond DHCP's) the unit runs again
 * and the node is back online.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MotoServer } from "../helpers/moto.js";
import { tempDir, waitUntil } from "../helpers/processes.js";
import { decodeUserData, resource, siteConfig, synthStack } from "../helpers/synth.js";
import { toolchain } from "../helpers/toolchain.js";
import { iptablesInstalledShim, siteVpc, Vpc, type Instance } from "../helpers/vpc.js";

const config = siteConfig({ network: { nat: "instance" } });
const NAT_ENI = config.network.natInstance.eniAddress;
const NODE_IP = config.talos.nodeIps[0]!;
const SITE = { address: "198.51.100.30", port: 80 };
/** How long a node retries its GET once the NAT reports ready. */
const RETRY_MS = 10_000;

interface CloudConfig {
  readonly write_files: { path: string; content: string }[];
  readonly runcmd: string[][];
}

describe("NAT instance in an EC2-like VPC", () => {
  let dir: ReturnType<typeof tempDir>;
  let moto: MotoServer | undefined;
  let vpc: Vpc | undefined;
  let nat: Instance;
  let node: Instance;
  /** The script the boot unit's ExecStart names, as cloud-init writes it. */
  let bootScript: string;
  let shims: string;

  /** Runs what the NAT's boot unit runs, in its namespace. */
  async function boot(): Promise<string> {
    const result = await vpc!.exec(nat.netns, "bash", [bootScript], { env: { ...nat.awsEnv, PATH: `${shims}:${process.env.PATH}` }, timeoutMs: 180_000 });
    await vpc!.expectOk("the NAT's boot unit", result);
    return result.stdout + result.stderr;
  }

  /**
   * The node's GET to the internet; returns who the internet saw, or fails naming the hop. With
   * `retryMs`, a failed GET is retried for that long, as a client would: the first connection
   * through a freshly attached interface can fail while the router still resolves its address.
   */
  async function nodeToInternet(retryMs = 0): Promise<string> {
    return vpc!.get(node, `http://${SITE.address}:${SITE.port}/`, `node ${NODE_IP} -> internet ${SITE.address} through the NAT instance`, retryMs);
  }

  beforeAll(async () => {
    const tools = toolchain();
    dir = tempDir("vpc-nat");
    const template = resource(synthStack(config), "aws_launch_template", "nat_instance");
    const userData = parseYaml(decodeUserData(template).replace(/^#cloud-config\n/, "")) as CloudConfig;
    const enabled = userData.runcmd.find((c) => c.slice(0, 3).join(" ") === "systemctl enable --now")?.[3];
    const unit = userData.write_files.find((f) => f.path === `/etc/systemd/system/${enabled}`);
    if (!unit) throw new Error(`the NAT's user-data enables no unit it writes (runcmd: ${JSON.stringify(userData.runcmd)})`);
    const execStart = /^ExecStart=(\S+)$/m.exec(unit.content)?.[1];
    const script = userData.write_files.find((f) => f.path === execStart);
    if (!script) throw new Error(`${enabled} runs ${execStart}, which the user-data does not write`);
    bootScript = join(dir.path, "boot.sh");
    writeFileSync(bootScript, script.content);
    shims = iptablesInstalledShim(dir.path);

    moto = await MotoServer.start(tools.venv);
    vpc = await Vpc.create(siteVpc(config, tools.venv, moto.endpoint));
    await vpc.serveEcho(SITE.address, SITE.port);
    // As synthesized: the ENI with source/dest check off, the private default route to it.
    await vpc.createEni("public", NAT_ENI, false);
    await vpc.setDefaultRoute("private", { kind: "eni", address: NAT_ENI });
    nat = await vpc.launch("nat", { subnet: "public", publicIp: true });
    node = await vpc.launch("node", { subnet: "private", privateIp: NODE_IP });
    vpc.watchAttachments();
  });

  afterAll(async () => {
    await vpc?.destroy();
    await moto?.stop();
    dir?.remove();
  });

  it("has no way out before the NAT instance has booted", async () => {
    await expect(nodeToInternet()).rejects.toThrow(/through the NAT instance failed/);
  });

  it("boots: attaches its ENI, and the node reaches the internet as the NAT's public address", async () => {
    const output = await boot();
    expect(output).toContain("attached ENI");
    expect(output).toContain(`NAT ready: ${config.network.vpcCidr} via eth1 out of eth0`);
    await waitUntil("the internet site to listen", async () => (await vpc!.exec(vpc!.internet, "ss", ["-Hlnt", `src ${SITE.address}`])).stdout !== "", { timeoutMs: 10_000 });
    expect(await nodeToInternet(RETRY_MS)).toBe(`you are ${nat.publicIp}`);
  });

  it("after a reboot, is offline until its unit runs again, then forwards as before", async () => {
    // A reboot keeps the ENI attached and DHCP's address and default route; the kernel forgets the rest.
    await vpc!.exec(nat.netns, "nft", ["flush", "ruleset"]);
    await vpc!.exec(nat.netns, "sysctl", ["-qw", "net.ipv4.ip_forward=0"]);
    await vpc!.exec(nat.netns, "ip", ["route", "del", config.network.vpcCidr]);
    await expect(nodeToInternet()).rejects.toThrow(/through the NAT instance failed/);

    const output = await boot();
    expect(output).toContain("already attached");
    expect(await nodeToInternet(RETRY_MS)).toBe(`you are ${nat.publicIp}`);
  });
});
