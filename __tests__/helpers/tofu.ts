/**
 * Drives the real OpenTofu binary from the cached toolchain in one configuration directory,
 * offline (providers come from the filesystem mirror), with every AWS endpoint on moto.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { CACHE_DIR, type Toolchain } from "./toolchain.js";

const execFileAsync = promisify(execFile);
/** One command never runs longer than this (apply against moto takes seconds to a minute). */
const COMMAND_TIMEOUT_MS = 10 * 60_000;

/**
 * Go's collector target (GOGC) for OpenTofu and the provider in tests. Each command builds and
 * decodes the AWS provider's whole schema, garbage seconds later; collecting at 400 % heap growth
 * instead of Go's default 100 % cut the CPU of a plan of the default stack from 7.7 s to 5.6 s and
 * of a validate from 3.8 s to 3.1 s, for a few hundred MB more per process. Only when memory is
 * reclaimed changes, not what either program does.
 */
export const TOFU_GOGC = "400";

/**
 * OpenTofu merges files named `override.tf.json` or `*_override.tf.json` over the rest of the
 * configuration (a name like `moto.override.tf.json` would be read as an ordinary file and clash).
 */
export const MOTO_OVERRIDE_FILE = "moto_override.tf.json";

/**
 * The provider endpoint each resource/data type prefix calls. A type the stack gains that is not
 * listed here fails the test instead of silently calling real AWS.
 */
const SERVICE_BY_TYPE_PREFIX: readonly (readonly [RegExp, string | readonly string[] | undefined])[] = [
  [/^aws_(partition|region|default_tags)$/, undefined], // answered by the provider itself
  [/^terraform_data$/, undefined], // OpenTofu's own, no AWS call
  [/^aws_caller_identity$/, "sts"],
  [/^aws_autoscaling_/, "autoscaling"],
  [/^aws_iam_/, "iam"],
  [/^aws_budgets_/, "budgets"],
  [/^aws_ssm_/, "ssm"],
  [/^aws_sns_/, "sns"],
  [/^aws_sqs_/, "sqs"],
  [/^aws_cloudwatch_log_/, "logs"],
  [/^aws_cloudwatch_metric_alarm$/, "cloudwatch"],
  // The provider reads and writes a bucket's tags through S3 Control (ListTagsForResource).
  [/^aws_s3_bucket$/, ["s3", "s3control"]],
  [/^aws_s3_/, "s3"],
  [/^aws_kms_/, "kms"],
  [/^aws_scheduler_/, "scheduler"],
  [
    /^aws_(vpc|vpc_.*|subnet|route|route_table|route_table_association|internet_gateway|nat_gateway|eip|eip_association|security_group|default_security_group|security_group_rule|network_interface|network_interface_attachment|launch_template|instance|ebs_volume|volume_attachment|ami|ami_ids|availability_zones|key_pair|ec2_.*|default_network_acl|default_route_table|flow_log)$/,
    "ec2",
  ],
];

export interface TerraformJson {
  readonly provider?: Record<string, unknown>;
  readonly resource?: Record<string, unknown>;
  readonly data?: Record<string, unknown>;
  readonly module?: Record<string, unknown>;
}

/** The AWS endpoint names (provider `endpoints` keys) a synthesized configuration needs. */
function endpointServices(config: TerraformJson): string[] {
  const services = new Set<string>(["sts"]); // the provider checks its credentials through STS
  const types = [...Object.keys(config.resource ?? {}), ...Object.keys(config.data ?? {})];
  for (const type of types) {
    const rule = SERVICE_BY_TYPE_PREFIX.find(([pattern]) => pattern.test(type));
    if (!rule) throw new Error(`no AWS endpoint known for ${type}: add it to SERVICE_BY_TYPE_PREFIX so tests never reach real AWS`);
    for (const service of [rule[1] ?? []].flat()) services.add(service);
  }
  return [...services].sort();
}

/**
 * Where moto 5.2.5 answers differently from AWS, so that a second plan would show a change AWS
 * would not. The override ignores exactly these attributes on exactly these resources; every
 * other attribute of every resource must still plan as "no changes".
 */
const MOTO_GAPS: readonly { readonly type: string; readonly applies?: (attributes: Record<string, unknown>) => boolean; readonly ignore: readonly string[]; readonly why: string }[] = [
  { type: "aws_vpc_dhcp_options", ignore: ["tags", "tags_all"], why: "CreateDhcpOptions drops TagSpecifications, so the tags never read back" },
  {
    type: "aws_s3_bucket",
    ignore: ["tags", "tags_all"],
    why: "the bucket's tags read back empty through S3 Control's ListTagsForResource (the provider's read), so every plan would add them again",
  },
  {
    type: "aws_launch_template",
    ignore: ["tag_specifications"],
    why: "the template's own tags (resource type launch-template, from default_tags) come back inside LaunchTemplateData.TagSpecifications",
  },
  ...["aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"].map((type) => ({
    type,
    applies: (attributes: Record<string, unknown>) => attributes.referenced_security_group_id !== undefined,
    ignore: ["description"],
    why: "DescribeSecurityGroupRules leaves out the description of a rule that references a security group",
  })),
];

