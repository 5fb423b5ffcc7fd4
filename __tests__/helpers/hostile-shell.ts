/**
 * Values that run `touch <canary>` if a script ever reads them as shell syntax, and the shell
 * scripts the renderers make of them when validation is bypassed. The fast tests check that the
 * schema refuses them and that the scripts parse and keep them literal; the integration tests
 * hand the same scripts to shellcheck.
 */
import type { SiteConfig } from "../../config/schema.js";
import { SITES } from "../../config/sites.js";
import { renderBastionCloudConfigFiles } from "../../templates/cloud-init.js";
import { renderFetchPiFirmwareScript } from "../../templates/fetch-pi-firmware.js";
import { renderNatInstanceScript, type NatInstanceScriptInput } from "../../templates/nat-instance.js";

/** Each tries to run `touch <canary>`. */
export function hostileValues(canary: string): string[] {
  return [
    `$(touch ${canary})`,
    `\`touch ${canary}\``,
    `'; touch ${canary}; '`,
    `"; touch ${canary}; "`,
    `x\ntouch ${canary}`,
    `\${IFS}|touch ${canary}&`,
    `* ? [a] ~ ! # \\ > < &&`,
  ];
}

/** The NAT setup script's input, every field made of hostile values. */
export function hostileNatInput(canary: string): NatInstanceScriptInput {
  const values = hostileValues(canary);
  return { eniAddress: values[0]!, vpcCidr: values.slice(1, 4).join(""), publicSubnetRouter: values.slice(4).join("") };
}

/**
 * The AWS site with a hostile value appended to every free-text field a bastion script can read
 * (addresses stay valid: they feed arithmetic, not text). Bypasses validation on purpose.
 */
function hostileBastionConfig(value: string): Readonly<SiteConfig> {
  const c = structuredClone(SITES.aws) as SiteConfig;
  const poison = (text: string) => `${text}${value}`;
  c.site.name = poison(c.site.name);
  c.network.domainName = poison(c.network.domainName);
  c.images = Object.fromEntries(Object.entries(c.images).map(([k, v]) => [k, poison(v)])) as SiteConfig["images"];
  c.bastion.tailscale.enabled = true;
  c.bastion.secrets = { piholeWebPassword: poison(c.bastion.secrets.piholeWebPassword), tailscaleAuthKey: poison(c.bastion.secrets.tailscaleAuthKey) };
  c.services.registryCaches = c.services.registryCaches.map((cache) => ({
    ...cache,
    name: poison(cache.name),
    upstream: poison(cache.upstream),
    credentialsParameter: poison(`/deathstar/registry/${cache.name}`),
  }));
  c.talos = { ...c.talos, version: poison(c.talos.version), schematicId: poison(c.talos.schematicId), clusterName: poison(c.talos.clusterName) };
  c.talos.machineConfigUrl = poison("http://10.20.13.140:8080/talos/controlplane.yaml");
  c.tags = { Owner: value };
  return c;
}

/** The home site with one Raspberry Pi whose serial number is a hostile value (the Pi fetch step reads it). Bypasses validation on purpose. */
function hostilePiConfig(value: string): Readonly<SiteConfig> {
  const c = structuredClone(SITES.home) as SiteConfig;
  c.raspberryPi.nodes = [{ name: "pi-1", model: "CM3", serial: `1a2b3c4d${value}`, mac: "b8:27:eb:2b:3c:4d", role: "worker" }];
  return c;
}

/** The NAT setup script, every shell script of the bastion's cloud-init and the Pi fetch step, rendered from hostile values; `name` is a file name. */
export function hostileScripts(canary: string): { readonly name: string; readonly content: string }[] {
  const value = hostileValues(canary).join("");
  const bastion = renderBastionCloudConfigFiles(hostileBastionConfig(value))
    .filter((file) => file.path.endsWith(".sh") || file.content.startsWith("#!/bin/bash"))
    .map((file) => ({ name: file.path.replace(/\//g, "_"), content: file.content }));
  return [
    { name: "nat-instance.sh", content: renderNatInstanceScript(hostileNatInput(canary)) },
    ...bastion,
    { name: "fetch-pi-firmware.sh", content: renderFetchPiFirmwareScript(hostilePiConfig(value)) },
  ];
}
