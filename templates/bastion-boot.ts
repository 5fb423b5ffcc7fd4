/**
 * The AWS bastion's boot script and the systemd unit that runs it on every boot. Everything
 * AWS-specific lives here, not in the bundle: Amazon DNS for the host itself, the persistent
 * ENI and cache volume, Docker from the distribution, secrets from SSM Parameter Store.
 *
 * Every step is idempotent (attach only what is not attached, format only a blank volume,
 * replace a file only when its content differs, `compose up` converges), so the unit can run
 * again after a failure or a reboot and the second run changes nothing.
 */
import type { SiteConfig } from "../config/schema.js";
import { resourceName, siteView } from "../config/site-view.js";
import { DATA_DIR, registryCredentialsEnvFile, TAILSCALE_SECRETS_ENV_FILE } from "./compose.js";
import { FETCH_TALOS_ASSETS_SCRIPT } from "./fetch-talos-assets.js";
import { PIHOLE_SECRETS_ENV_FILE } from "./pihole.js";
import { ATTACH_ENI_FUNCTION, SHELL_PRELUDE, shellAssignments, shellQuote } from "./shell.js";

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
 * Boot functions for caches with upstream credentials, rendered only when a cache has them: EC2
 * caps user-data at 16 KB and the boot script is its largest file.
 */
const REGISTRY_CREDENTIALS_FUNCTIONS = `# registry_refuses UPSTREAM USERNAME TOKEN prints 401 or 403, and succeeds, when the token server
# of the upstream's Bearer challenge refuses the credentials. Anything else (no Bearer challenge,
# no answer) is not a refusal. The credentials go to curl on stdin, never on its command line.
registry_refuses() {
  local challenge realm service status
  challenge=$(curl -s -o /dev/null -D - --max-time 10 "$1/v2/" | tr -d '\\r' | grep -i '^www-authenticate: *bearer ') || return 1
  realm=$(sed -n 's/.*realm="\\([^"]*\\)".*/\\1/p' <<< "$challenge")
  service=$(sed -n 's/.*service="\\([^"]*\\)".*/\\1/p' <<< "$challenge")
  [ -n "$realm" ] || return 1
  status=$(printf 'user = "%s:%s"\\n' "$2" "$3" | curl -s -o /dev/null -w '%{http_code}' --max-time 10 -K - -G --data-urlencode "service=$service" "$realm") || return 1
  case $status in 401 | 403) echo "$status" ;; *) return 1 ;; esac
}

# plain_yaml VALUE: whether YAML reads VALUE back as the same string (a plain scalar of safe characters).
plain_yaml() {
  [[ $1 =~ ^[A-Za-z0-9_][A-Za-z0-9_.~+/=-]*$ ]]
}

# write_registry_credentials PARAMETER FILE UPSTREAM: "username:token" as distribution's overrides
# of proxy.username and proxy.password. distribution reads each override as YAML, so both parts
# must be plain_yaml. registry 2.8 turns refused credentials into "manifest unknown" on every pull,
# public images included: credentials the upstream refuses are logged with its answer and left out
# (an empty env file), and the cache pulls anonymously.
write_registry_credentials() {
  local value username token refused
  value=$(read_secret "$1") || return 1
  username=\${value%%:*}
  token=\${value#*:}
  if [ "$username" = "$value" ] || ! plain_yaml "$username" || ! plain_yaml "$token"; then
    log "SSM parameter $1 must hold username:token, each of letters, digits and _.~+/=- (not starting with .~+/=-); see docs/bastion.md"
    return 1
  fi
  if refused=$(registry_refuses "$3" "$username" "$token"); then
    log "$3 refused the credentials in SSM parameter $1 (HTTP $refused from its token server); its cache pulls anonymously until they are fixed (docs/bastion.md)"
    put_secret "$2" < /dev/null
    return 0
  fi
  printf "%s='%s'\\n" REGISTRY_PROXY_USERNAME "$username" REGISTRY_PROXY_PASSWORD "$token" | put_secret "$2"
}

`;

/** Each SSM parameter the boot script reads, with the step that writes it into a root-only env file. */
function secretSteps(config: Readonly<SiteConfig>): { parameter: string; step: string }[] {
  const { secrets, tailscale } = config.bastion;
  const steps = [{ parameter: secrets.piholeWebPassword, step: `write_secret ${shellQuote(secrets.piholeWebPassword)} WEBPASSWORD ${shellQuote(PIHOLE_SECRETS_ENV_FILE)}` }];
  if (tailscale.enabled) {
    steps.push({ parameter: secrets.tailscaleAuthKey, step: `write_secret ${shellQuote(secrets.tailscaleAuthKey)} TS_AUTHKEY ${shellQuote(TAILSCALE_SECRETS_ENV_FILE)}` });
  }
  for (const cache of config.services.registryCaches) {
    const parameter = cache.credentialsParameter;
    if (parameter !== undefined) {
      steps.push({ parameter, step: `write_registry_credentials ${shellQuote(parameter)} ${shellQuote(registryCredentialsEnvFile(cache))} ${shellQuote(cache.upstream)}` });
    }
  }
  return steps;
}