/**
 * Resource types moto 5.2.5 cannot serve at all. They still pass `tofu validate`; the override
 * gives them `count = 0`, so apply, plan and destroy run without them.
 */
const MOTO_MISSING: readonly { readonly type: string; readonly why: string }[] = [
  { type: "aws_budgets_budget", why: "Budgets has no ListTagsForResource/TagResource, which the provider calls for the budget's tags (apply hangs retrying)" },
  {
    type: "aws_cloudwatch_metric_alarm",
    why: "moto answers CloudWatch only in the query protocol, and the provider's CloudWatch client speaks AWS's newer Smithy protocol: PutMetricAlarm gets a 404 (integration/default-site.test.ts puts the synthesized alarm through the query API instead)",
  },
];

/** What the override must cover: endpoints, every aws provider block (by alias), the moto gaps. */
export interface MotoTargets {
  readonly services: readonly string[];
  /** Aliases of the configuration's aws provider blocks; undefined = the default one. */
  readonly aliases: readonly (string | undefined)[];
  /** `resource.<type>.<name>.lifecycle.ignore_changes` for the resources a moto gap affects. */
  readonly ignoreChanges?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  /** Resources of types moto cannot serve: `type.name` addresses. */
  readonly missing?: readonly string[];
}

/** The endpoints, provider aliases and moto-gap resources of a synthesized configuration. */
export function motoTargets(config: TerraformJson): MotoTargets {
  const blocks = (config.provider?.aws ?? [{}]) as readonly { alias?: string }[];
  const ignoreChanges: Record<string, Record<string, string[]>> = {};
  for (const gap of MOTO_GAPS) {
    for (const [name, attributes] of Object.entries((config.resource?.[gap.type] ?? {}) as Record<string, Record<string, unknown>>)) {
      if (gap.applies && !gap.applies(attributes)) continue;
      // An override replaces ignore_changes as a whole: keep what the stack itself ignores.
      const own = ((attributes.lifecycle as { ignore_changes?: string[] } | undefined)?.ignore_changes ?? []);
      (ignoreChanges[gap.type] ??= {})[name] = [...new Set([...own, ...gap.ignore])];
    }
  }
  const missing = MOTO_MISSING.flatMap(({ type }) => Object.keys(config.resource?.[type] ?? {}).map((name) => `${type}.${name}`));
  return { services: endpointServices(config), aliases: blocks.map((block) => block.alias), ignoreChanges, missing };
}

/**
 * The test-time override: pins the provider version actually built (the shipped stack keeps the
 * version its bindings were generated from), points every endpoint of every aws provider block at
 * moto with dummy keys (override files merge provider blocks by alias, so each needs its entry),
 * ignores the attributes of the moto gaps and leaves out the types moto cannot serve.
 *
 * The provider does ask moto's STS for the account id (no skip_requesting_account_id): without it
 * the provider cannot tell its own account from another and reads every rule that references a
 * security group back as "<account>/sg-…", a change on every plan.
 */
export function motoOverride(endpoint: string, providerVersion: string, targets: MotoTargets): object {
  const settings = {
    access_key: "test",
    secret_key: "test",
    skip_credentials_validation: true,
    skip_metadata_api_check: true,
    endpoints: [Object.fromEntries(targets.services.map((service) => [service, endpoint]))],
    // moto answers S3 on its own address: bucket names cannot be host names there.
    ...(targets.services.includes("s3") ? { s3_use_path_style: true } : {}),
  };
  const resource: Record<string, Record<string, object>> = {};
  for (const [type, byName] of Object.entries(targets.ignoreChanges ?? {})) {
    for (const [name, ignore] of Object.entries(byName)) (resource[type] ??= {})[name] = { lifecycle: { ignore_changes: ignore } };
  }
  for (const address of targets.missing ?? []) {
    const [type, name] = address.split(".") as [string, string];
    (resource[type] ??= {})[name] = { count: 0 };
  }
  return {
    terraform: { required_providers: { aws: { source: "hashicorp/aws", version: providerVersion } } },
    provider: { aws: targets.aliases.map((alias) => (alias === undefined ? settings : { alias, ...settings })) },
    ...(Object.keys(resource).length > 0 ? { resource } : {}),
  };
}

export function writeMotoOverride(dir: string, endpoint: string, providerVersion: string, targets: MotoTargets): void {
  writeFileSync(join(dir, MOTO_OVERRIDE_FILE), `${JSON.stringify(motoOverride(endpoint, providerVersion, targets), null, 2)}\n`);
}

export interface TofuResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Plan JSON (`tofu show -json <planfile>`), only the parts the tests read. */
export interface PlanJson {
  readonly resource_changes?: readonly {
    readonly address: string;
    readonly change: { readonly actions: readonly string[]; readonly importing?: unknown };
    readonly previous_address?: string;
  }[];
}

