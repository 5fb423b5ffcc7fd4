/**
 * network.nat "bastion" in an EC2-like VPC (__tests__/helpers/vpc.ts): the bastion is its own NAT.
 * It launches as its Auto Scaling group does in this mode (public subnet, public IPv4 on eth0); its
 * persistent ENI (private subnet, source/dest check off as synthesized) is the private route
 * table's default target. The network steps of the synthesized boot script's main(), in main()'s
 * order, run in the bastion's namespace: the ENI is hot-plugged through moto, routed, and the NAT
 * instance's masquerade steps run on it. A node on the private subnet then reaches the internet as
 * the bastion's public address; without the masquerade (EC2's check on eth0 drops the node's
 * address) or without forwarding it does not; and
 * Docker's FORWARD policy (DROP, set when Docker turns forwarding on at a reboot) does not stop it.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MotoServer } from "../helpers/moto.js";
import { tempDir } from "../helpers/processes.js";
import { decodeUserData, resource, siteConfig, synthStack } from "../helpers/synth.js";
import { toolchain } from "../helpers/toolchain.js";
import { iptablesInstalledShim, siteVpc, Vpc, type Instance } from "../helpers/vpc.js";
import { BOOT_SCRIPT_PATH } from "../../templates/bastion-boot.js";

const config = siteConfig({ network: { nat: "bastion" } });
const stack = synthStack(config);
const BASTION_IP = config.bastion.privateIp;
const NODE_IP = config.talos.nodeIps[0]!;
const SITE = { address: "198.51.100.30", port: 80 };
/** How long the node retries its GET once the bastion's NAT steps ran. */
const RETRY_MS = 10_000;

interface CloudConfig {
  readonly write_files: { path: string; content: string; encoding?: string }[];
}

/** The boot script the bastion's user-data writes, as cloud-init decodes it. */
function bootScriptOf(template: Record<string, unknown>): string {
  const { write_files: files } = parseYaml(decodeUserData(template)) as CloudConfig;
  const file = files.find((f) => f.path === BOOT_SCRIPT_PATH);
  if (!file) throw new Error(`the bastion's user-data does not write ${BOOT_SCRIPT_PATH}`);
  return file.encoding === "gz+b64" ? gunzipSync(Buffer.from(file.content, "base64")).toString("utf8") : file.content;
}

/** main()'s lines from attaching the ENI up to the cache volume: the network steps, in its order. */
function networkSteps(script: string): string[] {
  const body = /^main\(\) \{\n([\s\S]*?)\n\}$/m.exec(script)?.[1];
  if (!body) throw new Error("the boot script has no main()");
  const lines = body.split("\n").map((l) => l.trim());
  return lines.slice(lines.indexOf("attach_persistent_eni"), lines.findIndex((l) => l.startsWith("local ")));
}

