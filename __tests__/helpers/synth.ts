/** Test helpers: build a validated config from overrides and synthesize the stack to parsed JSON. */
import { Testing } from "cdktf";
import { ConfigError, loadSiteConfig, mergeOverride, validateSiteConfig } from "../../config/load.js";
import type { SiteConfig } from "../../config/schema.js";
import { SITES, type SiteName } from "../../config/sites.js";
import { FIRST_DEFAULTS } from "../../config/designs.js";
import { DeathStarStack } from "../../stacks/deathstar.js";

export type DeepPartial<T> = T extends readonly (infer U)[] ? readonly U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export function siteConfig(overrides: DeepPartial<SiteConfig> | Record<string, unknown> = {}, site: SiteName = "aws"): Readonly<SiteConfig> {
  return validateSiteConfig(mergeOverride(SITES[site], overrides), "test");
}

/**
 * The project's first defaults (config/designs.ts FIRST_DEFAULTS: a NAT instance, the caches on a
 * gp3 volume, an on-demand bastion) with `overrides` on top: for tests of those modes, which the
 * default site no longer selects.
 */
export function firstDefaultsConfig(overrides: DeepPartial<SiteConfig> | Record<string, unknown> = {}): Readonly<SiteConfig> {
  return siteConfig(mergeOverride(FIRST_DEFAULTS, overrides) as Record<string, unknown>);
}

/** The problem lines validation reports for `overrides` over a built-in site; empty when the config is valid. */
export function configProblems(overrides: DeepPartial<SiteConfig> | Record<string, unknown> = {}, site: SiteName = "aws"): string[] {
  try {
    siteConfig(overrides, site);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

/** The ConfigError that loading the override file `configFile` raises; fails the test when the file is accepted. */
export function configRefusal(configFile: string): ConfigError {
  try {
    loadSiteConfig({ configFile });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw new Error(`${configFile}: expected a ConfigError, got ${String(error)}`);
  }
  throw new Error(`${configFile} was accepted`);
}

export interface SynthesizedStack {
  readonly terraform: Record<string, unknown>;
  readonly provider: Record<string, unknown>;
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, Record<string, unknown>>;
  readonly variable?: Record<string, Record<string, unknown>>;
  readonly locals?: Record<string, unknown>;
  readonly moved?: unknown[];
  readonly import?: unknown[];
  readonly removed?: unknown[];
}

/** The synthesized JSON of each config synthesized so far in this worker (the fast project shares modules across files), by working directory and config. */
const synthesized = new Map<string, string>();

/**
 * The stack `config` synthesizes, parsed: a fresh copy for each caller to read or change. A config
 * synthesizes the same JSON every time, so each distinct config is synthesized once per worker;
 * one that reads the project on disk (an adopt file, module directories) is synthesized at every call.
 */
export function synthStack(config: Readonly<SiteConfig> = siteConfig()): SynthesizedStack {
  const readsDisk = config.existing.adoptFile !== undefined || config.existing.modules.length > 0;
  const key = JSON.stringify([process.cwd(), config]);
  let json = readsDisk ? undefined : synthesized.get(key);
  if (json === undefined) {
    const app = Testing.app();
    const stack = new DeathStarStack(app, config);
    // Validations on, as in `cdktf synth`: the security rules run there.
    json = Testing.synth(stack, true);
    if (!readsDisk) synthesized.set(key, json);
  }
  return JSON.parse(json) as SynthesizedStack;
}

/** Every `type.name` resource address in the synthesized stack, sorted. */
export function resourceAddresses(stack: SynthesizedStack): string[] {
  return Object.entries(stack.resource)
    .flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`))
    .sort();
}

/** One resource's attributes; fails the test when absent. */
export function resource(stack: SynthesizedStack, type: string, name: string): Record<string, unknown> {
  const found = stack.resource[type]?.[name];
  if (!found) throw new Error(`${type}.${name} is not in the stack; have ${resourceAddresses(stack).join(", ")}`);
  return found;
}

/** Decodes a launch template's base64 user_data. */
export function decodeUserData(template: Record<string, unknown>): string {
  return Buffer.from(String(template.user_data), "base64").toString("utf8");
}

/** The override of a site with the registry caches in S3 (bastion.cacheStorage "s3" needs registry 3). */
export const S3_CACHE_OVERRIDE = { bastion: { cacheStorage: "s3" }, images: { registry: "registry:3.0.0" } } as const;

/** The cache bucket and its settings, in address order (bastion.cacheStorage "s3"). */
export const CACHE_BUCKET_ADDRESSES = [
  "aws_s3_bucket.registry_cache",
  "aws_s3_bucket_lifecycle_configuration.registry_cache",
  "aws_s3_bucket_ownership_controls.registry_cache",
  "aws_s3_bucket_policy.registry_cache",
  "aws_s3_bucket_public_access_block.registry_cache",
  "aws_s3_bucket_server_side_encryption_configuration.registry_cache",
] as const;

/**
 * CozyStack on amd64 nodes beside the Graviton bastion: the README's way to turn it on (upstream
 * CozyStack publishes amd64 images only), with the budget its three t3a.xlarge nodes need.
 */
export const AMD64_COZYSTACK_OVERRIDE = {
  talos: { architecture: "x86_64", nodeInstanceType: "t3a.xlarge", cozystack: { enabled: true } },
  budget: { monthlyUsd: 20 },
} as const;

/** The same on the 1.x release: its Talos version and a bundle without KubeVirt. */
export const AMD64_COZYSTACK_V1_OVERRIDE = {
  talos: { architecture: "x86_64", nodeInstanceType: "t3a.xlarge", version: "v1.13.6", cozystack: { enabled: true, version: "v1.6.2", bundle: "isp-full-no-iaas" } },
  budget: { monthlyUsd: 20 },
} as const;
