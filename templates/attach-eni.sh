#!/bin/bash
# shellcheck disable=SC2154 # the renderer prepends every input as a quoted assignment
# attach_persistent_eni: attaches the persistent ENI that owns ENI_ADDRESS (found by address in this
# instance's VPC, so no resource id is baked into user-data) at device index 1, and waits for the
# kernel to see it. Idempotent: an ENI already attached here is left alone. An ENI still attached to
# a terminated predecessor is retried until AWS releases it. eni_device prints the kernel's name for it.
# Readers in pipelines read to the end: under pipefail, one that quits early can fail the pipeline
# (the writer gets SIGPIPE), depending on timing.
# Inputs: ENI_ADDRESS. Needs shell-prelude.sh (log, imds).

eni_device() {
  ip -o -4 addr show | awk -v a="$ENI_ADDRESS" '!found && $4 ~ "^"a"/" {print $2; found = 1}'
}

attach_persistent_eni() {
  local instance_id region vpc_id mac eni_id status attached_to
  instance_id=$(imds meta-data/instance-id)
  region=$(imds meta-data/placement/region)
  mac=$(imds meta-data/mac)
  vpc_id=$(imds "meta-data/network/interfaces/macs/$mac/vpc-id")
  for attempt in $(seq 1 60); do
    read -r eni_id status attached_to < <(aws ec2 describe-network-interfaces --region "$region" \
      --filters "Name=vpc-id,Values=$vpc_id" "Name=addresses.private-ip-address,Values=$ENI_ADDRESS" \
      --query 'NetworkInterfaces[0].[NetworkInterfaceId, Status, Attachment.InstanceId]' --output text) || true
    if [ "${attached_to:-}" = "$instance_id" ]; then log "ENI $eni_id already attached"; break; fi
    if [ "${status:-}" = "available" ]; then
      aws ec2 attach-network-interface --region "$region" --network-interface-id "$eni_id" \
        --instance-id "$instance_id" --device-index 1 >/dev/null && log "attached ENI $eni_id" && break
    fi
    log "ENI for $ENI_ADDRESS is ${status:-missing} (attached to ${attached_to:-nothing}); waiting (attempt $attempt/60)"
    sleep 10
  done
  for _ in $(seq 1 60); do
    [ -n "$(eni_device)" ] && return 0
    sleep 2
  done
  log "ENI $ENI_ADDRESS did not come up; see docs/troubleshooting.md"
  return 1
}
