/** Cross-field rules about the Raspberry Pis a home site netboots (docs/raspberry-pi.md). */
import { PI_MAC_PREFIXES, PI_MODELS } from "../raspberry-pi.js";
import type { SiteConfig } from "../schema.js";
import { MATCHBOX_DEFAULT_GROUP, talosNodeName } from "../site-view.js";
import type { Problem } from "./problem.js";

/** Rule raspberryPisAtHome: Pis netboot from the home fileserver's DHCP and TFTP; EC2 has neither (nor Pis). */
export function raspberryPisAtHome(c: SiteConfig): Problem[] {
  if (c.raspberryPi.nodes.length === 0) return [];
  if (c.site.kind !== "home") {
    return [{ path: ["raspberryPi", "nodes"], message: `Raspberry Pis netboot only at a home site (site.kind "home"), not on this ${c.site.kind} site; set raspberryPi.nodes to [] here and list them in the home site's config (examples/home-pi.yaml)` }];
  }
  const { dhcp, tftp } = c.bastion.dnsmasq;
  return (["dhcp", "tftp"] as const)
    .filter((key) => !{ dhcp, tftp }[key])
    .map((key) => ({ path: ["bastion", "dnsmasq", key], message: `must be true while raspberryPi.nodes lists Pis: their boot ROM asks DHCP for option 43 and reads its firmware over TFTP` }));
}

/**
 * Rule raspberryPisDistinct: each Pi has its own serial (its TFTP dir), MAC (its matchbox group's
 * selector) and name (its hostname and matchbox group), and no Pi takes a Talos node's name or
 * that of matchbox's default group.
 */
export function raspberryPisDistinct(c: SiteConfig): Problem[] {
  const talosNames = new Set([...c.talos.nodeIps.map((_, i) => talosNodeName(i)), MATCHBOX_DEFAULT_GROUP]);
  return c.raspberryPi.nodes.flatMap((pi, i): Problem[] => {
    const first = (key: "serial" | "mac" | "name") => c.raspberryPi.nodes.findIndex((other) => other[key] === pi[key]);
    const problems: Problem[] = [];
    for (const key of ["serial", "mac", "name"] as const) {
      const j = first(key);
      if (j !== i) problems.push({ path: ["raspberryPi", "nodes", i, key], message: `${pi[key]} is already the ${key} of raspberryPi.nodes.${j}; every Pi has its own (${{ serial: "the serial number names its TFTP dir", mac: "matchbox picks its profile by MAC", name: "the name is its hostname" }[key]})` });
    }
    if (talosNames.has(pi.name) && first("name") === i) {
      const taken = pi.name === MATCHBOX_DEFAULT_GROUP ? "matchbox's group for unknown machines" : "a Talos node's name (talos.nodeIps)";
      problems.push({ path: ["raspberryPi", "nodes", i, "name"], message: `${pi.name} is ${taken}; name the Pi e.g. "pi-${i + 1}"` });
    }
    return problems;
  });
}

/** Rule raspberryPiMacs: dnsmasq offers the Pi boot service only to Raspberry Pi Ltd's MAC prefixes. */
export function raspberryPiMacs(c: SiteConfig): Problem[] {
  return c.raspberryPi.nodes.flatMap((pi, i): Problem[] =>
    PI_MAC_PREFIXES.some((prefix) => pi.mac.startsWith(`${prefix}:`))
      ? []
      : [{ path: ["raspberryPi", "nodes", i, "mac"], message: `${pi.mac} is not a Raspberry Pi MAC (${PI_MAC_PREFIXES.join(", ")}); give the MAC the boot ROM uses, as "ip link" on the board or the DHCP log shows it (a Pi 3 or CM3: b8:27:eb:…)` }],
  );
}

/**
 * Rule raspberryPisWithoutCozystack: a Pi joins the cluster as a worker, where CozyStack runs its
 * per-node components (Cilium, kube-ovn, LINSTOR), which a 1 GiB board cannot hold beside Talos.
 */
export function raspberryPisWithoutCozystack(c: SiteConfig): Problem[] {
  if (c.raspberryPi.nodes.length === 0 || !c.talos.cozystack.enabled) return [];
  const small = [...new Set(c.raspberryPi.nodes.map((pi) => `${pi.model} (${PI_MODELS[pi.model].memoryGib} GiB)`))].join(", ");
  return [{ path: ["talos", "cozystack", "enabled"], message: `must be false while raspberryPi.nodes lists Pis: a ${small} cannot run CozyStack's per-node components; run the Pis in a plain Talos cluster (docs/raspberry-pi.md)` }];
}