/** The SSM parameters the boot script reads (each once): exactly what the bastion's role may read. */
export function bastionSecretParameterNames(config: Readonly<SiteConfig>): string[] {
  return [...new Set(secretSteps(config).map(({ parameter }) => parameter))];
}

export function renderBastionBootScript(config: Readonly<SiteConfig>): string {
  const view = siteView(config);
  const upstreams = config.services.registryCaches.map((cache) => shellQuote(cache.upstream)).join(" ");
  return `#!/bin/bash
# Third Death Star bastion boot, run by ${BOOT_UNIT_NAME} on every boot. Rendered from the site config.
${SHELL_PRELUDE}
${shellAssignments({
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
})}
UPSTREAMS=(${upstreams})
COMPOSE=(docker compose --file "$BUNDLE_DIR/compose.yaml")
${ATTACH_ENI_FUNCTION}

# put_file MODE PATH < content: replaces PATH only when the content differs; fails when unchanged.
put_file() {
  local mode=$1 path=$2 tmp
  tmp=$(mktemp "$path.XXXXXX")
  cat > "$tmp"
  if [ -f "$path" ] && [ ! -L "$path" ] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
    return 1
  fi
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
}

# The bastion resolves through Amazon DNS, never through its own Pi-hole (listed first in the
# VPC's DHCP options): the EC2 API must resolve before the ENI exists. The stub listener goes
# so that Pi-hole can bind port 53.
use_amazon_dns() {
  printf 'nameserver %s\\nnameserver %s\\noptions timeout:2 attempts:3\\n' "$AMAZON_DNS" "$AMAZON_LINK_LOCAL_DNS" \\
    | put_file 0644 /etc/resolv.conf || true
  mkdir -p /etc/systemd/resolved.conf.d
  if printf '[Resolve]\\nDNSStubListener=no\\n' | put_file 0644 /etc/systemd/resolved.conf.d/deathstar.conf; then
    systemctl restart systemd-resolved
  fi
}

# Replies from the ENI's address leave through the ENI (the VPC drops them on the other interface).
route_via_eni() {
  local dev
  dev=$(ip -o -4 addr show | awk -v a="$ENI_ADDRESS" '$4 ~ "^"a"/" {print $2; exit}')
  ip route replace "$SUBNET_CIDR" dev "$dev" src "$ENI_ADDRESS" table "$ENI_ROUTE_TABLE"
  ip route replace default via "$SUBNET_ROUTER" dev "$dev" table "$ENI_ROUTE_TABLE"
  ip rule show | grep -q "from $ENI_ADDRESS lookup $ENI_ROUTE_TABLE" \\
    || ip rule add from "$ENI_ADDRESS" lookup "$ENI_ROUTE_TABLE" priority 100
  log "services answer on $ENI_ADDRESS via $dev"
}

# Attaches the volume tagged VOLUME_TAG_KEY=VOLUME_TAG_VALUE and prints its block device.
attach_cache_volume() {
  local instance_id region az volume_id state attached_to volume_az serial dev
  instance_id=$(imds meta-data/instance-id)
  region=$(imds meta-data/placement/region)
  az=$(imds meta-data/placement/availability-zone)
  for attempt in $(seq 1 60); do
    read -r volume_id state attached_to volume_az < <(aws ec2 describe-volumes --region "$region" \\
      --filters "Name=tag:$VOLUME_TAG_KEY,Values=$VOLUME_TAG_VALUE" \\
      --query 'Volumes[0].[VolumeId, State, Attachments[0].InstanceId, AvailabilityZone]' --output text) || true
    if [ -n "\${volume_az:-}" ] && [ "$volume_az" != "None" ] && [ "$volume_az" != "$az" ]; then
      log "cache volume $volume_id is in $volume_az but this instance is in $az; see docs/troubleshooting.md (Bastion)"
      return 1
    fi
    if [ "\${attached_to:-}" = "$instance_id" ]; then log "cache volume $volume_id already attached"; break; fi
    if [ "\${state:-}" = "available" ]; then
      aws ec2 attach-volume --region "$region" --volume-id "$volume_id" --instance-id "$instance_id" \\
        --device "$VOLUME_DEVICE" >/dev/null && log "attached cache volume $volume_id" && break
    fi
    log "cache volume is \${state:-missing} (attached to \${attached_to:-nothing}); waiting (attempt $attempt/60)"
    sleep 10
  done
  serial=\${volume_id//-/}
  for _ in $(seq 1 60); do
    for dev in "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_$serial" "$VOLUME_DEVICE"; do
      if [ -b "$dev" ]; then readlink -f "$dev"; return 0; fi
    done
    sleep 2
  done
  log "cache volume \${volume_id:-?} did not show up as a block device; see docs/troubleshooting.md (Bastion)"
  return 1
}

# Formats the volume only when blkid finds no signature at all (exit 2), then mounts it as the
# bundle's data dir. A partition table or an unreadable device is left alone.
mount_cache_volume() {
  local dev=$1 probe=0
  blkid -p "$dev" >/dev/null 2>&1 || probe=$?
  if [ "$probe" -eq 2 ]; then
    log "cache volume $dev is blank; formatting it as xfs"
    mkfs.xfs -q -L deathstar-cache "$dev"
  elif [ "$probe" -ne 0 ]; then
    log "cannot probe $dev (blkid exit $probe); not formatting it"
    return 1
  fi
  mkdir -p "$DATA_DIR"
  mountpoint -q "$DATA_DIR" || mount "$dev" "$DATA_DIR"
  log "cache volume $dev mounted on $DATA_DIR"
}

# registry 2.8 in proxy mode panics at start when its upstream is unreachable, so the caches
# start only once every upstream answers (through the NAT, which boots on the same schedule).
wait_for_egress() {
  local url
  for url in "\${UPSTREAMS[@]}"; do
    if ! retry 60 10 curl -s -o /dev/null --max-time 10 "$url/v2/"; then
      log "$url is unreachable; check the NAT (docs/troubleshooting.md, Bastion)"
      return 1
    fi
  done
  log "egress is up: every registry upstream answers"
}

install_docker() {
  rpm -q docker >/dev/null 2>&1 || retry 10 6 dnf install -y docker
  mkdir -p /etc/docker
  if printf '{\\n  "log-driver": "journald"\\n}\\n' | put_file 0644 /etc/docker/daemon.json && systemctl -q is-active docker; then
    systemctl restart docker
  fi
  systemctl enable --now docker
  local plugin=/usr/local/lib/docker/cli-plugins/docker-compose tmp
  if [ -x "$plugin" ] && echo "$COMPOSE_SHA256  $plugin" | sha256sum --quiet --check - 2>/dev/null; then return 0; fi
  mkdir -p "$(dirname "$plugin")"
  tmp=$(mktemp)
  retry 5 10 curl -fsSL -o "$tmp" "$COMPOSE_URL"
  if ! echo "$COMPOSE_SHA256  $tmp" | sha256sum --quiet --check -; then
    rm -f "$tmp"
    log "$COMPOSE_URL does not match its pinned sha256; refusing to install it"
    return 1
  fi
  install -m 0755 "$tmp" "$plugin"
  rm -f "$tmp"
  log "installed docker compose from $COMPOSE_URL"
}

ssm_value() {
  aws ssm get-parameter --region "$(imds meta-data/placement/region)" --name "$1" --with-decryption \\
    --query Parameter.Value --output text
}

# read_secret PARAMETER: prints the SecureString's value, for capture only; it never reaches a log.
read_secret() {
  retry 10 6 ssm_value "$1" && return 0
  log "cannot read SSM parameter $1; create it as a SecureString (docs/bastion.md)"
  return 1
}

# put_secret FILE < NAME='value' lines: a root-only env file in the bundle's secrets dir.
put_secret() {
  install -d -m 0700 "$BUNDLE_DIR/secrets"
  put_file 0600 "$BUNDLE_DIR/$1" || true
}

# write_secret PARAMETER VARIABLE FILE: one variable of an env file from one SSM parameter.
write_secret() {
  local value
  value=$(read_secret "$1") || return 1
  case $value in
    *"'"* | *$'\\n'*) log "SSM parameter $1 contains a quote or a newline, which env files cannot carry"; return 1 ;;
  esac
  printf "%s='%s'\\n" "$2" "$value" | put_secret "$3"
}

${config.services.registryCaches.some((cache) => cache.credentialsParameter !== undefined) ? REGISTRY_CREDENTIALS_FUNCTIONS : ""}main() {
  use_amazon_dns
  attach_persistent_eni
  route_via_eni
  local device
  device=$(attach_cache_volume)
  mount_cache_volume "$device"
  wait_for_egress
  install_docker
${secretSteps(config).map(({ step }) => `  ${step}`).join("\n")}
  "$BUNDLE_DIR/${FETCH_TALOS_ASSETS_SCRIPT}"
  retry 5 30 "\${COMPOSE[@]}" pull --quiet
  "\${COMPOSE[@]}" up --detach --remove-orphans
  log "bastion ready on $ENI_ADDRESS"
}

# Sourced, the script only defines its functions (the test suite runs them one by one).
if [ "\${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
`;
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
