import { ingressSources, resourceRule } from "./rule.js";

/** Any CIDR with prefix length 0 ("0.0.0.0/0", "::/0", "0::/0") matches every address. */
export function isOpenCidr(cidr: string): boolean {
  return /\/0+$/.test(cidr.trim());
}

/** Nothing in this lab serves the internet: operators come in over SSM, Tailscale or a /128. */
export const noOpenIngress = resourceRule({
  id: "DS-SG-NO-OPEN-INGRESS",
  explanation: "No security group accepts traffic from 0.0.0.0/0 or ::/0; every ingress names its source (a /128, a subnet or another group).",
  fix: "Replace the /0 source with the operator's /128 (access.operatorSshSources), a subnet CIDR or referenced_security_group_id; use SSM Session Manager or Tailscale for remote access.",
  check: (block) =>
    ingressSources(block)
      .filter(({ kind, value }) => kind !== "prefix-list" && isOpenCidr(value))
      .map(({ path, value }) => `${path} allows ingress from ${value}`),
});
