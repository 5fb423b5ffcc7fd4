#!/usr/bin/env bash
# Provides the real tools the integration tests drive, cached outside the repo and keyed by version:
#   - OpenTofu at the version in .terraform-version (one on PATH is used when it matches): the release
#     archive, checked against the release's SHA256SUMS, where GitHub's release downloads answer, else
#     built from its Go module,
#   - the hashicorp/aws provider in a filesystem mirror `tofu init` reads offline: from its registry
#     through `tofu providers mirror` where the registry answers, else built from its Go module with
#     the services the stack uses ($aws_provider_services below),
#   - a Python venv with moto's server (AWS API emulator) and checkov,
#   - compose-check (scripts/compose-check): Docker Compose's loader, compose-go, as a command,
#   - talos-config-check (scripts/talos-config-check): Talos' config machinery (generate, patch, validate),
#   - matchbox, built from its Go module at the version of the default matchbox image,
#   - Docker Compose v2 (CLI plugin), built from its Go module at the version the bastion downloads,
#   - talosctl, built from Talos' Go module in the lab's Talos minor line (the docs' talosctl lines are checked against it).
# Prints `export NAME=value` lines; `eval "$(scripts/toolchain.sh)"` puts them in the caller's shell.
# Progress goes to stderr. Cold builds take long (the provider especially); downloads take a minute or
# two; warm runs return at once. Sourced (`source scripts/toolchain.sh`), it only sets its versions and
# defines its functions (__tests__/toolchain.test.ts drives the download-or-build decisions that way).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/deathstar

# Versions: one place each.
tofu_version=$(tr -d ' \n' < "$repo/.terraform-version")
# @cdktf/provider-aws 21.x binds hashicorp/aws 6.25.0. Its Go module path has no /v6, so the module proxy
# serves v6 commits only as pseudo-versions; this is the newest v6 commit it serves (version/VERSION 6.47.1),
# a schema superset of 6.25.0. Tests pin it with an override file; the shipped stack keeps 6.25.0.
aws_provider_module=github.com/hashicorp/terraform-provider-aws
aws_provider_ref=v1.60.1-0.20260602190131-5f2286d6d836
aws_provider_version=6.47.1
# What a source build of the provider compiles in: the services whose resources and data sources the
# stack, the examples and the test fixtures use (ec2, iam, autoscaling, s3, s3control, ssm, sns, sqs,
# logs, cloudwatch, kms, budgets, scheduler, sts), the provider's own (meta: aws_partition,
# aws_region, aws_caller_identity, aws_default_tags), and those they call at run time:
# aws_autoscaling_group asks for the ELB and ELBv2 clients whenever it waits for capacity
# (internal/service/autoscaling/group.go), and ec2 imports organizations. A service outside this list
# is a resource type the provider does not know: `tofu validate` fails on it, naming the type, and
# the fix is a name added here. Compiling all 266 services took ~40 minutes on two cores; the
# resources kept are built from the same source, unchanged (scripts/aws-provider-services.py). The
# registry's package, where it can be downloaded, is the full release.
aws_provider_services="autoscaling budgets cloudwatch ec2 elb elbv2 iam kms logs meta organizations s3 s3control scheduler sns sqs ssm sts"
python_requirements="$repo/scripts/requirements-tools.txt"
# Same release as the default images.matchbox (quay.io/poseidon/matchbox:v0.11.0 in config/sites.ts;
# __tests__/integration/matchbox.test.ts checks the built binary against it).
# Its go.mod has one replace directive (gopkg.in/yaml.v2 pinned to v2.4.0), honoured because the
# module is built as the main module.
matchbox_module=github.com/poseidon/matchbox
matchbox_version=v0.11.0

# talosctl, for the docs' flag checks, comes from Talos' root module, which the Go module proxy serves
# for v1.11.5 but refuses for v1.11.6 (403); a patch release keeps the CLI's commands and flags, so the
# newest served release of the same minor line stands in (runbooks.test.ts holds the minor line equal).
talosctl_version=v1.11.5

