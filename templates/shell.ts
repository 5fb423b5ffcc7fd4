/**
 * Shell building blocks shared by every boot script. Every value that reaches a script goes
 * through `shellQuote`, so no config string can be read as shell syntax.
 */

/** Single-quotes a value for POSIX sh. */
export function shellQuote(value: string | number): string {
  return `'${String(value).replace(/'/g, `'"'"'`)}'`;
}

/** `NAME='value'` assignment lines, one per entry. */
export function shellAssignments(vars: Readonly<Record<string, string | number>>): string {
  return Object.entries(vars)
    .map(([name, value]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`invalid shell variable name: ${name}`);
      return `${name}=${shellQuote(value)}`;
    })
    .join("\n");
}

/**
 * Functions every boot script starts with: logging to the console and journal, IMDSv2 reads,
 * and a retry helper. IMDSv2 needs a session token; the launch templates require it.
 */
export const SHELL_PRELUDE = `set -euo pipefail
log() { printf '%s deathstar: %s\\n' "$(date -u +%FT%TZ)" "$*" | tee /dev/console >&2 || true; }
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
}`;

/**
 * Attaches the persistent ENI that owns ENI_ADDRESS (found by address in this instance's VPC, so
 * no resource id is baked into user-data) at device index 1, and waits for the kernel to see it.
 * Idempotent: an ENI already attached here is left alone. An ENI still attached to a terminated
 * predecessor is retried until AWS releases it.
 */
export const ATTACH_ENI_FUNCTION = `attach_persistent_eni() {
  local instance_id region vpc_id mac eni_id status attached_to
  instance_id=$(imds meta-data/instance-id)
  region=$(imds meta-data/placement/region)
  mac=$(imds meta-data/mac)
  vpc_id=$(imds "meta-data/network/interfaces/macs/$mac/vpc-id")
  for attempt in $(seq 1 60); do
    read -r eni_id status attached_to < <(aws ec2 describe-network-interfaces --region "$region" \\
      --filters "Name=vpc-id,Values=$vpc_id" "Name=addresses.private-ip-address,Values=$ENI_ADDRESS" \\
      --query 'NetworkInterfaces[0].[NetworkInterfaceId, Status, Attachment.InstanceId]' --output text) || true
    if [ "\${attached_to:-}" = "$instance_id" ]; then log "ENI $eni_id already attached"; break; fi
    if [ "\${status:-}" = "available" ]; then
      aws ec2 attach-network-interface --region "$region" --network-interface-id "$eni_id" \\
        --instance-id "$instance_id" --device-index 1 >/dev/null && log "attached ENI $eni_id" && break
    fi
    log "ENI for $ENI_ADDRESS is \${status:-missing} (attached to \${attached_to:-nothing}); waiting (attempt $attempt/60)"
    sleep 10
  done
  for _ in $(seq 1 60); do
    ip -o -4 addr show | grep -q " $ENI_ADDRESS/" && return 0
    sleep 2
  done
  log "ENI $ENI_ADDRESS did not come up; see docs/troubleshooting.md"
  return 1
}`;
