/**
 * The iPXE script a Talos node runs: EC2 user-data of the iPXE AMI (iPXE's EC2 build reads it
 * over IMDSv2), or the script embedded in an iPXE binary at home. One script for every node:
 * the node identifies itself to matchbox by its fixed address (`ip` label), MAC and UUID.
 * Until matchbox answers (the bastion may still be booting) it waits and retries instead of failing.
 */
import type { SiteConfig } from "../config/schema.js";
import { siteView } from "../config/site-view.js";

/** Seconds between attempts to reach matchbox. */
export const IPXE_RETRY_SECONDS = 10;

/** The chain URL; `${...}` are iPXE settings expanded on the node. */
export function ipxeChainUrl(config: Readonly<SiteConfig>): string {
  return `${siteView(config).matchboxUrl}/ipxe?ip=\${net0/ip}&mac=\${mac:hexhyp}&uuid=\${uuid}`;
}

export function renderIpxeScript(config: Readonly<SiteConfig>): string {
  return `#!ipxe
echo Third Death Star netboot via ${siteView(config).matchboxUrl}
:retry
ifstat net0 && isset \${net0/ip} || dhcp || goto wait
chain --autofree ${ipxeChainUrl(config)} || goto wait
:wait
echo matchbox at ${siteView(config).matchboxUrl} not reachable yet; retrying in ${IPXE_RETRY_SECONDS}s
sleep ${IPXE_RETRY_SECONDS}
goto retry
`;
}
