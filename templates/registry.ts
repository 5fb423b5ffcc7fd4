/**
 * Config of one registry:2 pull-through cache (distribution 2.8 config.yml). One container per
 * upstream: registry 2.x proxies exactly one remote, and expires proxied content after 7 days
 * (hard-coded in 2.x).
 */
import { stringify } from "yaml";
import type { SiteConfig } from "../config/schema.js";

export type RegistryCache = SiteConfig["services"]["registryCaches"][number];

export interface RegistryCacheConfigOptions {
  /** Listen address, e.g. ":5000" inside the container or "127.0.0.1:5050" on a host. */
  readonly addr: string;
  /** Storage directory, e.g. "/var/lib/registry". */
  readonly rootDirectory: string;
  /**
   * Upstream to proxy.
   * @default cache.upstream
   */
  readonly remoteUrl?: string;
}

export function renderRegistryCacheConfig(cache: RegistryCache, options: RegistryCacheConfigOptions): string {
  const config = {
    version: 0.1,
    log: { level: "info", fields: { service: "registry", cache: cache.name } },
    storage: {
      filesystem: { rootdirectory: options.rootDirectory },
      // The proxy's scheduler deletes expired blobs; it needs delete enabled.
      delete: { enabled: true },
      cache: { blobdescriptor: "inmemory" },
    },
    http: { addr: options.addr, headers: { "X-Content-Type-Options": ["nosniff"] } },
    health: { storagedriver: { enabled: true, interval: "10s", threshold: 3 } },
    proxy: { remoteurl: options.remoteUrl ?? cache.upstream },
  };
  return stringify(config, { lineWidth: 0 });
}
