/**
 * The NAT instance's user-data: a `#cloud-config` document that writes the setup script and the
 * systemd unit running it on every boot. User-data runs once per instance, but the NAT rules,
 * the forwarding switch and the return route live in the kernel and are gone after a reboot
 * (EC2 maintenance reboots happen): the unit puts them back at every boot.
 */
import { stringify } from "yaml";
import { renderShellScript } from "./shell.js";
import attachEniSource from "./attach-eni.sh";
import natMasqueradeSource from "./nat-masquerade.sh";
import natSetupSource from "./nat-setup.sh";
import shellPreludeSource from "./shell-prelude.sh";
import { resourceName } from "../config/site-view.js";

export const NAT_SETUP_SCRIPT_PATH = "/usr/local/sbin/deathstar-nat-setup";
export const NAT_UNIT_NAME = `${resourceName("nat")}.service`;
/** systemd-networkd keeps routes and rules it did not make (the return route below). */
const NETWORKD_DROP_IN_PATH = "/etc/systemd/networkd.conf.d/deathstar-nat.conf";

export interface NatInstanceScriptInput {
  /** Fixed address of the persistent ENI the private route table targets, e.g. "10.20.1.10". */
  readonly eniAddress: string;
  /** VPC block, routed back through the persistent ENI. */
  readonly vpcCidr: string;
  /** Public subnet's router (its .1), e.g. "10.20.1.1". */
  readonly publicSubnetRouter: string;
}

/** The NAT setup script (nat-setup.sh, with the config's values prepended), idempotent. */
export function renderNatInstanceScript(input: NatInstanceScriptInput): string {
  return renderShellScript(
    `Third Death Star NAT setup, run by ${NAT_UNIT_NAME} on every boot. Rendered from the site config.`,
    { ENI_ADDRESS: input.eniAddress, VPC_CIDR: input.vpcCidr, PUBLIC_ROUTER: input.publicSubnetRouter },
    { "shell-prelude.sh": shellPreludeSource, "attach-eni.sh": attachEniSource, "nat-masquerade.sh": natMasqueradeSource, "nat-setup.sh": natSetupSource },
  );
}

/** The unit running the setup script at every boot, retrying until it succeeds. */
export function renderNatInstanceUnit(): string {
  return `[Unit]
Description=Third Death Star NAT: persistent ENI, forwarding and masquerade for the VPC
Wants=network-online.target
After=network-online.target
StartLimitIntervalSec=0

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${NAT_SETUP_SCRIPT_PATH}
Restart=on-failure
RestartSec=10s

[Install]
WantedBy=multi-user.target
`;
}

export function renderNatInstanceUserData(input: NatInstanceScriptInput): string {
  const document = {
    write_files: [
      { path: NAT_SETUP_SCRIPT_PATH, permissions: "0755", content: renderNatInstanceScript(input) },
      { path: `/etc/systemd/system/${NAT_UNIT_NAME}`, permissions: "0644", content: renderNatInstanceUnit() },
      { path: NETWORKD_DROP_IN_PATH, permissions: "0644", content: "[Network]\nManageForeignRoutes=no\nManageForeignRoutingPolicyRules=no\n" },
    ],
    runcmd: [
      ["systemctl", "daemon-reload"],
      ["systemctl", "try-restart", "systemd-networkd"],
      ["systemctl", "enable", "--now", NAT_UNIT_NAME],
    ],
  };
  return `#cloud-config\n${stringify(document, { lineWidth: 0 })}`;
}