/** Addresses per planned action: "create", "update", "delete", "replace", "no-op", "read". */
export function planActions(plan: PlanJson): Record<string, string[]> {
  const byAction: Record<string, string[]> = {};
  for (const change of plan.resource_changes ?? []) {
    const actions = change.change.actions;
    const action = actions.includes("delete") && actions.includes("create") ? "replace" : actions.join("+");
    (byAction[action] ??= []).push(change.address);
  }
  return byAction;
}

export class Tofu {
  constructor(
    private readonly toolchain: Toolchain,
    /** The configuration directory (where cdk.tf.json or *.tf lives). */
    readonly dir: string,
    /** More environment for every run, e.g. {@link motoProxyEnv}. */
    private readonly extraEnv: Readonly<Record<string, string>> = {},
  ) {}

  /** Runs tofu; resolves with the exit code unless it is not one of `okCodes`. */
  async run(args: readonly string[], okCodes: readonly number[] = [0]): Promise<TofuResult> {
    const result = await execFileAsync(this.toolchain.tofu, [...args], {
      cwd: this.dir,
      env: this.env(),
      timeout: COMMAND_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code?: number | string; stdout?: string; stderr?: string; killed?: boolean }) => ({
        code: typeof error.code === "number" ? error.code : -1,
        stdout: error.stdout ?? "",
        stderr: `${error.stderr ?? ""}${error.killed ? `\n(killed after ${COMMAND_TIMEOUT_MS / 1000}s)` : ""}`,
      }),
    );
    if (!okCodes.includes(result.code)) {
      throw new Error(`tofu ${args.join(" ")} exited ${result.code} in ${this.dir}:\n${tail(result.stderr || result.stdout)}`);
    }
    return result;
  }

  init(): Promise<TofuResult> {
    return this.run(["init", "-input=false", "-no-color"]);
  }

  validate(): Promise<TofuResult> {
    return this.run(["validate", "-no-color"]);
  }

  apply(vars: Readonly<Record<string, string | number>> = {}): Promise<TofuResult> {
    return this.run(["apply", "-auto-approve", "-input=false", "-no-color", ...varArgs(vars)]);
  }

  /** `plan -detailed-exitcode`: 0 = no changes, 2 = changes (1 = error, thrown). */
  async planExitCode(vars: Readonly<Record<string, string | number>> = {}): Promise<TofuResult> {
    return this.run(["plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false", ...varArgs(vars)], [0, 2]);
  }

  /** Plans into a file and returns `tofu show -json` of it. */
  async planJson(vars: Readonly<Record<string, string | number>> = {}): Promise<PlanJson> {
    await this.run(["plan", "-input=false", "-no-color", "-out=tfplan", ...varArgs(vars)]);
    const { stdout } = await this.run(["show", "-json", "-no-color", "tfplan"]);
    return JSON.parse(stdout) as PlanJson;
  }

  destroy(vars: Readonly<Record<string, string | number>> = {}): Promise<TofuResult> {
    return this.run(["destroy", "-auto-approve", "-input=false", "-no-color", ...varArgs(vars)]);
  }

  private env(): NodeJS.ProcessEnv {
    const pluginCache = join(CACHE_DIR, "plugin-cache");
    mkdirSync(pluginCache, { recursive: true });
    const { AWS_PROFILE: _profile, AWS_SESSION_TOKEN: _token, ...inherited } = process.env;
    return {
      ...inherited,
      TF_CLI_CONFIG_FILE: this.toolchain.cliConfigFile,
      // One shared cache: `init` links the provider instead of copying it for every directory.
      TF_PLUGIN_CACHE_DIR: pluginCache,
      TF_IN_AUTOMATION: "1",
      TF_INPUT: "0",
      CHECKPOINT_DISABLE: "1",
      GOGC: TOFU_GOGC,
      // The provider must never find real credentials or call real AWS.
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_EC2_METADATA_DISABLED: "true",
      ...this.extraEnv,
    };
  }
}

/**
 * The provider reads an S3 bucket's tags through S3 Control, whose client puts the account id in
 * front of the endpoint's host ("123456789012.127.0.0.1"), a name no resolver knows. With moto as
 * the HTTP proxy, Go hands such a request to moto unresolved, and moto routes its /v20180820/ path
 * to S3 Control. Requests to loopback addresses (every other endpoint) bypass a proxy in Go.
 */
export function motoProxyEnv(endpoint: string, targets: MotoTargets): Record<string, string> {
  return targets.services.includes("s3control") ? motoProxy(endpoint) : {};
}

/** What goes to moto directly rather than through it as a proxy: every endpoint the override names. */
export const MOTO_NO_PROXY = "127.0.0.1,localhost";

/** moto as tofu's HTTP proxy whatever the configuration calls (loopback endpoints go direct). */
export function motoProxy(endpoint: string): Record<string, string> {
  return { HTTP_PROXY: endpoint, NO_PROXY: MOTO_NO_PROXY };
}

function varArgs(vars: Readonly<Record<string, string | number>>): string[] {
  return Object.entries(vars).map(([name, value]) => `-var=${name}=${value}`);
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
