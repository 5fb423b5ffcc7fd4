/**
 * The bastion bundle: every file the netboot host needs, keyed by path relative to the bundle
 * dir. It runs with `docker compose up -d` on any Docker host (the home fileserver); the AWS
 * bastion's cloud-init writes the same files to /opt/deathstar and adds only the AWS-specific
 * boot steps (persistent ENI and volume, secrets from SSM).
 */
import type { SiteConfig } from "../config/schema.js";
import { registryConfigPath, renderComposeFile, REGISTRY_STORAGE } from "./compose.js";
import { renderDnsmasqConfig } from "./dnsmasq.js";
import { FETCH_TALOS_ASSETS_SCRIPT, renderFetchTalosAssetsScript } from "./fetch-talos-assets.js";
import { renderMatchboxFiles } from "./matchbox.js";
import { FETCH_PI_FIRMWARE_SCRIPT, renderFetchPiFirmwareScript } from "./fetch-pi-firmware.js";
import { renderPiFiles } from "./raspberry-pi.js";
import { PIHOLE_HOSTS_FILE_NAME, renderPiholeHosts } from "./pihole.js";
import { renderRegistryCacheConfig, s3RootDirectory, type RegistryCache, type RegistryStorage } from "./registry.js";

export function renderBastionBundle(config: Readonly<SiteConfig>): Record<string, string> {
  const files: Record<string, string> = {
    "compose.yaml": renderComposeFile(config),
    "dnsmasq/dnsmasq.conf": renderDnsmasqConfig(config),
    [`pihole/${PIHOLE_HOSTS_FILE_NAME}`]: renderPiholeHosts(config),
    [FETCH_TALOS_ASSETS_SCRIPT]: renderFetchTalosAssetsScript(config),
  };
  for (const cache of config.services.registryCaches) {
    files[registryConfigPath(cache)] = renderRegistryCacheConfig(cache, { addr: `:${cache.port}`, storage: registryStorage(config, cache), expiryDays: config.bastion.cacheExpiryDays });
  }
  for (const [path, text] of Object.entries(renderMatchboxFiles(config))) files[`matchbox/${path}`] = text;
  if (config.raspberryPi.nodes.length === 0) return files;
  return { ...files, ...renderPiFiles(config), [FETCH_PI_FIRMWARE_SCRIPT]: renderFetchPiFirmwareScript(config) };
}

/** Where the bundle's cache keeps its blobs: its container's data dir, or its root directory in the bucket. */
function registryStorage(config: Readonly<SiteConfig>, cache: RegistryCache): RegistryStorage {
  return config.bastion.cacheStorage === "s3"
    ? { driver: "s3", region: config.aws.region, rootDirectory: s3RootDirectory(cache) }
    : { driver: "filesystem", rootDirectory: REGISTRY_STORAGE };
}

/** Bundle files that must be executable. */
export function isBundleScript(path: string): boolean {
  return path.endsWith(".sh");
}
