/**
 * The bastion in an EC2-like VPC (__tests__/helpers/vpc.ts), with real Docker: the real rendered
 * boot script attaches the persistent ENI through the EC2 API (moto) and routes over it, then the
 * rendered bundle's compose.yaml runs unchanged (images are local `docker import`s tagged with the
 * configured references). A node on the private subnet must then reach every service at the
 * bastion's fixed address, through EC2's source/destination check.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMPOSE_PLUGIN, renderBastionBootScript } from "../../templates/bastion-boot.js";
import { renderBastionBundle } from "../../templates/bundle.js";
import { MATCHBOX_ASSETS_DIR } from "../../templates/fetch-talos-assets.js";
import { PIHOLE_SECRETS_ENV_FILE } from "../../templates/pihole.js";
import { importBastionImages } from "../helpers/bastion-images.js";
import { Dockerd } from "../helpers/docker.js";
import { MotoServer } from "../helpers/moto.js";
import { writeTree } from "../helpers/netboot.js";
import { freePort, startProcess, tempDir, waitForHttp, waitUntil, type RunningProcess } from "../helpers/processes.js";
import { buildImage, MANIFEST_TYPE, pushImage, REPOSITORY, sha256, TAG, type Image } from "../helpers/registry-image.js";
import { AMD64_COZYSTACK_OVERRIDE, firstDefaultsConfig } from "../helpers/synth.js";
import { toolchain } from "../helpers/toolchain.js";
import { IMDS_ADDRESS, siteVpc, Vpc, type Instance } from "../helpers/vpc.js";
import { VPC_TOOLS } from "../helpers/aws-api.js";
import { testCertificates } from "../helpers/tls.js";

/**
 * The CozyStack site: amd64 nodes (talos.architecture) on the private subnet of the Graviton
 * bastion, whose caches are on its volume (the first defaults): the emulated VPC has no S3 for
 * the caches of the default site (their bucket is tested against moto in default-site.test.ts).
 */
const config = firstDefaultsConfig(AMD64_COZYSTACK_OVERRIDE);
const BASTION_IP = config.bastion.privateIp;
const NODE_IP = config.talos.nodeIps[0]!;
/** Where the stand-in upstream registries answer on the internet (Amazon DNS resolves their names here). */
const UPSTREAM_ADDRESS = "198.51.100.10";
const upstreamHosts = config.services.registryCaches.map((cache) => new URL(cache.upstream).hostname);
const CURL = ["-sS", "--max-time", "10"];

