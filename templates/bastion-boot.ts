/**
 * The AWS bastion's boot script (bastion-boot.sh, with the config's values prepended) and the
 * systemd unit that runs it on every boot. Everything AWS-specific lives here, not in the bundle:
 * Amazon DNS for the host itself, the persistent ENI and cache volume (or the cache bucket's name), Docker from the
 * distribution, secrets from SSM Parameter Store.
 */
import type { SiteConfig } from "../config/schema.js";
import { cacheBucketPrefix, resourceName, siteView } from "../config/site-view.js";
import { DATA_DIR, REGISTRY_S3_ENV_FILE, registryCredentialsEnvFile, TAILSCALE_SECRETS_ENV_FILE } from "./compose.js";
import { S3_BUCKET_ENV } from "./registry.js";
import { FETCH_TALOS_ASSETS_SCRIPT } from "./fetch-talos-assets.js";
import { PIHOLE_SECRETS_ENV_FILE } from "./pihole.js";
import { renderShellScript } from "./shell.js";
import attachEniSource from "./attach-eni.sh";
import bastionBootSource from "./bastion-boot.sh";
import natMasqueradeSource from "./nat-masquerade.sh";
import registryCredentialsSource from "./registry-credentials.sh";
import shellPreludeSource from "./shell-prelude.sh";

/** Where cloud-init writes the bundle on the bastion. */
export const BUNDLE_DIR = "/opt/deathstar";
export const BOOT_SCRIPT_PATH = "/usr/local/sbin/deathstar-bastion-boot";
export const BOOT_UNIT_NAME = `${resourceName("bastion")}.service`;
/** Tag that marks the persistent cache volume; the boot script finds it by this tag, not by id. */
export const CACHE_VOLUME_TAG = { key: "deathstar:volume", value: "bastion-cache" } as const;
/** Device name the cache volume is attached as (on Nitro it shows up as NVMe, found by its serial). */
export const CACHE_VOLUME_DEVICE = "/dev/sdf";
/**
 * systemd's unit for the cache volume's mount on the data dir (what `systemd-escape --path
 * --suffix=mount` prints; the path has no character that needs escaping).
 */
const DATA_MOUNT_UNIT = `${`${BUNDLE_DIR}/${DATA_DIR}`.slice(1).replace(/\//g, "-")}.mount`;
/** Policy routing table for traffic sourced from the ENI's address. */
const ENI_ROUTE_TABLE = 140;
/** Amazon Time Sync / DNS link-local resolver, reachable from every instance. */
const AMAZON_LINK_LOCAL_DNS = "169.254.169.253";

/**
 * Docker Compose v2 CLI plugin: Amazon Linux 2023 packages Docker but not Compose. Pinned to a
 * release and its published sha256 (the same pins as Docker's official `docker` image).
 */
export const COMPOSE_PLUGIN = {
  version: "v2.33.0",
  sha256: {
    arm64: "03a42a0fc0614ffc3c9ebca521cab75e02c427b68e45e3f6867d9510b9a28818",
    x86_64: "6395dbb256db6ea28d5c6695bc9bc33866c07ad1c93792f8d85857f1c21c34ee",
  },
} as const;

function composeUrl(architecture: SiteConfig["architecture"]): string {
  const arch = architecture === "arm64" ? "aarch64" : "x86_64";
  return `https://github.com/docker/compose/releases/download/${COMPOSE_PLUGIN.version}/docker-compose-linux-${arch}`;
}

/**
 * The SSM parameters the boot script reads into root-only env files: write_secret's arguments for
 * single values (parameter, variable, env file), write_registry_credentials' for caches with
 * upstream credentials (parameter, env file, upstream).
 */
function secretInputs(config: Readonly<SiteConfig>): { single: [string, string, string][]; registry: [string, string, string][] } {
  const { secrets, tailscale } = config.bastion;
  const single: [string, string, string][] = [[secrets.piholeWebPassword, "WEBPASSWORD", PIHOLE_SECRETS_ENV_FILE]];
  if (tailscale.enabled) single.push([secrets.tailscaleAuthKey, "TS_AUTHKEY", TAILSCALE_SECRETS_ENV_FILE]);
  const registry = config.services.registryCaches.flatMap((cache) =>
    cache.credentialsParameter === undefined ? [] : [[cache.credentialsParameter, registryCredentialsEnvFile(cache), cache.upstream] as [string, string, string]],
  );
  return { single, registry };
}