# Where OpenTofu's releases are downloaded from: <base>/v<version>/tofu_<version>_SHA256SUMS and the
# archives it lists (the layout of https://github.com/opentofu/opentofu/releases and of OpenTofu's
# standalone install instructions, https://opentofu.org/docs/intro/install/standalone).
tofu_releases=${DEATHSTAR_TOFU_RELEASES_URL:-https://github.com/opentofu/opentofu/releases/download}
# How long a download may try: an offline machine fails at once (no DNS answer), a host that drops
# packets after the connect timeout, and a slow link gets minutes before the source build takes over.
connect_timeout_s=10
archive_timeout_s=300
provider_mirror_timeout_s=900

log() { printf '[toolchain] %s\n' "$*" >&2; }

# The Go platform, as release archives and provider mirrors name it (linux_amd64).
platform() { printf '%s_%s\n' "$(go env GOOS)" "$(go env GOARCH)"; }

# Builds a Go main package from a module version into $3, in a scratch copy (the module cache is read-only).
# $5, optional: more -ldflags, e.g. "-X <pkg>.Version=<ref>" where a release stamps its version at build time.
# $6, optional: a nested module the main module replaces by a relative path (module zips leave nested
# modules out), fetched at the same ref into that path. A go.work in the module is ignored.
# $7, optional: a command run in the scratch copy before the build (it may rewrite the copy's files).
go_build_module() {
  local module=$1 ref=$2 out=$3 pkg=$4 extra_ldflags=${5:-} nested=${6:-} prepare=${7:-} dir scratch start
  start=$(date +%s)
  log "building $module@$ref ($pkg) - this is slow the first time"
  module_dir() { go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'; }
  dir=$(module_dir "$module@$ref")
  scratch=$(mktemp -d "$cache/build.XXXXXX")
  cp -r "$dir/." "$scratch/"
  if [ -n "$nested" ]; then mkdir -p "$scratch/$nested" && cp -r "$(module_dir "$module/$nested@$ref")/." "$scratch/$nested/"; fi
  chmod -R u+w "$scratch"
  if [ -n "$prepare" ]; then (cd "$scratch" && eval "$prepare"); fi
  mkdir -p "$(dirname "$out")"
  (cd "$scratch" && GOWORK=off GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w $extra_ldflags" -o "$out.tmp" "$pkg")
  mv "$out.tmp" "$out"
  rm -rf "$scratch"
  log "built $(basename "$out") in $(( $(date +%s) - start ))s"
}

# --- OpenTofu -----------------------------------------------------------------------------------
# Downloads OpenTofu's release archive for this platform into $1, checked against the release's
# SHA256SUMS (the sums file comes over the same TLS connection as the archive; cosign's signature of
# it is not checked here). Fails, saying why, on a download that fails, a missing or wrong checksum,
# or an archive whose tofu is not the wanted version; nothing is left at $1 then.
fetch_tofu_release() (
  local out=$1 name scratch expected
  name="tofu_${tofu_version}_$(platform).tar.gz"
  scratch=$(mkdir -p "$cache" && mktemp -d "$cache/fetch.XXXXXX") || return 1
  trap 'rm -rf "$scratch"' EXIT
  get() { curl --fail --silent --show-error --location --connect-timeout "$connect_timeout_s" --max-time "$archive_timeout_s" -o "$2" "$1"; }
  get "$tofu_releases/v$tofu_version/tofu_${tofu_version}_SHA256SUMS" "$scratch/SHA256SUMS" || return 1
  expected=$(awk -v name="$name" '$2 == name { print $1 }' "$scratch/SHA256SUMS")
  [ -n "$expected" ] || { log "tofu_${tofu_version}_SHA256SUMS lists no $name"; return 1; }
  get "$tofu_releases/v$tofu_version/$name" "$scratch/$name" || return 1
  printf '%s  %s\n' "$expected" "$scratch/$name" | sha256sum --check --status || { log "$name does not match its SHA256SUMS line"; return 1; }
  tar -xzf "$scratch/$name" -C "$scratch" tofu || return 1
  "$scratch/tofu" version 2>/dev/null | head -1 | grep -qx "OpenTofu v$tofu_version" || { log "$name holds no OpenTofu v$tofu_version"; return 1; }
  mkdir -p "$(dirname "$out")"
  mv "$scratch/tofu" "$out"
)

# Sets tofu_bin: a matching tofu on PATH, the cached one, the release download, else a source build.
provide_tofu() {
  if command -v tofu >/dev/null 2>&1 && tofu version 2>/dev/null | head -1 | grep -qx "OpenTofu v$tofu_version"; then
    tofu_bin=$(command -v tofu)
    return
  fi
  tofu_bin="$cache/tofu/$tofu_version/tofu"
  [ -x "$tofu_bin" ] && return
  local start
  start=$(date +%s)
  if fetch_tofu_release "$tofu_bin"; then
    log "downloaded OpenTofu v$tofu_version (checked against its SHA256SUMS) in $(( $(date +%s) - start ))s"
  else
    log "no OpenTofu release download; building it from source"
    go_build_module github.com/opentofu/opentofu "v$tofu_version" "$tofu_bin" ./cmd/tofu
  fi
}

# --- hashicorp/aws provider in a filesystem mirror ---------------------------------------------------
# The unpacked mirror layout `tofu init` reads: <mirror>/<hostname>/<namespace>/<type>/<version>/<os_arch>/
# (https://opentofu.org/docs/cli/config/config-file/#filesystem_mirror). A source build writes
# terraform-provider-aws_v<version> there; a registry package unpacks as terraform-provider-aws_v<version>_x5.
mirror="$cache/provider-mirror"

provider_dir() { printf '%s\n' "$mirror/registry.opentofu.org/hashicorp/aws/$aws_provider_version/$(platform)"; }

# What a source build was built from, recorded beside the mirror (not in it: tofu reads the mirror's
# tree): a build of another ref or service list is built again.
provider_build_record="$mirror.source"
provider_build_recipe() { printf '%s@%s services: %s\n' "$aws_provider_module" "$aws_provider_ref" "$aws_provider_services"; }

# The registry's package, or a source build of this recipe (never the .tmp of a build under way).
provider_installed() {
  [ -x "$(provider_dir)/terraform-provider-aws_v${aws_provider_version}_x5" ] && return 0
  [ -x "$(provider_dir)/terraform-provider-aws_v$aws_provider_version" ] && [ "$(cat "$provider_build_record" 2>/dev/null)" = "$(provider_build_recipe)" ]
}

# Fetches the provider's package from its registry with `tofu providers mirror`, which checks it
# against the release's SHA256SUMS and that file's signature by the provider's key
# (https://opentofu.org/docs/cli/commands/providers/mirror/), and unpacks it into the mirror.
# Fails, saying why, when the registry cannot be reached or has no such package.
mirror_aws_provider() (
  local scratch package
  scratch=$(mkdir -p "$cache" && mktemp -d "$cache/fetch.XXXXXX") || return 1
  trap 'rm -rf "$scratch"' EXIT
  mkdir "$scratch/config"
  printf '{"terraform":{"required_providers":{"aws":{"source":"hashicorp/aws","version":"%s"}}}}\n' "$aws_provider_version" > "$scratch/config/main.tf.json"
  # An empty CLI config: the one this script writes sends hashicorp/aws to the local mirror only.
  : > "$scratch/empty.tfrc"
  (cd "$scratch/config" && TF_CLI_CONFIG_FILE="$scratch/empty.tfrc" timeout "$provider_mirror_timeout_s" "$tofu_bin" providers mirror -platform="$(platform)" "$scratch/mirror" >&2) || return 1
  package="$scratch/mirror/registry.opentofu.org/hashicorp/aws/terraform-provider-aws_${aws_provider_version}_$(platform).zip"
  [ -f "$package" ] || { log "tofu providers mirror left no $(basename "$package")"; return 1; }
  mkdir "$scratch/unpacked"
  unzip -q "$package" -d "$scratch/unpacked" || return 1
  mkdir -p "$(dirname "$(provider_dir)")"
  rm -rf "$(provider_dir)"
  mv "$scratch/unpacked" "$(provider_dir)"
  provider_installed || { log "$(basename "$package") holds no terraform-provider-aws_v$aws_provider_version executable"; rm -rf "$(provider_dir)"; return 1; }
)

provide_aws_provider() {
  provider_installed && return
  local start
  start=$(date +%s)
  if mirror_aws_provider; then
    log "downloaded hashicorp/aws $aws_provider_version from its registry (hashes checked by OpenTofu) in $(( $(date +%s) - start ))s"
  else
    log "no hashicorp/aws $aws_provider_version from its registry; building it from source with: $aws_provider_services"
    rm -rf "$(provider_dir)" "$provider_build_record"
    go_build_module "$aws_provider_module" "$aws_provider_ref" "$(provider_dir)/terraform-provider-aws_v$aws_provider_version" . "" "" \
      "python3 '$repo/scripts/aws-provider-services.py' . $aws_provider_services"
    provider_build_recipe > "$provider_build_record"
  fi
}

write_cli_config() {
  cli_config="$cache/tofurc"
  cat > "$cli_config.tmp" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.opentofu.org/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.opentofu.org/hashicorp/aws"]
  }
}
RC
  mv "$cli_config.tmp" "$cli_config"
}

# The tests' shared provider plugin cache (TF_PLUGIN_CACHE_DIR, __tests__/helpers/tofu.ts), filled here
# once: integration files run side by side, and OpenTofu does not make concurrent `init`s writing one
# cache safe ("the plugin cache directory is not guaranteed to be concurrency safe", OpenTofu's CLI
# configuration docs, Provider Plugin Cache). Once the provider is there, each `init` only links it.
warm_plugin_cache() {
  local plugin_cache="$cache/plugin-cache" dir
  [ -d "$plugin_cache/registry.opentofu.org/hashicorp/aws/$aws_provider_version/$(platform)" ] && return 0
  log "filling the plugin cache with hashicorp/aws $aws_provider_version"
  mkdir -p "$plugin_cache"
  dir=$(mktemp -d)
  printf '{"terraform":{"required_providers":{"aws":{"source":"hashicorp/aws","version":"%s"}}}}\n' "$aws_provider_version" > "$dir/main.tf.json"
  (cd "$dir" && TF_CLI_CONFIG_FILE="$cli_config" TF_PLUGIN_CACHE_DIR="$plugin_cache" "$tofu_bin" init -input=false -no-color >&2)
  rm -rf "$dir"
}

# --- Python tools (moto server, checkov) ----------------------------------------------------------------
# Sets venv.
provide_python_tools() {
  local req_key
  req_key=$(sha256sum "$python_requirements" | cut -c1-12)
  venv="$cache/venv-$req_key"
  if [ ! -f "$venv/.complete" ]; then
    log "creating $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$python_requirements"
    touch "$venv/.complete"
  fi
}

# --- Go checkers that ship in this repo, cached by a hash of their sources ----------------------------------
# Prints the binary's path, building it first when that version is not cached yet.
repo_go_tool() {
  local name=$1 src="$repo/scripts/$1" key bin
  key=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)
  bin="$cache/$name/$key/$name"
  if [ ! -x "$bin" ]; then
    log "building $name"
    mkdir -p "$(dirname "$bin")"
    (cd "$src" && CGO_ENABLED=0 go build -buildvcs=false -trimpath -ldflags '-s -w' -o "$bin.tmp" .)
    mv "$bin.tmp" "$bin"
  fi
  printf '%s\n' "$bin"
}
main() {
  mkdir -p "$cache"
  # One build at a time: concurrent test runs wait here instead of building twice.
  exec 9>"$cache/.toolchain.lock"
  flock 9

  provide_tofu
  provide_aws_provider
  write_cli_config
  warm_plugin_cache
  provide_python_tools

  # compose-check: the rendered compose.yaml loaded by compose-go, as `docker compose` loads it.
  compose_check=$(repo_go_tool compose-check)
  # talos-config-check: rendered Talos patches through Talos' own generate/patch/validate.
  talos_check=$(repo_go_tool talos-config-check)

  # --- matchbox ------------------------------------------------------------------------------------------
  matchbox_bin="$cache/matchbox/$matchbox_version/matchbox"
  # Stamped like the release build (its Makefile), so `matchbox -version` names the release.
  [ -x "$matchbox_bin" ] || go_build_module "$matchbox_module" "$matchbox_version" "$matchbox_bin" ./cmd/matchbox \
    "-X $matchbox_module/matchbox/version.Version=$matchbox_version"

  # --- Docker Compose v2 ------------------------------------------------------------------------------------
  # Same release as COMPOSE_PLUGIN in templates/bastion-boot.ts (__tests__/integration/vpc-bastion.test.ts
  # checks the built binary against it); static and version-stamped like the release build.
  compose_module=github.com/docker/compose/v2
  compose_version=v2.33.0
  compose_bin="$cache/compose/$compose_version/docker-compose"
  [ -x "$compose_bin" ] || CGO_ENABLED=0 go_build_module "$compose_module" "$compose_version" "$compose_bin" ./cmd \
    "-X $compose_module/internal.Version=$compose_version"
  # --- talosctl ------------------------------------------------------------------------------------------
  talosctl_bin="$cache/talosctl/$talosctl_version/talosctl"
  [ -x "$talosctl_bin" ] || go_build_module github.com/siderolabs/talos "$talosctl_version" "$talosctl_bin" ./cmd/talosctl "" pkg/machinery

  cat <<ENV
export DEATHSTAR_TOFU=$tofu_bin
export DEATHSTAR_TOFU_VERSION=$tofu_version
export DEATHSTAR_AWS_PROVIDER_VERSION=$aws_provider_version
export TF_CLI_CONFIG_FILE=$cli_config
export DEATHSTAR_VENV=$venv
export DEATHSTAR_COMPOSE_CHECK=$compose_check
export DEATHSTAR_TALOS_CONFIG_CHECK=$talos_check
export DEATHSTAR_MATCHBOX=$matchbox_bin
export DEATHSTAR_COMPOSE=$compose_bin
export DEATHSTAR_TALOSCTL=$talosctl_bin
ENV
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
