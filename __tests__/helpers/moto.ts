/**
 * moto's server mode (an AWS API emulator) on loopback for one test file: started on a free port,
 * polled until it answers, stopped (SIGTERM, then SIGKILL) even when the tests fail.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { SiteConfig } from "../../config/schema.js";
import { nodeArchitecture } from "../../config/talos.js";
import { TALOS_AMI_OWNER } from "../../constructs/talos-nodes.js";
import { talosArch } from "../../templates/talos-assets.js";
import { freePort, readyOrReleased, tempDir, type TempDir } from "./processes.js";

const execFileAsync = promisify(execFile);
const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const INVENTORY_SCRIPT = join(fileURLToPath(new URL(".", import.meta.url)), "aws_inventory.py");
const RELEASING_SERVER_SCRIPT = join(fileURLToPath(new URL(".", import.meta.url)), "moto_server.py");

/** What must be gone after `tofu destroy`: everything that costs money or holds an address. */
export interface AwsInventory {
  /** Non-default VPCs. */
  readonly vpcs: readonly string[];
  /** Instances in any state but terminated. */
  readonly instances: readonly string[];
  readonly networkInterfaces: readonly string[];
  /** Interfaces of deleted NAT gateways, which moto keeps (AWS deletes them with the gateway). */
  readonly deletedNatGatewayInterfaces: readonly string[];
  readonly volumes: readonly string[];
  readonly addresses: readonly string[];
}

/**
 * A public image moto should know, in the format of moto's MOTO_AMIS_PATH file. Stands in for
 * images that exist in AWS but not in moto (Sidero's Talos AMIs, an imported iPXE AMI).
 */
export interface MotoAmi {
  readonly ami_id: string;
  readonly name: string;
  readonly owner_id: string;
  readonly architecture: "arm64" | "x86_64";
  readonly root_device_name: string;
  readonly description?: string;
}

/** The iPXE AMI stand-in's id, for `talos.ipxeAmiId` in tests. */
export const IPXE_AMI_ID = "ami-0e1f2a3b4c5d6e7f8";

/**
 * moto knows neither Sidero's public Talos AMIs nor an operator's imported iPXE AMI: stand-ins
 * carrying the owner, name and architecture the stack looks them up by, for the config's release.
 * Sidero publishes both architectures of a release, so both stand in (a runbook moves the nodes to
 * amd64 on the same server); the iPXE AMI is the nodes' architecture.
 */
export function standInAmis(config: Readonly<SiteConfig>): MotoAmi[] {
  const { region } = config.aws;
  const talos = (ami_id: string, architecture: MotoAmi["architecture"]): MotoAmi => ({
    ami_id,
    name: `talos-${config.talos.version}-${region}-${talosArch(architecture)}`,
    owner_id: TALOS_AMI_OWNER,
    architecture,
    root_device_name: "/dev/xvda",
  });
  return [
    talos("ami-0a1b2c3d4e5f60718", "arm64"),
    talos("ami-0b2c3d4e5f6071829", "x86_64"),
    { ami_id: IPXE_AMI_ID, name: "ipxe", owner_id: "123456789012", architecture: nodeArchitecture(config), root_device_name: "/dev/sda1" },
  ];
}

export interface MotoOptions {
  /**
   * Images moto serves instead of its built-in list; launching from any other image id fails
   * (moto's AMI validation is switched on).
   * @default moto's built-in images, no validation
   */
  readonly amis?: readonly MotoAmi[];
  /**
   * Extra environment of the server, e.g. `MOTO_IAM_LOAD_MANAGED_POLICIES: "true"` so that AWS
   * managed policies exist to attach.
   * @default none
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Free a terminated instance's private address, as AWS does (moto_server.py), so that nodes at
   * fixed addresses can be launched again after a scale to 0.
   * @default false: moto as released, the address stays reserved
   */
  readonly releaseTerminatedAddresses?: boolean;
}

export class MotoServer {
  private constructor(
    private readonly process: ChildProcess,
    private readonly venv: string,
    /** Base URL every AWS endpoint of the provider points at. */
    readonly endpoint: string,
    private readonly output: { text: string },
    private readonly scratch: TempDir,
  ) {}

  static async start(venv: string, options: MotoOptions = {}): Promise<MotoServer> {
    const port = await freePort();
    const output = { text: "" };
    const scratch = tempDir("moto");
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, PYTHONUNBUFFERED: "1" };
    if (options.amis) {
      const amisFile = join(scratch.path, "amis.json");
      writeFileSync(amisFile, JSON.stringify(options.amis.map(motoAmiRecord)));
      Object.assign(env, { MOTO_AMIS_PATH: amisFile, MOTO_ENABLE_AMI_VALIDATION: "true" });
    }
    const [program, ...programArgs] = options.releaseTerminatedAddresses
      ? [join(venv, "bin", "python"), RELEASING_SERVER_SCRIPT]
      : [join(venv, "bin", "moto_server")];
    const child = spawn(program!, [...programArgs, "-H", HOST, "-p", String(port)], { stdio: ["ignore", "pipe", "pipe"], env });
    // Keep only the tail: moto logs every request.
    const keep = (chunk: Buffer) => (output.text = (output.text + chunk.toString()).slice(-8_000));
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    return readyOrReleased(
      new MotoServer(child, venv, `http://${HOST}:${port}`, output, scratch),
      (server) => server.waitUntilReady(),
      (server) => server.stop(),
    );
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.process.exitCode !== null) throw new Error(`moto_server exited with ${this.process.exitCode}:\n${this.output.text}`);
      try {
        const response = await fetch(`${this.endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2_000) });
        if (response.ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`moto_server did not answer on ${this.endpoint} within ${START_TIMEOUT_MS / 1000}s:\n${this.output.text}`);
  }

  /** Forgets every resource (between independent scenarios). */
  async reset(): Promise<void> {
    const response = await fetch(`${this.endpoint}/moto-api/reset`, { method: "POST", signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
  }

  /** Runs a boto3 script from the venv (boto3 ships with moto) against this server. */
  private async python(script: string, args: readonly string[] = []): Promise<string> {
    const { stdout } = await execFileAsync(join(this.venv, "bin", "python"), [script, ...args], {
      env: { ...process.env, ...this.awsEnv() },
      timeout: 60_000,
    });
    return stdout;
  }

  /** Leftovers that would cost money or hold addresses; all lists empty after a clean destroy. */
  async inventory(region: string): Promise<AwsInventory> {
    return JSON.parse(await this.python(INVENTORY_SCRIPT, [region])) as AwsInventory;
  }

  /** Dummy credentials and the endpoint, for child processes (boto3, the AWS CLI). */
  awsEnv(): Record<string, string> {
    return { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_ENDPOINT_URL: this.endpoint };
  }

  async stop(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.process.once("exit", () => resolve()));
      this.process.kill("SIGTERM");
      const timer = setTimeout(() => this.process.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    this.scratch.remove();
  }
}

/** The remaining fields moto's AMI loader requires, fixed for an EBS-backed HVM image. */
function motoAmiRecord(ami: MotoAmi): Record<string, unknown> {
  return {
    description: ami.name,
    public: true,
    virtualization_type: "hvm",
    state: "available",
    platform: null,
    image_type: "machine",
    hypervisor: "xen",
    root_device_type: "ebs",
    sriov: "simple",
    tags: {},
    ...ami,
  };
}
