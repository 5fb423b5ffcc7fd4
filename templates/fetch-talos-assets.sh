#!/bin/bash
# shellcheck disable=SC2154 # the renderer prepends every input as a quoted assignment
# The bundle's scripts/fetch-talos-assets.sh (templates/fetch-talos-assets.ts renders it): downloads
# the Talos kernel and initramfs from Image Factory into matchbox's assets dir. The first download
# records each file's sha256 beside it (trust on first use: Image Factory publishes no checksums);
# every later run verifies the file against the recorded sum, downloads it again when the copy is
# damaged, and refuses a download that no longer matches the record.
# Inputs: ASSETS_DIR (relative to the bundle dir) and TALOS_ASSETS (array, two per asset: path
# relative to ASSETS_DIR, URL).

set -euo pipefail
log() { printf '%s fetch-talos-assets: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }
cd "$(dirname "$0")/.."

# fetch_asset PATH URL: PATH is relative to the assets dir; PATH.sha256 holds the recorded sum.
fetch_asset() {
  local file="$ASSETS_DIR/$1" url=$2 tmp sum recorded
  if [ -f "$file" ] && [ -f "$file.sha256" ]; then
    if (cd "$(dirname "$file")" && sha256sum --quiet --check "$(basename "$file").sha256"); then
      log "$1 matches its recorded sha256"
      return 0
    fi
    log "$1 does not match its recorded sha256; downloading it again"
  fi
  mkdir -p "$(dirname "$file")"
  tmp=$(mktemp "$file.XXXXXX")
  if ! curl -fsSL --retry 5 --retry-delay 5 --retry-connrefused -o "$tmp" "$url"; then
    rm -f "$tmp"
    log "download of $url failed"
    return 1
  fi
  sum=$(sha256sum "$tmp" | cut -d' ' -f1)
  if [ -f "$file.sha256" ]; then
    recorded=$(cut -d' ' -f1 "$file.sha256")
    if [ "$sum" != "$recorded" ]; then
      rm -f "$tmp"
      log "$url now has sha256 $sum but $recorded is recorded; if Image Factory rebuilt it, delete $file.sha256 to accept it"
      return 1
    fi
  fi
  chmod 0644 "$tmp"
  mv -f "$tmp" "$file"
  if [ ! -f "$file.sha256" ]; then
    printf '%s  %s\n' "$sum" "$(basename "$file")" > "$file.sha256"
    log "recorded sha256 $sum for $1"
  fi
}

for ((i = 0; i < ${#TALOS_ASSETS[@]}; i += 2)); do fetch_asset "${TALOS_ASSETS[@]:i:2}"; done
