/**
 * What the registry caches do that has a price, in one place: templates/registry.ts renders it into
 * each cache's config.yml and cost/rules.ts prices the requests it implies (the S3 bucket's lines).
 * The behaviour is distribution v3's (registry:3.x); 2.8 reads the same keys but ignores proxy.ttl.
 */
import type { CacheStorage } from "../config/schema.js";

/**
 * The storage driver health check, per storage. distribution's RegisterHealthChecks
 * (registry/handlers/app.go) polls `driver.Stat("/")` every `interval` while
 * `health.storagedriver.enabled` is true; with the s3-aws driver a Stat is a HeadObject and, on the
 * 404 a root directory returns, a ListObjectsV2 (storage/driver/s3-aws/s3.go). At 10 s that is
 * 360 HEAD + 360 LIST an hour per cache: 5 caches × ~152 bastion hours ≈ 274k LIST a month, about
 * $1.37 at $0.005 per 1,000, more than the bytes they cache. On S3 the check is off: a bucket that
 * stops answering shows in the pulls themselves (the compose health check asks /v2/, which reads no
 * storage). On a local directory a Stat is a system call, so the check stays.
 */
export function storageHealthCheck(storage: CacheStorage): { readonly enabled: false } | { readonly enabled: true; readonly intervalSeconds: number; readonly threshold: number } {
  return storage === "s3" ? { enabled: false } : { enabled: true, intervalSeconds: 10, threshold: 3 };
}

/**
 * `proxy.ttl`: how long a cache keeps proxied content before its scheduler deletes it. distribution
 * v3 defaults to 7 days (`repositoryTTL = 24 * 7 * time.Hour`, registry/proxy/proxyregistry.go);
 * weekly sessions would then refill the cache from upstream every session. It is set to
 * bastion.cacheExpiryDays instead, the same age the bucket's lifecycle rule deletes at: both count
 * from the write, and S3 rounds its expiry up to the next midnight UTC, so the bucket never removes
 * a blob the registry still lists (the registry would answer a node with a 404). The rule stays
 * as the backstop for content whose expiry the registry missed (a scheduler state lost with the
 * root volume).
 */
export function proxyTtlHours(cacheExpiryDays: number): number {
  return cacheExpiryDays * 24;
}

/**
 * `storage.redirect.disable`. By default distribution answers a blob GET on S3 with a redirect to a
 * pre-signed S3 URL (app.go adds `storage.EnableRedirect` unless redirect.disable is true), so the
 * nodes would fetch layers from S3 themselves, through the gateway endpoint. Redirects are off:
 * every byte passes through the cache on the bastion, the nodes need no route or policy to S3, and
 * a pull costs the same GET requests either way (the registry reads the blob in their place).
 */
export const REGISTRY_REDIRECT_DISABLED = true;
