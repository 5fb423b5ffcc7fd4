#!/usr/bin/env bash
# Installs what the test suite needs and is not in node_modules: Debian packages listed in
# scripts/apt-packages.txt (only those missing), then the cached toolchain (OpenTofu, the AWS
# provider, moto, matchbox...). Safe to run repeatedly; a warm run takes a second or two.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

mapfile -t wanted < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$repo/scripts/apt-packages.txt")
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cache=${XDG_CACHE_HOME:-$HOME/.cache}/deathstar
mkdir -p "$cache"
# Written whole or not at all: a build that fails or is stopped half way leaves the previous file
# (or none), never an empty one that tests would read as a toolchain without tools.
"$repo/scripts/toolchain.sh" > "$cache/toolchain.env.$$"
mv "$cache/toolchain.env.$$" "$cache/toolchain.env"