/** The SSM parameters the boot script reads (each once): exactly what the bastion's role may read. */
export function bastionSecretParameterNames(config: Readonly<SiteConfig>): string[] {
  const { single, registry } = secretInputs(config);
  return [...new Set([...single, ...registry].map(([parameter]) => parameter))];
}

export function renderBastionBootScript(config: Readonly<SiteConfig>): string {
  const view = siteView(config);
  const { single, registry } = secretInputs(config);
  const natOnBastion = config.network.nat === "bastion";
  return renderShellScript(
    `Third Death Star bastion boot, run by ${BOOT_UNIT_NAME} on every boot. Rendered from the site config.`,
    {
      ENI_ADDRESS: view.bastionAddress,
      SUBNET_CIDR: config.network.privateSubnet.cidr,
      SUBNET_ROUTER: view.privateSubnetRouter,
      ENI_ROUTE_TABLE,
      AMAZON_DNS: view.amazonDns,
      AMAZON_LINK_LOCAL_DNS,
      VOLUME_TAG_KEY: CACHE_VOLUME_TAG.key,
      VOLUME_TAG_VALUE: CACHE_VOLUME_TAG.value,
      VOLUME_DEVICE: CACHE_VOLUME_DEVICE,
      BUNDLE_DIR,
      DATA_DIR: `${BUNDLE_DIR}/${DATA_DIR}`,
      COMPOSE_URL: composeUrl(config.architecture),
      COMPOSE_SHA256: COMPOSE_PLUGIN.sha256[config.architecture],
      FETCH_TALOS_ASSETS: FETCH_TALOS_ASSETS_SCRIPT,
      CACHE_STORAGE: config.bastion.cacheStorage,
      CACHE_BUCKET_PREFIX: cacheBucketPrefix(config.aws.region),
      S3_BUCKET_ENV,
      REGISTRY_S3_ENV_FILE,
      NAT_ON_BASTION: natOnBastion ? "yes" : "no",
      // What the NAT steps masquerade; given only with them (an unused input is a shellcheck warning).
      ...(natOnBastion ? { VPC_CIDR: config.network.vpcCidr } : {}),
      UPSTREAMS: config.services.registryCaches.map((cache) => cache.upstream),
      SECRETS: single.flat(),
      REGISTRY_CREDENTIALS: registry.flat(),
    },
    // The credentials functions only when a cache has credentials, the NAT steps only when the
    // bastion is the NAT: EC2 caps user-data at 16 KB and the boot script is its largest file.
    {
      "shell-prelude.sh": shellPreludeSource,
      "attach-eni.sh": attachEniSource,
      ...(registry.length > 0 ? { "registry-credentials.sh": registryCredentialsSource } : {}),
      ...(natOnBastion ? { "nat-masquerade.sh": natMasqueradeSource } : {}),
      "bastion-boot.sh": bastionBootSource,
    },
  );
}

/** systemd unit running the boot script on every boot; it retries until the script succeeds. */
export function renderBastionBootUnit(): string {
  return `[Unit]
Description=Third Death Star bastion: persistent ENI and cache volume, then the service containers
Wants=network-online.target
# Ordering only (the script mounts the volume itself, once it is attached): at shutdown this unit,
# and with it the containers, stops before Docker and before the data dir is unmounted.
After=network-online.target docker.service ${DATA_MOUNT_UNIT}
StartLimitIntervalSec=0

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${BOOT_SCRIPT_PATH}
# Removing the containers on stop keeps Docker from starting them at the next boot before the
# cache volume is mounted; this unit starts them again once it is.
ExecStop=-/usr/bin/docker compose --file ${BUNDLE_DIR}/compose.yaml down
Restart=on-failure
RestartSec=30s
TimeoutStartSec=45min

[Install]
WantedBy=multi-user.target
`;
}
