/**
 * compose.yaml of the bastion: one Compose project with every service container. Paths are
 * relative to the bundle dir, so the same file runs on the AWS bastion (bundle in
 * /opt/deathstar, `data/` the persistent volume) and on a plain Docker host at home.
 *
 * Every service nodes reach uses host networking. Behind Docker's bridge, a reply from a
 * published port is routed before Docker un-NATs it, with the container's address as source: no
 * `from <ENI address>` rule matches, the main table sends it out the primary ENI, and EC2's
 * source/destination check drops a packet carrying the other ENI's address (docs/bastion.md).
 */
import { stringify } from "yaml";
import { registryCacheServiceName } from "../config/rules.js";
import type { SiteConfig } from "../config/schema.js";
import type { RegistryCache } from "./registry.js";
import { ARM64_IPXE_DIR, TFTP_ROOT } from "./dnsmasq.js";
import { PI_BOOTCODE } from "./raspberry-pi.js";
import { PIHOLE_HOSTS_FILE_NAME, PIHOLE_SECRETS_ENV_FILE, renderPiholeEnvironment } from "./pihole.js";
import { resourceName } from "../config/site-view.js";

export const COMPOSE_PROJECT = resourceName("bastion");
/** Everything that must survive a replacement lives under this bundle-relative dir. */
export const DATA_DIR = "data";
/** Files dnsmasq serves over TFTP beside its image's own, on the host, relative to the bundle dir. */
export const TFTP_HOST_DIR = `${DATA_DIR}/tftpboot`;
/** matchbox's data dir (-data-path) on the host, relative to the bundle dir. */
export const MATCHBOX_HOST_DIR = `${DATA_DIR}/matchbox`;
/** Storage root inside a cache's container. */
export const REGISTRY_STORAGE = "/var/lib/registry";
/**
 * Env file of every cache in S3 mode, relative to the bundle dir: the bucket's name
 * (REGISTRY_STORAGE_S3_BUCKET), written by the AWS boot script, which learns the account id at boot.
 */
export const REGISTRY_S3_ENV_FILE = "registry/s3.env";
/** Root-only env file holding TS_AUTHKEY, relative to the bundle dir. */
export const TAILSCALE_SECRETS_ENV_FILE = "secrets/tailscale.env";

const MATCHBOX_DATA = "/var/lib/matchbox";
/** Containers come back after a crash; the boot unit removes them on shutdown (see bastion-boot.ts). */
const restart = "unless-stopped";

/** Bundle-relative path of a cache's config.yml, e.g. "registry/docker.io/config.yml". */
export function registryConfigPath(cache: RegistryCache): string {
  return `registry/${cache.name}/config.yml`;
}

/** Compose service name of a cache, e.g. "registry-docker-io". */
export function registryServiceName(cache: RegistryCache): string {
  return registryCacheServiceName(cache.name);
}

/**
 * Root-only env file of a cache with upstream credentials, relative to the bundle dir, e.g.
 * "secrets/registry-docker-io.env". It sets REGISTRY_PROXY_USERNAME and REGISTRY_PROXY_PASSWORD,
 * distribution's environment overrides of `proxy.username` and `proxy.password` in config.yml.
 */
export function registryCredentialsEnvFile(cache: RegistryCache): string {
  return `secrets/${registryServiceName(cache)}.env`;
}

export function renderComposeFile(config: Readonly<SiteConfig>): string {
  const services: Record<string, unknown> = {
    dnsmasq: dnsmasqService(config),
    matchbox: matchboxService(config),
    pihole: piholeService(config),
  };
  for (const cache of config.services.registryCaches) services[registryServiceName(cache)] = registryService(config, cache);
  if (config.bastion.tailscale.enabled) services.tailscale = tailscaleService(config);
  const header = "# Rendered from the site config; edit the config, not this file.\n";
  return header + stringify({ name: COMPOSE_PROJECT, services }, { lineWidth: 0 });
}

