/**
 * Pi-hole v5 settings (the schema rejects v6 tags, whose variables were all renamed): the
 * container environment and the lab's local DNS records. The web password is not here: it is
 * read from SSM Parameter Store at boot into a root-only env file (`PIHOLE_SECRETS_ENV_FILE`).
 */
import type { SiteConfig } from "../config/schema.js";
import { siteView } from "../config/site-view.js";

/** Root-only env file holding WEBPASSWORD, relative to the bundle dir. */
export const PIHOLE_SECRETS_ENV_FILE = "secrets/pihole.env";
/** The local records file, in the bundle's pihole/ dir; Pi-hole's dnsmasq reads it from /etc/dnsmasq.d. */
export const PIHOLE_HOSTS_FILE_NAME = "05-deathstar-hosts.conf";

/** Non-secret environment of the Pi-hole v5 container. */
export function renderPiholeEnvironment(config: Readonly<SiteConfig>): Record<string, string> {
  return {
    TZ: config.bastion.schedule.timeZone,
    PIHOLE_DNS_: siteView(config).piholeUpstreams.join(";"),
    // "all": queries arrive from every subnet of the VPC, not only the directly connected one;
    // the security group decides who may ask.
    DNSMASQ_LISTENING: "all",
    FTLCONF_LOCAL_IPV4: siteView(config).bastionAddress,
    WEB_PORT: String(config.services.piholeWebPort),
  };
}

/** Name → address of every host of the lab, under `services.localDomain`. */
export function labHosts(config: Readonly<SiteConfig>): [string, string][] {
  const view = siteView(config);
  const hosts: [string, string][] = [["bastion", view.bastionAddress], ...view.nodes.map((node): [string, string] => [node.name, node.address])];
  if (config.site.kind === "aws" && config.network.nat === "instance") hosts.push(["nat", config.network.natInstance.eniAddress]);
  return hosts.map(([name, ip]) => [`${name}.${config.services.localDomain}`, ip]);
}

/** dnsmasq `host-record` lines (forward and reverse) for Pi-hole's /etc/dnsmasq.d. */
export function renderPiholeHosts(config: Readonly<SiteConfig>): string {
  const lines = labHosts(config).map(([name, ip]) => `host-record=${name},${ip}`);
  return `# Lab hosts, rendered from the site config.\n${lines.join("\n")}\n`;
}
