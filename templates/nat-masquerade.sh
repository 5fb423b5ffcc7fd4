#!/bin/bash
# shellcheck disable=SC2154 # the renderer prepends every input as a quoted assignment
# masquerade_vpc ROUTER: the NAT steps the NAT instance and a bastion that is its own NAT
# (network.nat "bastion") both run. Traffic from the VPC arrives on the persistent ENI (the owner of
# ENI_ADDRESS, the private route table's 0.0.0.0/0 target, source/dest check off) and is masqueraded
# out of the default route's interface, the primary one with the public IPv4, whose check stays on.
# Replies to the VPC leave through the ENI: VPC_CIDR is routed via ROUTER, the router of the ENI's
# subnet. The FORWARD accepts hold when the chain's policy is DROP, which Docker sets when it is
# the one to switch forwarding on (the bastion's Docker starts before its boot unit after a reboot).
# Idempotent. Inputs: ENI_ADDRESS VPC_CIDR. Needs shell-prelude.sh (log, retry), attach-eni.sh
# (eni_device) and the ENI attached.

masquerade_vpc() {
  local router=$1 uplink inside
  rpm -q iptables-nft >/dev/null 2>&1 || retry 10 6 dnf install -y iptables-nft
  uplink=$(ip -o route show default | awk 'NR == 1 {print $5}')
  inside=$(eni_device)
  sysctl -q -w net.ipv4.ip_forward=1
  iptables -C FORWARD -i "$inside" -o "$uplink" -s "$VPC_CIDR" -j ACCEPT 2>/dev/null \
    || iptables -I FORWARD -i "$inside" -o "$uplink" -s "$VPC_CIDR" -j ACCEPT
  iptables -C FORWARD -i "$uplink" -o "$inside" -d "$VPC_CIDR" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT 2>/dev/null \
    || iptables -I FORWARD -i "$uplink" -o "$inside" -d "$VPC_CIDR" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  iptables -t nat -C POSTROUTING -o "$uplink" -s "$VPC_CIDR" -j MASQUERADE 2>/dev/null \
    || iptables -t nat -A POSTROUTING -o "$uplink" -s "$VPC_CIDR" -j MASQUERADE
  # onlink: the subnet router is on the ENI's link by definition, even before DHCP adds its subnet route.
  ip route replace "$VPC_CIDR" via "$router" dev "$inside" onlink
  log "NAT ready: $VPC_CIDR via $inside out of $uplink"
}