function dnsmasqService(config: Readonly<SiteConfig>) {
  return {
    image: config.images.dnsmasq,
    restart,
    // DHCP needs broadcast on the real interface; TFTP replies from ephemeral ports.
    network_mode: "host",
    cap_add: ["NET_ADMIN"],
    command: ["--keep-in-foreground", "--conf-file=/etc/deathstar/dnsmasq.conf"],
    volumes: [
      "./dnsmasq/dnsmasq.conf:/etc/deathstar/dnsmasq.conf:ro",
      `./${TFTP_HOST_DIR}/${ARM64_IPXE_DIR}:${TFTP_ROOT}/${ARM64_IPXE_DIR}:ro`,
      // The Pis' files beside the image's own (scripts/fetch-pi-firmware.sh assembles them).
      ...(config.raspberryPi.nodes.length > 0 ? [`./${TFTP_HOST_DIR}/${PI_BOOTCODE}:${TFTP_ROOT}/${PI_BOOTCODE}:ro`] : []),
      ...config.raspberryPi.nodes.map((pi) => `./${TFTP_HOST_DIR}/${pi.serial}:${TFTP_ROOT}/${pi.serial}:ro`),
    ],
  };
}

function matchboxService(config: Readonly<SiteConfig>) {
  const port = config.services.matchboxPort;
  return {
    image: config.images.matchbox,
    restart,
    network_mode: "host",
    // matchbox's default -address is 127.0.0.1:8080, reachable from nowhere else.
    command: [`-address=0.0.0.0:${port}`, `-data-path=${MATCHBOX_DATA}`, `-assets-path=${MATCHBOX_DATA}/assets`, "-log-level=info"],
    volumes: [
      `./${MATCHBOX_HOST_DIR}:${MATCHBOX_DATA}`,
      `./matchbox/profiles:${MATCHBOX_DATA}/profiles:ro`,
      `./matchbox/groups:${MATCHBOX_DATA}/groups:ro`,
    ],
  };
}

function piholeService(config: Readonly<SiteConfig>) {
  return {
    image: config.images.pihole,
    restart,
    // Host networking: DNS on :53 of every address, and Pi-hole sees the real client addresses.
    network_mode: "host",
    environment: renderPiholeEnvironment(config),
    env_file: [`./${PIHOLE_SECRETS_ENV_FILE}`],
    volumes: [
      `./${DATA_DIR}/pihole/etc-pihole:/etc/pihole`,
      `./${DATA_DIR}/pihole/etc-dnsmasq.d:/etc/dnsmasq.d`,
      `./pihole/${PIHOLE_HOSTS_FILE_NAME}:/etc/dnsmasq.d/${PIHOLE_HOSTS_FILE_NAME}:ro`,
    ],
  };
}

function registryService(config: Readonly<SiteConfig>, cache: RegistryCache) {
  const s3 = config.bastion.cacheStorage === "s3";
  const envFiles = [...(s3 ? [REGISTRY_S3_ENV_FILE] : []), ...(cache.credentialsParameter === undefined ? [] : [registryCredentialsEnvFile(cache)])];
  return {
    image: config.images.registry,
    restart,
    // Host networking: the cache listens on its own port (http.addr in its config.yml), and in S3
    // mode reaches the instance role through IMDSv2 without the extra hop a bridge would add.
    network_mode: "host",
    // registry 3 exports OpenTelemetry traces to localhost:4318 unless told not to, logging an
    // error for every batch nobody receives; registry 2 has no tracing and ignores the variable.
    environment: { OTEL_TRACES_EXPORTER: "none" },
    ...(envFiles.length === 0 ? {} : { env_file: envFiles.map((file) => `./${file}`) }),
    volumes: [
      `./${registryConfigPath(cache)}:/etc/docker/registry/config.yml:ro`,
      // In S3 mode the blobs live in the bucket: nothing of the cache stays on the host.
      ...(s3 ? [] : [`./${DATA_DIR}/registry/${cache.name}:${REGISTRY_STORAGE}`]),
    ],
    healthcheck: {
      // The registry image is Alpine-based: busybox wget is there, curl is not.
      test: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${cache.port}/v2/`],
      interval: "30s",
      timeout: "5s",
      retries: 3,
      start_period: "20s",
    },
  };
}

function tailscaleService(config: Readonly<SiteConfig>) {
  return {
    image: config.images.tailscale,
    restart,
    network_mode: "host",
    cap_add: ["NET_ADMIN", "NET_RAW"],
    devices: ["/dev/net/tun:/dev/net/tun"],
    environment: { TS_STATE_DIR: "/var/lib/tailscale", TS_USERSPACE: "false", TS_HOSTNAME: resourceName(config.site.name, "bastion") },
    env_file: [`./${TAILSCALE_SECRETS_ENV_FILE}`],
    volumes: [`./${DATA_DIR}/tailscale:/var/lib/tailscale`],
  };
}
