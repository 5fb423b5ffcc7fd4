#!/bin/bash
# shellcheck disable=SC2154 # the renderer prepends every input as a quoted assignment
# The bundle's scripts/fetch-pi-firmware.sh (templates/raspberry-pi.ts renders it): downloads the
# pinned Debian packages of the Raspberry Pi firmware, U-Boot rpi_arm64 and the arm64 kernel's Pi
# device trees, refuses any whose sha256 differs from the pin, and assembles the TFTP files
# dnsmasq serves: bootcode.bin at the root, and per Pi a dir named after its serial number with
# start.elf, fixup.dat, u-boot.bin, the device tree and the rendered config.txt.
# Verified packages are kept in DEB_CACHE, so a re-run (after a new config.txt) downloads nothing.
# Needs curl, sha256sum, ar (binutils), tar and xz. RASPI_DEB_MIRROR overrides the mirror.
# Inputs: DEFAULT_DEB_MIRROR, DEB_CACHE, TFTP_DIR, CONFIG_DIR (relative to the bundle dir);
# FIRMWARE_DEB, U_BOOT_DEB, DTB_DEB (arrays: pool path, sha256, dir inside the package); BOOTCODE,
# FIRMWARE_FILES (array), U_BOOT; PIS (array, two per Pi: serial number, device tree).

set -euo pipefail
log() { printf '%s fetch-pi-firmware: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }
cd "$(dirname "$0")/.."
mirror=${RASPI_DEB_MIRROR:-$DEFAULT_DEB_MIRROR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fetch_deb POOL SHA256 DIR: the verified package in DEB_CACHE (downloaded when missing or damaged),
# its DIR unpacked into $work/<package file>.
fetch_deb() {
  local pool=$1 sha256=$2 dir=$3 file tmp
  file="$DEB_CACHE/$(basename "$pool")"
  if ! { [ -f "$file" ] && sha256sum --quiet --check - <<< "$sha256  $file" 2> /dev/null; }; then
    mkdir -p "$DEB_CACHE"
    tmp=$(mktemp "$file.XXXXXX")
    if ! curl -fsSL --retry 5 --retry-delay 5 --retry-connrefused -o "$tmp" "$mirror/$pool"; then
      rm -f "$tmp"
      log "download of $mirror/$pool failed"
      return 1
    fi
    if ! sha256sum --quiet --check - <<< "$sha256  $tmp" > /dev/null 2>&1; then
      rm -f "$tmp"
      log "$mirror/$pool does not have the pinned sha256 $sha256; refusing it"
      return 1
    fi
    mv -f "$tmp" "$file"
    log "downloaded $(basename "$pool") (sha256 $sha256)"
  fi
  mkdir -p "$work/$(basename "$pool")"
  ar p "$file" data.tar.xz | tar -xJ -C "$work/$(basename "$pool")" "./$dir"
}

# install_file SOURCE TARGET: replaces TARGET in one step, world-readable (dnsmasq reads it after dropping root).
install_file() {
  local tmp
  tmp=$(mktemp "$2.XXXXXX")
  cp "$1" "$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$2"
}

fetch_deb "${FIRMWARE_DEB[@]}"
fetch_deb "${U_BOOT_DEB[@]}"
fetch_deb "${DTB_DEB[@]}"
firmware_dir="$work/$(basename "${FIRMWARE_DEB[0]}")/${FIRMWARE_DEB[2]}"
uboot_dir="$work/$(basename "${U_BOOT_DEB[0]}")/${U_BOOT_DEB[2]}"
dtb_dir="$work/$(basename "${DTB_DEB[0]}")/${DTB_DEB[2]}"

mkdir -p "$TFTP_DIR"
# compose mounts bootcode.bin as a file; started before this step, Docker made an empty dir there.
if [ -d "$TFTP_DIR/$BOOTCODE" ]; then rmdir "$TFTP_DIR/$BOOTCODE"; fi
install_file "$firmware_dir/$BOOTCODE" "$TFTP_DIR/$BOOTCODE"
for ((i = 0; i < ${#PIS[@]}; i += 2)); do
  serial=${PIS[i]} dtb=${PIS[i + 1]}
  mkdir -p "$TFTP_DIR/$serial"
  chmod 0755 "$TFTP_DIR/$serial"
  for file in "${FIRMWARE_FILES[@]}"; do install_file "$firmware_dir/$file" "$TFTP_DIR/$serial/$file"; done
  install_file "$uboot_dir/$U_BOOT" "$TFTP_DIR/$serial/$U_BOOT"
  install_file "$dtb_dir/$dtb" "$TFTP_DIR/$serial/$dtb"
  install_file "$CONFIG_DIR/$serial/config.txt" "$TFTP_DIR/$serial/config.txt"
  log "TFTP dir $TFTP_DIR/$serial ready"
done
