/**
 * Config of one registry pull-through cache (distribution config.yml, version 0.1: the same keys in
 * 2.8 and 3.0). One container per upstream: the registry proxies exactly one remote, and expires
 * proxied content after `proxy.ttl` (3.x; 2.x ignores the key and keeps its hard-coded 7 days).
 * The settings that have a price (storage health check, TTL, redirects) come from
 * lib/registry-cache.ts, which the cost model prices from the same values.
 *
 * Storage is a directory, or (bastion.cacheStorage "s3") the registry's S3 driver: one bucket for
 * every cache, a root directory per cache, credentials from the instance role (no keys in the
 * file). The bucket name is known only at boot (it ends in the account id), so it comes from the
 * environment: REGISTRY_STORAGE_S3_BUCKET, distribution's override of `storage.s3.bucket`.
 */
import { stringify } from "yaml";
import { proxyTtlHours, REGISTRY_REDIRECT_DISABLED, storageHealthCheck } from "../lib/registry-cache.js";
import type { SiteConfig } from "../config/schema.js";

export type RegistryCache = SiteConfig["services"]["registryCaches"][number];

/** Where a cache keeps its blobs. */
export type RegistryStorage =
  /** A directory, e.g. "/var/lib/registry". */
  | { readonly driver: "filesystem"; readonly rootDirectory: string }
  /** The cache's root directory in the shared bucket (e.g. "/docker.io"), in `region`. */
  | { readonly driver: "s3"; readonly region: string; readonly rootDirectory: string };

/** Environment variable that sets the bucket of the S3 driver (`storage.s3.bucket`). */
export const S3_BUCKET_ENV = "REGISTRY_STORAGE_S3_BUCKET";

/** A cache's root directory in the shared bucket: its upstream's name, e.g. "/docker.io". */
export function s3RootDirectory(cache: RegistryCache): string {
  return `/${cache.name}`;
}

export interface RegistryCacheConfigOptions {
  /** Listen address, e.g. ":5000" inside the container or "127.0.0.1:5050" on a host. */
  readonly addr: string;
  readonly storage: RegistryStorage;
  /** bastion.cacheExpiryDays: the age at which proxied content expires (`proxy.ttl`). */
  readonly expiryDays: number;
  /**
   * Upstream to proxy.
   * @default cache.upstream
   */
  readonly remoteUrl?: string;
}

export function renderRegistryCacheConfig(cache: RegistryCache, options: RegistryCacheConfigOptions): string {
  const config = {
    version: 0.1,
    // No log.level: distribution's config parser sets "info" when it is unset (configuration.go).
    // The cache's name on every line; the container name says it is a registry.
    log: { fields: { cache: cache.name } },
    storage: {
      ...storageDriver(options.storage),
      // The proxy's scheduler deletes expired blobs; it needs delete enabled.
      delete: { enabled: true },
      cache: { blobdescriptor: "inmemory" },
      // Only the S3 driver redirects (a directory has no URL to send a client to).
      ...(options.storage.driver === "s3" ? { redirect: { disable: REGISTRY_REDIRECT_DISABLED } } : {}),
    },
    http: { addr: options.addr, headers: { "X-Content-Type-Options": ["nosniff"] } },
    ...healthSection(options.storage),
    proxy: { remoteurl: options.remoteUrl ?? cache.upstream, ttl: `${proxyTtlHours(options.expiryDays)}h` },
  };
  return stringify(config, { lineWidth: 0 });
}

/**
 * `health.storagedriver`: polled on a directory, off on S3 (lib/registry-cache.ts says why). Off
 * is the section left out: `enabled` is false unless set (RegisterHealthChecks in distribution's
 * registry/handlers/app.go registers the check only when it is true), and every byte counts
 * against EC2's 16 KB of user-data when ten caches are configured.
 */
function healthSection(storage: RegistryStorage): Record<string, unknown> {
  const check = storageHealthCheck(storage.driver === "s3" ? "s3" : "ebs");
  return check.enabled ? { health: { storagedriver: { enabled: true, interval: `${check.intervalSeconds}s`, threshold: check.threshold } } } : {};
}

/**
 * The storage driver section. S3 option names are those of distribution's s3-aws driver (2.8.3
 * and 3.0.0 read the same keys). `objectacl`: the bucket enforces bucket-owner ownership (ACLs
 * disabled), where S3 refuses a PUT with any ACL but bucket-owner-full-control, and the driver
 * sends "private" unless told otherwise. `encrypt`: SSE-S3 on every object, as the bucket's default.
 */
function storageDriver(storage: RegistryStorage): Record<string, unknown> {
  if (storage.driver === "filesystem") return { filesystem: { rootdirectory: storage.rootDirectory } };
  return { s3: { region: storage.region, rootdirectory: storage.rootDirectory, encrypt: true, objectacl: "bucket-owner-full-control" } };
}
