#!/bin/bash
# shellcheck disable=SC2154 # the renderer prepends every input as a quoted assignment
# The AWS bastion's boot, run by the bastion's systemd unit on every boot (templates/bastion-boot.ts
# renders it). Every step is idempotent (attach only what is not attached, format only a blank
# volume, replace a file only when its content differs, `compose up` converges), so the unit can run
# again after a failure or a reboot and the second run changes nothing.
# Inputs: ENI_ADDRESS SUBNET_CIDR SUBNET_ROUTER ENI_ROUTE_TABLE AMAZON_DNS AMAZON_LINK_LOCAL_DNS
#   VOLUME_TAG_KEY VOLUME_TAG_VALUE VOLUME_DEVICE BUNDLE_DIR DATA_DIR COMPOSE_URL COMPOSE_SHA256
#   FETCH_TALOS_ASSETS CACHE_STORAGE ("ebs" or "s3") CACHE_BUCKET_PREFIX S3_BUCKET_ENV REGISTRY_S3_ENV_FILE
#   NAT_ON_BASTION (yes: network.nat "bastion", with VPC_CIDR) UPSTREAMS (array) SECRETS
#   (array, three per secret: SSM parameter, variable, env file) REGISTRY_CREDENTIALS (array, three
#   per cache: SSM parameter, env file, upstream).
# Needs shell-prelude.sh, attach-eni.sh and, when REGISTRY_CREDENTIALS is not empty, registry-credentials.sh;
# with NAT_ON_BASTION=yes, nat-masquerade.sh.

COMPOSE=(docker compose --file "$BUNDLE_DIR/compose.yaml")

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
  printf 'nameserver %s\nnameserver %s\noptions timeout:2 attempts:3\n' "$AMAZON_DNS" "$AMAZON_LINK_LOCAL_DNS" \
    | put_file 0644 /etc/resolv.conf || true
  mkdir -p /etc/systemd/resolved.conf.d
  if printf '[Resolve]\nDNSStubListener=no\n' | put_file 0644 /etc/systemd/resolved.conf.d/deathstar.conf; then
    systemctl restart systemd-resolved
  fi
}

# Replies from the ENI's address leave through the ENI (the VPC drops them on the other interface).
route_via_eni() {
  local dev
  dev=$(eni_device)
  ip route replace "$SUBNET_CIDR" dev "$dev" src "$ENI_ADDRESS" table "$ENI_ROUTE_TABLE"
  ip route replace default via "$SUBNET_ROUTER" dev "$dev" table "$ENI_ROUTE_TABLE"
  grep -q "from $ENI_ADDRESS lookup $ENI_ROUTE_TABLE" <<<"$(ip rule show)" \
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
    read -r volume_id state attached_to volume_az < <(aws ec2 describe-volumes --region "$region" \
      --filters "Name=tag:$VOLUME_TAG_KEY,Values=$VOLUME_TAG_VALUE" \
      --query 'Volumes[0].[VolumeId, State, Attachments[0].InstanceId, AvailabilityZone]' --output text) || true
    if [ -n "${volume_az:-}" ] && [ "$volume_az" != "None" ] && [ "$volume_az" != "$az" ]; then
      log "cache volume $volume_id is in $volume_az but this instance is in $az; see docs/troubleshooting.md (Bastion)"
      return 1
    fi
    if [ "${attached_to:-}" = "$instance_id" ]; then log "cache volume $volume_id already attached"; break; fi
    if [ "${state:-}" = "available" ]; then
      aws ec2 attach-volume --region "$region" --volume-id "$volume_id" --instance-id "$instance_id" \
        --device "$VOLUME_DEVICE" >/dev/null && log "attached cache volume $volume_id" && break
    fi
    log "cache volume is ${state:-missing} (attached to ${attached_to:-nothing}); waiting (attempt $attempt/60)"
    sleep 10
  done
  serial=${volume_id//-/}
  for _ in $(seq 1 60); do
    for dev in "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_$serial" "$VOLUME_DEVICE"; do
      if [ -b "$dev" ]; then readlink -f "$dev"; return 0; fi
    done
    sleep 2
  done
  log "cache volume ${volume_id:-?} did not show up as a block device; see docs/troubleshooting.md (Bastion)"
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

# S3 cache storage: the caches' bucket is named after this account (the stack appends the account
# id to the same prefix), read from the instance identity document. The data dir stays on the root
# volume: matchbox assets are fetched again and Pi-hole starts from its config on a new instance.
use_cache_bucket() {
  local account
  account=$(imds dynamic/instance-identity/document | sed -n 's/^ *"accountId" *: *"\([0-9]\{12\}\)".*/\1/p')
  if [ -z "$account" ]; then
    log "no account id in the instance identity document; cannot name the registry cache bucket"
    return 1
  fi
  mkdir -p "$DATA_DIR" "$(dirname "$BUNDLE_DIR/$REGISTRY_S3_ENV_FILE")"
  printf '%s=%s\n' "$S3_BUCKET_ENV" "$CACHE_BUCKET_PREFIX$account" | put_file 0644 "$BUNDLE_DIR/$REGISTRY_S3_ENV_FILE" || true
  log "registry caches store to s3://$CACHE_BUCKET_PREFIX$account"
}

# registry 2.8 in proxy mode panics at start when its upstream is unreachable, so the caches
# start only once every upstream answers (through the NAT, which boots on the same schedule).
wait_for_egress() {
  local url
  for url in "${UPSTREAMS[@]}"; do
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
  if printf '{\n  "log-driver": "journald"\n}\n' | put_file 0644 /etc/docker/daemon.json && systemctl -q is-active docker; then
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
  aws ssm get-parameter --region "$(imds meta-data/placement/region)" --name "$1" --with-decryption \
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
    *"'"* | *$'\n'*) log "SSM parameter $1 contains a quote or a newline, which env files cannot carry"; return 1 ;;
  esac
  printf "%s='%s'\n" "$2" "$value" | put_secret "$3"
}

main() {
  use_amazon_dns
  attach_persistent_eni
  route_via_eni
  # Its own NAT: the instance's primary interface has the public IPv4, so the bastion has egress
  # from the start; the private subnet gets it once the ENI (its route target) forwards.
  if [ "$NAT_ON_BASTION" = yes ]; then masquerade_vpc "$SUBNET_ROUTER"; fi
  local device i
  if [ "$CACHE_STORAGE" = s3 ]; then
    use_cache_bucket
  else
    device=$(attach_cache_volume)
    mount_cache_volume "$device"
  fi
  wait_for_egress
  install_docker
  for ((i = 0; i < ${#SECRETS[@]}; i += 3)); do write_secret "${SECRETS[@]:i:3}"; done
  for ((i = 0; i < ${#REGISTRY_CREDENTIALS[@]}; i += 3)); do write_registry_credentials "${REGISTRY_CREDENTIALS[@]:i:3}"; done
  "$BUNDLE_DIR/$FETCH_TALOS_ASSETS"
  retry 5 30 "${COMPOSE[@]}" pull --quiet
  "${COMPOSE[@]}" up --detach --remove-orphans
  log "bastion ready on $ENI_ADDRESS"
}

# Sourced, the script only defines its functions (the test suite runs them one by one).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
