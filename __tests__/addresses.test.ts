/**
 * Resource addresses are public API: state is keyed by them. This list is the complete, sorted
 * set for the default site. A change here renames or removes something in every user's state:
 * add a `moved` block (or an import) in the same change, never just update the list.
 */
import { describe, expect, it } from "vitest";
import { CACHE_BUCKET_ADDRESSES, firstDefaultsConfig, resourceAddresses, S3_CACHE_OVERRIDE as S3_CACHE, synthStack } from "./helpers/synth.js";

/** The first defaults (config/designs.ts): a NAT instance, the caches on a gp3 volume. */
const FIRST_DEFAULTS_ADDRESSES = [
  "aws_autoscaling_group.bastion",
  "aws_autoscaling_group.nat_instance",
  "aws_autoscaling_schedule.bastion_start",
  "aws_autoscaling_schedule.bastion_stop",
  "aws_autoscaling_schedule.nat_instance_start",
  "aws_autoscaling_schedule.nat_instance_stop",
  "aws_budgets_budget.monthly",
  "aws_cloudwatch_metric_alarm.talos_node_expiry_failed",
  "aws_default_security_group.default",
  "aws_ebs_volume.bastion_cache",
  "aws_iam_instance_profile.bastion",
  "aws_iam_instance_profile.nat_instance",
  "aws_iam_role.bastion",
  "aws_iam_role.nat_instance",
  "aws_iam_role.talos_node_expiry",
  "aws_iam_role_policy.bastion",
  "aws_iam_role_policy.nat_instance",
  "aws_iam_role_policy.talos_node_expiry",
  "aws_instance.talos_node",
  "aws_internet_gateway.main",
  "aws_launch_template.bastion",
  "aws_launch_template.nat_instance",
  "aws_launch_template.talos_node",
  "aws_network_interface.bastion",
  "aws_network_interface.nat_instance",
  "aws_route.private_default",
  "aws_route.public_default",
  "aws_route_table.private",
  "aws_route_table.public",
  "aws_route_table_association.private",
  "aws_route_table_association.public",
  "aws_scheduler_schedule.talos_node_expiry",
  "aws_security_group.bastion",
  "aws_security_group.nat_instance",
  "aws_security_group.talos_nodes",
  "aws_sns_topic.talos_node_expiry_failed",
  "aws_sns_topic_subscription.talos_node_expiry_failed",
  "aws_sqs_queue.talos_node_expiry_dead_letters",
  "aws_subnet.private",
  "aws_subnet.public",
  "aws_vpc.main",
  "aws_vpc_dhcp_options.main",
  "aws_vpc_dhcp_options_association.main",
  "aws_vpc_security_group_egress_rule.bastion_all",
  "aws_vpc_security_group_egress_rule.nat_instance_all",
  "aws_vpc_security_group_egress_rule.talos_nodes_https",
  "aws_vpc_security_group_egress_rule.talos_nodes_to_bastion",
  "aws_vpc_security_group_egress_rule.talos_nodes_to_self",
  "aws_vpc_security_group_ingress_rule.bastion_dns_tcp",
  "aws_vpc_security_group_ingress_rule.bastion_dns_udp",
  "aws_vpc_security_group_ingress_rule.bastion_from_talos_nodes",
  "aws_vpc_security_group_ingress_rule.bastion_ssh_operator_0",
  "aws_vpc_security_group_ingress_rule.nat_instance_from_private",
  "aws_vpc_security_group_ingress_rule.talos_nodes_from_bastion",
  "aws_vpc_security_group_ingress_rule.talos_nodes_from_self",
  "terraform_data.talos_session",
];

/** network.nat "bastion": no NAT instance; the bastion's egress-only public group and the rule admitting what it forwards. */
const BASTION_NAT_ADDRESSES = {
  without: FIRST_DEFAULTS_ADDRESSES.filter((a) => a.includes(".nat_instance")),
  with: ["aws_security_group.bastion_public", "aws_vpc_security_group_egress_rule.bastion_public_all", "aws_vpc_security_group_ingress_rule.bastion_forward_from_private"],
};

/** S3 caches: the bucket, its settings and the gateway endpoint replace the cache volume. */
const S3_CACHE_ADDRESSES = { without: ["aws_ebs_volume.bastion_cache"], with: [...CACHE_BUCKET_ADDRESSES, "aws_vpc_endpoint.s3"] };

const change = (base: readonly string[], ...changes: { without: readonly string[]; with: readonly string[] }[]) =>
  changes.reduce<string[]>((list, c) => [...list.filter((a) => !c.without.includes(a)), ...c.with], [...base]).sort();

/** The default site: the bastion its own NAT (on spot: the same addresses) and the caches on S3. */
const DEFAULT_SITE_ADDRESSES = change(FIRST_DEFAULTS_ADDRESSES, BASTION_NAT_ADDRESSES, S3_CACHE_ADDRESSES);

describe("resource addresses", () => {
  const stack = synthStack();

  it("are exactly the pinned list for the default site: the first defaults' list with the NAT on the bastion and the caches on S3", () => {
    expect(resourceAddresses(stack)).toEqual(DEFAULT_SITE_ADDRESSES);
  });

  it("are exactly the pinned list for the first defaults", () => {
    expect(resourceAddresses(synthStack(firstDefaultsConfig()))).toEqual(FIRST_DEFAULTS_ADDRESSES);
  });

  it("are the pinned list with the NAT on the bastion", () => {
    expect(BASTION_NAT_ADDRESSES.without).toHaveLength(11);
    expect(resourceAddresses(synthStack(firstDefaultsConfig({ network: { nat: "bastion" } })))).toEqual(change(FIRST_DEFAULTS_ADDRESSES, BASTION_NAT_ADDRESSES));
  });

  it("in S3 cache mode: the bucket, its settings and the gateway endpoint replace the cache volume, nothing else changes", () => {
    expect(resourceAddresses(synthStack(firstDefaultsConfig(S3_CACHE)))).toEqual(change(FIRST_DEFAULTS_ADDRESSES, S3_CACHE_ADDRESSES));
  });

  it("are readable: snake_case names with no hash suffix", () => {
    for (const address of [...resourceAddresses(stack), ...resourceAddresses(synthStack(firstDefaultsConfig()))]) {
      const name = address.split(".")[1]!;
      expect(name, address).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(name, address).not.toMatch(/[0-9A-F]{8}$/);
    }
  });
});
