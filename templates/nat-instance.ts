import { SHELL_PRELUDE, ATTACH_ENI_FUNCTION, shellAssignments } from "./shell.js";

export interface NatInstanceScriptInput {
  /** Fixed address of the persistent ENI the private route table targets, e.g. "10.20.1.10". */
  readonly eniAddress: string;
  /** VPC block, routed back through the persistent ENI. */
  readonly vpcCidr: string;
  /** Public subnet's router (its .1), e.g. "10.20.1.1". */
  readonly publicSubnetRouter: string;
}

/**
 * Boot script of the NAT instance. Private subnets route 0.0.0.0/0 to the persistent ENI (eth1),
 * so the route survives instance replacement. Traffic is masqueraded out of eth0, whose public IP
 * exists (and is billed) only while the instance runs. Replies to the VPC leave through eth1,
 * whose source/dest check is off, so eth0 keeps its check on.
 */
export function renderNatInstanceScript(input: NatInstanceScriptInput): string {
  return `#!/bin/bash
${SHELL_PRELUDE}
${shellAssignments({ ENI_ADDRESS: input.eniAddress, VPC_CIDR: input.vpcCidr, PUBLIC_ROUTER: input.publicSubnetRouter })}
${ATTACH_ENI_FUNCTION}

rpm -q iptables-nft >/dev/null 2>&1 || retry 10 6 dnf install -y iptables-nft
attach_persistent_eni
uplink=$(ip -o route show default | awk '{print $5; exit}')
inside=$(ip -o -4 addr show | awk -v a="$ENI_ADDRESS" '$4 ~ "^"a"/" {print $2; exit}')
sysctl -q -w net.ipv4.ip_forward=1
echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/90-deathstar-nat.conf
iptables -t nat -C POSTROUTING -o "$uplink" -s "$VPC_CIDR" -j MASQUERADE 2>/dev/null \\
  || iptables -t nat -A POSTROUTING -o "$uplink" -s "$VPC_CIDR" -j MASQUERADE
ip route replace "$VPC_CIDR" via "$PUBLIC_ROUTER" dev "$inside"
log "NAT ready: $VPC_CIDR via $inside out of $uplink"
`;
}
