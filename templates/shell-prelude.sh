#!/bin/bash
# shellcheck disable=SC2154 # the renderer prepends every input as a quoted assignment
# Functions every boot script starts with: logging to the console and journal, IMDSv2 reads (the
# launch templates require a session token), and a retry helper.
# Rendered by templates/shell.ts into the bastion boot and the NAT setup; everything after the
# first blank line is copied verbatim.

set -euo pipefail
log() { printf '%s deathstar: %s\n' "$(date -u +%FT%TZ)" "$*" | tee /dev/console >&2 || true; }
imds() {
  local token
  token=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' http://169.254.169.254/latest/api/token)
  curl -sf -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/$1"
}
retry() {
  local attempts=$1 delay=$2 n=1
  shift 2
  until "$@"; do
    if [ "$n" -ge "$attempts" ]; then return 1; fi
    log "retry $n/$attempts: $*"
    n=$((n + 1))
    sleep "$delay"
  done
}
