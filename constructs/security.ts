import { Construct } from "constructs";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { resourceName } from "../config/site-view.js";
import { securityGroup, securityGroupRules, type SecurityGroupRuleRow } from "./hardening.js";

// The ports live with the rest of the cluster's addresses; re-exported for constructs.
export { KUBERNETES_API_PORT, TALOS_API_PORT } from "../templates/talos-cluster.js";

/** Props of {@link SecurityGroups}. */
export interface SecurityGroupsProps {
  readonly vpcId: string;
  /** Operator IPv6 hosts (/128) allowed to SSH to the bastion. Live once the VPC is dual-stack. */
  readonly operatorSshSources: readonly string[];
  /**
   * mikrotik-sg, for the home router's WireGuard peering.
   * @default - not created
   */
  readonly mikrotik?: { readonly sources: readonly string[]; readonly wireguardPort: number };
}

/** A row of a group's rule table; `name` is the suffix of its resource name. */
type RuleSpec = Omit<SecurityGroupRuleRow, "logicalId" | "nameTag"> & { readonly name: string };

/** The two groups the instances use, whether {@link SecurityGroups} made them or an existing module. */
export interface SecurityGroupIds {
  readonly bastionSecurityGroupId: string;
  readonly talosNodesSecurityGroupId: string;
}

/**
 * The seed's security groups (bastion-sg, talos-nodes-sg, optional mikrotik-sg), one
 * `aws_vpc_security_group_*_rule` per rule so each carries its own description, and the
 * VPC's default security group managed with no rules at all.
 *
 * Security groups never filter traffic to Amazon DNS, the instance metadata service or the
 * Amazon Time Sync Service, so nodes need no egress rule for those.
 */
export class SecurityGroups extends Construct implements SecurityGroupIds {
  readonly bastion: SecurityGroup;
  readonly talosNodes: SecurityGroup;
  readonly mikrotik?: SecurityGroup;
  private readonly vpcId: string;

  constructor(scope: Construct, id: string, props: SecurityGroupsProps) {
    super(scope, id);
    this.vpcId = props.vpcId;
    const defaultGroup = new DefaultSecurityGroup(this, "default", { vpcId: props.vpcId, tags: { Name: resourceName("default-empty") } });
    defaultGroup.overrideLogicalId("default");

    this.bastion = this.group("bastion", "bastion-sg", "Bastion: netboot, registry caches, DNS");
    this.talosNodes = this.group("talos_nodes", "talos-nodes-sg", "Talos nodes");
    this.bastionRules(props.operatorSshSources);
    this.talosNodeRules();
    if (props.mikrotik) this.mikrotik = this.mikrotikGroup(props.mikrotik.sources, props.mikrotik.wireguardPort);
  }

  get bastionSecurityGroupId(): string {
    return this.bastion.id;
  }

  get talosNodesSecurityGroupId(): string {
    return this.talosNodes.id;
  }

  private group(logicalId: string, name: string, description: string): SecurityGroup {
    return securityGroup(this, logicalId, { logicalId, name, description, vpcId: this.vpcId });
  }

  /** The rows of one group's rule table, named after the group: bastion_ssh_operator_0, tagged bastion-ssh-operator-0. */
  private rules(group: SecurityGroup, groupName: string, specs: readonly RuleSpec[]): void {
    securityGroupRules(
      this,
      group.id,
      specs.map(({ name, ...rule }) => ({
        ...rule,
        id: `${groupName}-${rule.direction === "ingress" ? "in" : "out"}-${name}`,
        logicalId: `${groupName}_${name}`,
        nameTag: `${groupName}-${name.replace(/_/g, "-")}`,
      })),
    );
  }

  private bastionRules(operatorSshSources: readonly string[]): void {
    this.rules(this.bastion, "bastion", [
      ...operatorSshSources.map(
        (source, i): RuleSpec => ({
          direction: "ingress",
          name: `ssh_operator_${i}`,
          description: `SSH from operator ${source} (IPv6; live when the VPC is dual-stack)`,
          ipProtocol: "tcp",
          fromPort: 22,
          toPort: 22,
          cidrIpv6: source,
        }),
      ),
      {
        direction: "ingress",
        name: "from_talos_nodes",
        description: "All traffic from Talos nodes (netboot, registry caches, DNS)",
        ipProtocol: "-1",
        referencedSecurityGroupId: this.talosNodes.id,
      },
      {
        direction: "egress",
        name: "all",
        description: "All egress (packages, upstream registries, EC2 and SSM APIs via NAT)",
        ipProtocol: "-1",
        cidrIpv4: "0.0.0.0/0",
      },
    ]);
  }

  private talosNodeRules(): void {
    this.rules(this.talosNodes, "talos_nodes", [
      {
        direction: "ingress",
        name: "from_bastion",
        description: "All traffic from the bastion (talosctl on 50000, kubectl on 6443, probes)",
        ipProtocol: "-1",
        referencedSecurityGroupId: this.bastion.id,
      },
      {
        direction: "ingress",
        name: "from_self",
        description: "Node to node: etcd, kubelet, kube-ovn (6641/6642/6644, 6081/udp Geneve)",
        ipProtocol: "-1",
        referencedSecurityGroupId: this.talosNodes.id,
      },
      {
        direction: "egress",
        name: "to_bastion",
        description: "All traffic to the bastion (matchbox, registry caches, Pi-hole)",
        ipProtocol: "-1",
        referencedSecurityGroupId: this.bastion.id,
      },
      {
        direction: "egress",
        name: "to_self",
        description: "Node to node (etcd, kubelet, overlay)",
        ipProtocol: "-1",
        referencedSecurityGroupId: this.talosNodes.id,
      },
      {
        direction: "egress",
        name: "https",
        description: "HTTPS out via NAT (Image Factory, registries the caches do not cover)",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
      },
    ]);
  }

  private mikrotikGroup(sources: readonly string[], wireguardPort: number): SecurityGroup {
    const group = this.group("mikrotik", "mikrotik-sg", "Home MikroTik router: WireGuard peering");
    this.rules(
      group,
      "mikrotik",
      sources.map((source, i) => ({
        direction: "ingress",
        name: `wireguard_${i}`,
        description: `WireGuard from home router ${source}`,
        ipProtocol: "udp",
        fromPort: wireguardPort,
        toPort: wireguardPort,
        cidrIpv6: source,
      })),
    );
    return group;
  }
}