describe("the bastion as its own NAT in an EC2-like VPC", () => {
  let dir: ReturnType<typeof tempDir>;
  let moto: MotoServer | undefined;
  let vpc: Vpc | undefined;
  let bastion: Instance;
  let node: Instance;
  let bootFile: string;
  let steps: string[];
  let shims: string;

  /** Runs the network steps of main() in the bastion's namespace. */
  async function boot(): Promise<string> {
    const result = await vpc!.exec(bastion.netns, "bash", ["-c", [`source ${bootFile}`, ...steps].join("\n")], {
      env: { ...bastion.awsEnv, PATH: `${shims}:${process.env.PATH}` },
      timeoutMs: 180_000,
    });
    await vpc!.expectOk("the bastion's network steps", result);
    return result.stdout + result.stderr;
  }

  /**
   * A GET to the internet site from `from`; returns who the internet saw, or fails naming the hop.
   * After a boot it retries for RETRY_MS (vpc.get): the ENI's address may be fresh at the router.
   */
  async function toInternet(from: Instance, retryMs = 0): Promise<string> {
    return vpc!.get(from, `http://${SITE.address}:${SITE.port}/`, `${from.name} ${from.privateIp} -> internet ${SITE.address}`, retryMs);
  }

  beforeAll(async () => {
    const tools = toolchain();
    dir = tempDir("vpc-bastion-nat");
    const script = bootScriptOf(resource(stack, "aws_launch_template", "bastion"));
    steps = networkSteps(script);
    bootFile = join(dir.path, "deathstar-bastion-boot");
    writeFileSync(bootFile, script);
    shims = iptablesInstalledShim(dir.path);

    moto = await MotoServer.start(tools.venv);
    vpc = await Vpc.create(siteVpc(config, tools.venv, moto.endpoint));
    await vpc.serveEcho(SITE.address, SITE.port);

    // As synthesized: the ENI with its check as the stack sets it, the private default route to it,
    // and the bastion launched where its group launches it, with a public IPv4.
    const eni = resource(stack, "aws_network_interface", "bastion");
    await vpc.createEni("private", BASTION_IP, eni.source_dest_check !== false);
    expect(resource(stack, "aws_route", "private_default").network_interface_id).toBe("${aws_network_interface.bastion.id}");
    await vpc.setDefaultRoute("private", { kind: "eni", address: BASTION_IP });
    expect(resource(stack, "aws_autoscaling_group", "bastion").vpc_zone_identifier).toEqual(["${aws_subnet.public.id}"]);
    expect(resource(stack, "aws_launch_template", "bastion").network_interfaces).toMatchObject([{ associate_public_ip_address: "true" }]);
    bastion = await vpc.launch("bastion", { subnet: "public", publicIp: true });
    node = await vpc.launch("node", { subnet: "private", privateIp: NODE_IP });
    vpc.watchAttachments();
  });

  afterAll(async () => {
    await vpc?.destroy();
    await moto?.stop();
    dir?.remove();
  });

  it("runs the NAT steps right after the ENI is routed, before anything that needs egress", () => {
    expect(steps).toEqual(["attach_persistent_eni", "route_via_eni", 'if [ "$NAT_ON_BASTION" = yes ]; then masquerade_vpc "$SUBNET_ROUTER"; fi']);
  });

  it("has egress of its own through its public IPv4 from the start; the node has none before the bastion booted", async () => {
    expect(await toInternet(bastion)).toBe(`you are ${bastion.publicIp}`);
    await expect(toInternet(node)).rejects.toThrow(/node 10\.20\.13\.11 -> internet .* failed/);
  });

  it("boots: hot-plugs its ENI, and the node reaches the internet as the bastion's public address", async () => {
    const output = await boot();
    expect(output).toContain("attached ENI");
    expect(output).toContain(`services answer on ${BASTION_IP} via eth1`);
    expect(output).toContain(`NAT ready: ${config.network.vpcCidr} via eth1 out of eth0`);
    expect(await toInternet(node, RETRY_MS)).toBe(`you are ${bastion.publicIp}`);
    // The bastion's own traffic still leaves through eth0, as itself.
    expect(await toInternet(bastion)).toBe(`you are ${bastion.publicIp}`);
  });

  it("without the masquerade, the public interface's own source/dest check drops the node's packets (it stays on)", async () => {
    const rule = ["-t", "nat", "-D", "POSTROUTING", "-o", "eth0", "-s", config.network.vpcCidr, "-j", "MASQUERADE"];
    await vpc!.expectOk("deleting the MASQUERADE rule", await vpc!.exec(bastion.netns, "iptables", rule));
    await expect(toInternet(node)).rejects.toThrow(/EC2 source\/dest check dropped \d+ packet\(s\) leaving eni-\w+ \(bastion eth0, .*\) with another source address/);
    await boot();
    expect(await toInternet(node, RETRY_MS)).toBe(`you are ${bastion.publicIp}`);
  });

  it("without forwarding, the node gets nowhere", async () => {
    await vpc!.exec(bastion.netns, "sysctl", ["-qw", "net.ipv4.ip_forward=0"]);
    await expect(toInternet(node)).rejects.toThrow(/node 10\.20\.13\.11 -> internet .* failed/);
    await boot();
    expect(await toInternet(node, RETRY_MS)).toBe(`you are ${bastion.publicIp}`);
  });

  it("after a reboot where Docker switched forwarding on with a FORWARD policy of DROP, forwards again once its unit ran", async () => {
    // A reboot keeps the ENI attached with its address and the DHCP routes; the kernel forgets the rest.
    await vpc!.exec(bastion.netns, "nft", ["flush", "ruleset"]);
    await vpc!.exec(bastion.netns, "ip", ["route", "del", config.network.vpcCidr]);
    // Docker starts before the boot unit, finds forwarding off, turns it on and sets FORWARD to DROP.
    await vpc!.exec(bastion.netns, "sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
    await vpc!.expectOk("FORWARD policy DROP", await vpc!.exec(bastion.netns, "iptables", ["-P", "FORWARD", "DROP"]));
    await expect(toInternet(node)).rejects.toThrow(/node 10\.20\.13\.11 -> internet .* failed/);

    const output = await boot();
    expect(output).toContain("already attached");
    const policy = await vpc!.exec(bastion.netns, "iptables", ["-S", "FORWARD"]);
    expect(policy.stdout).toMatch(/^-P FORWARD DROP$/m);
    expect(await toInternet(node, RETRY_MS)).toBe(`you are ${bastion.publicIp}`);
  });
});
