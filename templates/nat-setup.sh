#!/bin/bash
# shellcheck disable=SC2154 # the renderer prepends every input as a quoted assignment
# The NAT instance's setup, run by its systemd unit on every boot (templates/nat-instance.ts renders
# it). Private subnets route 0.0.0.0/0 to the persistent ENI (eth1), so the route survives instance
# replacement. Traffic is masqueraded out of eth0, whose public IP exists (and is billed) only while
# the instance runs. Replies to the VPC leave through eth1, whose source/dest check is off, so eth0
# keeps its check on. Idempotent.
# Inputs: ENI_ADDRESS VPC_CIDR PUBLIC_ROUTER. Needs shell-prelude.sh and attach-eni.sh.

rpm -q iptables-nft >/dev/null 2>&1 || retry 10 6 dnf install -y iptables-nft
attach_persistent_eni
uplink=$(ip -o route show default | awk '{print $5; exit}')
inside=$(ip -o -4 addr show | awk -v a="$ENI_ADDRESS" '$4 ~ "^"a"/" {print $2; exit}')
sysctl -q -w net.ipv4.ip_forward=1
iptables -t nat -C POSTROUTING -o "$uplink" -s "$VPC_CIDR" -j MASQUERADE 2>/dev/null \
  || iptables -t nat -A POSTROUTING -o "$uplink" -s "$VPC_CIDR" -j MASQUERADE
# onlink: the subnet router is on the ENI's link by definition, even before DHCP adds its subnet route.
ip route replace "$VPC_CIDR" via "$PUBLIC_ROUTER" dev "$inside" onlink
log "NAT ready: $VPC_CIDR via $inside out of $uplink"