describe("bastion in an EC2-like VPC", () => {
  let dir: ReturnType<typeof tempDir>;
  let moto: MotoServer | undefined;
  let vpc: Vpc | undefined;
  let upstream: RunningProcess | undefined;
  let docker: Dockerd | undefined;
  let bastion: Instance;
  let node: Instance;
  let image: Image;
  let bundle: string;
  let bootOutput = "";

  /** Runs `curl` from the node; on failure, names the hop: service down on the bastion, or dropped on the way. */
  async function fromNode(what: string, port: number, path: string, extra: string[] = []): Promise<string> {
    await vpc!.resetCounters();
    const result = await vpc!.exec(node.netns, "curl", [...CURL, "-f", ...extra, `http://${BASTION_IP}:${port}${path}`]);
    if (result.code === 0) return result.stdout;
    const local = await vpc!.exec(bastion.netns, "curl", [...CURL, "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${port}/`]);
    const service = local.code === 0 ? `the bastion itself gets HTTP ${local.stdout} on 127.0.0.1:${port}` : `nothing answers on the bastion's own 127.0.0.1:${port} (container down?)`;
    const containers = await docker!.run(["compose", "--file", join(bundle, "compose.yaml"), "ps", "--all", "--format", "{{.Service}} {{.State}}"]).catch((e: Error) => e.message);
    throw new Error(`${what}: node ${NODE_IP} -> ${BASTION_IP}:${port} failed (curl exit ${result.code}: ${result.stderr.trim()})\n${service}\ncontainers: ${containers.trim().replace(/\n/g, ", ")}\n${await vpc!.explain()}`);
  }

  beforeAll(async () => {
    const tools = toolchain();
    const compose = tools.compose;
    if (!compose) throw new Error('the cached toolchain has no docker compose: run "bash scripts/setup.sh" (npm test does)');
    dir = tempDir("vpc-bastion");
    const certs = testCertificates(join(dir.path, "tls"), upstreamHosts);

    // The stand-in upstream registry (all five upstream names) on loopback, reached from the
    // internet namespace through a TLS relay; it holds one image to pull through the caches.
    const upstreamPort = await freePort();
    image = buildImage(dir.path);
    writeTree(dir.path, {
      "upstream.yml": stringify({ version: 0.1, storage: { filesystem: { rootdirectory: join(dir.path, "upstream-data") } }, http: { addr: `127.0.0.1:${upstreamPort}` } }),
    });
    upstream = startProcess("docker-registry", ["serve", join(dir.path, "upstream.yml")], { name: "stand-in upstream registry", logFile: join(dir.path, "upstream.log") });
    await waitForHttp(`http://127.0.0.1:${upstreamPort}/v2/`, upstream);
    await pushImage(`http://127.0.0.1:${upstreamPort}`, image);

    moto = await MotoServer.start(tools.venv);
    vpc = await Vpc.create({
      ...siteVpc(config, tools.venv, moto.endpoint),
      dnsRecords: Object.fromEntries(upstreamHosts.map((host) => [host, UPSTREAM_ADDRESS])),
    });
    await vpc.expose([{ address: UPSTREAM_ADDRESS, port: 443, target: `127.0.0.1:${upstreamPort}`, tls: certs.leaf }], "stand-in upstream registry (TLS relay)");
    // Egress of the private subnet: a NAT gateway, modelled by the VPC router.
    await vpc.setDefaultRoute("private", { kind: "nat-gateway" });
    await vpc.createEni("private", BASTION_IP);
    await vpc.aws.call("ssm", "put_parameter", { Name: config.bastion.secrets.piholeWebPassword, Value: "not-a-real-password", Type: "SecureString" });
    bastion = await vpc.launch("bastion", { subnet: "private" });
    node = await vpc.launch("node", { subnet: "private", privateIp: NODE_IP });
    vpc.watchAttachments();

    // The real boot script, sourced, runs its network steps, its egress check and its secret step.
    bundle = join(dir.path, "bundle");
    writeTree(bundle, renderBastionBundle(config));
    const bootFile = join(dir.path, "deathstar-bastion-boot");
    writeFileSync(bootFile, renderBastionBootScript(config));
    expect(readFileSync(bootFile, "utf8")).toContain(`\nSECRETS=('${config.bastion.secrets.piholeWebPassword}' 'WEBPASSWORD' '${PIHOLE_SECRETS_ENV_FILE}'`);
    const steps = [
      `source ${bootFile}`,
      `BUNDLE_DIR=${bundle}`,
      "attach_persistent_eni",
      "route_via_eni",
      "wait_for_egress",
      // The secret step as main() runs it, on the script's own SECRETS (the Pi-hole password first).
      'write_secret "${SECRETS[@]:0:3}"',
    ].join(" && ");
    const boot = await vpc.exec(bastion.netns, "bash", ["-c", steps], { env: { ...bastion.awsEnv, CURL_CA_BUNDLE: certs.caFile }, timeoutMs: 300_000 });
    bootOutput = boot.stdout + boot.stderr;
    await vpc.expectOk(`boot script on the bastion:\n${bootOutput}`, boot);

    // The Talos asset download (Image Factory, on the internet) is not run; its output dir is made.
    mkdirSync(join(bundle, MATCHBOX_ASSETS_DIR), { recursive: true });
    const dockerDir = join(dir.path, "docker");
    mkdirSync(dockerDir);
    docker = await Dockerd.start(bastion.netns, dockerDir, compose, vpc.resolvConf(bastion));
    await importBastionImages(docker, config, dir.path, readFileSync(certs.caFile, "utf8"));
    await docker.run(["compose", "--file", join(bundle, "compose.yaml"), "up", "--detach", "--remove-orphans"]);
    // Every service answers on the bastion itself first: what fails after this is the network.
    const ports = [config.services.matchboxPort, ...config.services.registryCaches.map((c) => c.port)];
    try {
      for (const port of ports) {
        await waitUntil(`port ${port} to answer on the bastion itself`, async () => (await vpc!.exec(bastion.netns, "curl", [...CURL, "-o", "/dev/null", `http://127.0.0.1:${port}/`])).code === 0, {
          timeoutMs: 60_000,
        });
      }
    } catch (error) {
      const logs = await docker.run(["compose", "--file", join(bundle, "compose.yaml"), "logs", "--no-color", "--tail", "15"]).catch((e: Error) => e.message);
      throw new Error(`${(error as Error).message}\ncontainer logs:\n${logs}`);
    }
  });

  afterAll(async () => {
    if (docker) {
      await docker.run(["compose", "--file", join(bundle, "compose.yaml"), "down", "--timeout", "2"]).catch(() => undefined);
      await docker.stop();
    }
    await vpc?.destroy();
    await upstream?.stop();
    await moto?.stop();
    dir?.remove();
  });

  it("builds docker compose at the version the bastion downloads", () => {
    const version = execFileSync(toolchain().compose!, ["version", "--short"], { encoding: "utf8" }).trim();
    expect(`v${version.replace(/^v/, "")}`).toBe(COMPOSE_PLUGIN.version);
  });

  it("attaches the persistent ENI with the real boot script, through the EC2 API", async () => {
    expect(bootOutput).toContain("attached ENI");
    expect(bootOutput).toContain(`services answer on ${BASTION_IP} via eth1`);
    const { NetworkInterfaces } = await vpc!.aws.call("ec2", "describe_network_interfaces", {
      Filters: [{ Name: "addresses.private-ip-address", Values: [BASTION_IP] }],
    });
    expect(NetworkInterfaces[0].Attachment).toMatchObject({ InstanceId: bastion.id, DeviceIndex: 1 });
  });

  it("serves the node's iPXE script from matchbox at the bastion's address: amd64 Talos for the amd64 node", async () => {
    const script = await fromNode("matchbox", config.services.matchboxPort, `/ipxe?ip=${NODE_IP}&mac=02-00-00-00-00-11`);
    expect(script).toContain("#!ipxe");
    expect(script).toContain("talos.platform=metal");
    expect(script).toMatch(/^kernel \/assets\/talos\/v1\.11\.6\/amd64\/vmlinuz .* pti=on /m);
    expect(script).toContain("initrd /assets/talos/v1.11.6/amd64/initramfs.xz");
  });

  it("answers /v2/ on every registry cache port", async () => {
    for (const cache of config.services.registryCaches) {
      expect(await fromNode(`cache ${cache.name}`, cache.port, "/v2/"), cache.name).toBe("{}");
    }
  });

  it("pulls a blob through the docker.io cache from the stand-in upstream", async () => {
    const cache = config.services.registryCaches[0]!;
    const manifest = await fromNode("manifest through the cache", cache.port, `/v2/${REPOSITORY}/manifests/${TAG}`, ["-H", `Accept: ${MANIFEST_TYPE}`]);
    expect(sha256(Buffer.from(manifest))).toBe(image.manifestDigest);
    for (const digest of image.blobs.keys()) {
      const blob = await vpc!.exec(node.netns, "sh", ["-c", `curl ${CURL.join(" ")} -f http://${BASTION_IP}:${cache.port}/v2/${REPOSITORY}/blobs/${digest} | sha256sum`]);
      await vpc!.expectOk(`blob ${digest} through the cache`, blob);
      expect(`sha256:${blob.stdout.split(" ")[0]}`).toBe(digest);
    }
  });

  it("drops what a published port on Docker's bridge answers at the bastion's address (why the services use host networking)", async () => {
    const port = 8099;
    const id = (await docker!.run(["run", "--detach", "--network", "bridge", "--publish", `${port}:${port}`, config.images.matchbox, `-address=0.0.0.0:${port}`, "-data-path=/tmp", "-assets-path="])).trim();
    try {
      await waitUntil("the bridged matchbox to answer on the bastion itself", async () => (await vpc!.exec(bastion.netns, "curl", [...CURL, "-o", "/dev/null", `http://127.0.0.1:${port}/`])).code === 0, { timeoutMs: 30_000 });
      await expect(fromNode("bridged matchbox", port, "/")).rejects.toThrow(/EC2 source\/dest check dropped \d+ packet\(s\) leaving eni-\w+ \(bastion eth0, .*\) with another source address/);
    } finally {
      await docker!.run(["rm", "--force", id]);
    }
  });

  it("keeps IMDS one hop away: the host gets an answer, a container on Docker's bridge none", async () => {
    const url = `http://${IMDS_ADDRESS}/latest/meta-data/instance-id`;
    const host = await vpc!.exec(bastion.netns, "curl", [...CURL, "-o", "/dev/null", "-w", "%{http_code}", url]);
    expect(host.stdout, host.stderr).toBe("401"); // answered: no IMDSv2 token
    // A container on Docker's default bridge; curl runs in its network namespace.
    const id = (await docker!.run(["run", "--detach", "--network", "bridge", "--entrypoint", "/bin/sh", config.images.registry, "-c", "sleep 600"])).trim();
    try {
      const pid = (await docker!.run(["inspect", "--format", "{{.State.Pid}}", id])).trim();
      const container = spawnSync("nsenter", [`--net=/proc/${pid}/ns/net`, "curl", "-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", url], { encoding: "utf8" });
      // Connected (the SYN-ACK is the kernel's), but IMDS's answer dies at the bastion's hop.
      expect(container.stderr).toMatch(/timed out after \d+ milliseconds with 0 bytes received/);
    } finally {
      await docker!.run(["rm", "--force", id]);
    }
  });

  it("answers DNS on the bastion's address: lab records, and upstream names through Amazon DNS", async () => {
    const ask = async (name: string) => {
      await vpc!.resetCounters();
      const result = await vpc!.exec(node.netns, "python3", [VPC_TOOLS, "dns", BASTION_IP, "53", name]);
      await vpc!.expectOk(`DNS query for ${name} from the node to ${BASTION_IP}:53`, result);
      return result.stdout.trim();
    };
    expect(await ask(`talos-1.${config.services.localDomain}`)).toBe(NODE_IP);
    expect(await ask(upstreamHosts[0]!)).toBe(UPSTREAM_ADDRESS);
  });
});
