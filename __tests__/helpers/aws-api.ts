/**
 * boto3 calls against moto from one long-lived Python process (vpc_tools.py aws): a call costs a
 * round trip instead of a Python start. Errors name the call.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const VPC_TOOLS = join(fileURLToPath(new URL(".", import.meta.url)), "vpc_tools.py");

/** boto3 answers are loosely typed JSON; callers pick the fields they need. */
export type AwsAnswer = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export class AwsApi {
  private readonly child: ChildProcess;
  private readonly pending: ((line: string) => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(venv: string, endpoint: string, private readonly region: string) {
    this.child = spawn(join(venv, "bin", "python"), [VPC_TOOLS, "aws"], {
      stdio: ["pipe", "pipe", "inherit"],
      env: { ...process.env, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_ENDPOINT_URL: endpoint },
    });
    createInterface({ input: this.child.stdout! }).on("line", (line) => this.pending.shift()?.(line));
  }

  /** One API call, e.g. call("ec2", "describe_instances", {...}); calls run one at a time. */
  call(service: string, operation: string, args: Record<string, unknown> = {}): Promise<AwsAnswer> {
    const run = async () => {
      const line = await new Promise<string>((resolve, reject) => {
        if (this.child.exitCode !== null) return reject(new Error("the boto3 helper has exited"));
        this.pending.push(resolve);
        this.child.stdin!.write(`${JSON.stringify({ service, operation, region: this.region, args })}\n`);
      });
      const answer = JSON.parse(line) as { result?: AwsAnswer; error?: string };
      if (answer.error) throw new Error(`${service} ${operation}: ${answer.error}`);
      return answer.result;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.child.stdin!.end();
    this.child.kill();
  }
}
