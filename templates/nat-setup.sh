#!/bin/bash
# shellcheck disable=SC2154 # the renderer prepends every input as a quoted assignment
# The NAT instance's setup, run by its systemd unit on every boot (templates/nat-instance.ts renders
# it). Private subnets route 0.0.0.0/0 to the persistent ENI (eth1), so the route survives instance
# replacement. Traffic is masqueraded out of eth0, whose public IP exists (and is billed) only while
# the instance runs; the ENI sits in the public subnet beside it, so replies to the VPC are routed
# via the public subnet's router out of the ENI. Idempotent.
# Inputs: ENI_ADDRESS VPC_CIDR PUBLIC_ROUTER. Needs shell-prelude.sh, attach-eni.sh and nat-masquerade.sh.

attach_persistent_eni
masquerade_vpc "$PUBLIC_ROUTER"
