/**
 * The scripts are shell source files (templates/*.sh) that renderers prepend the config's values
 * to: each file has a header and is rendered by someone, rendered scripts carry the values first
 * and no comment lines, and bash parses every rendered script. shellcheck reads the source files
 * and the rendered scripts in __tests__/integration/bastion-tools.test.ts.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSiteConfig } from "../config/load.js";
import { renderBastionBootScript } from "../templates/bastion-boot.js";
import { renderFetchPiFirmwareScript } from "../templates/fetch-pi-firmware.js";
import { renderFetchTalosAssetsScript } from "../templates/fetch-talos-assets.js";
import { renderNatInstanceScript } from "../templates/nat-instance.js";
import { renderShellScript } from "../templates/shell.js";
import { siteConfig } from "./helpers/synth.js";

const TEMPLATES = join(import.meta.dirname, "..", "templates");
const sources = readdirSync(TEMPLATES).filter((name) => name.endsWith(".sh"));
const renderers = readdirSync(TEMPLATES)
  .filter((name) => name.endsWith(".ts"))
  .map((name) => readFileSync(join(TEMPLATES, name), "utf8"))
  .join("\n");

const withCredentials = siteConfig({
  bastion: { tailscale: { enabled: true } },
  services: { registryCaches: siteConfig().services.registryCaches.map((cache) => ({ ...cache, credentialsParameter: `/deathstar/registry/${cache.name}` })) },
});
const rendered = {
  "bastion boot": renderBastionBootScript(siteConfig()),
  "bastion boot with credentials": renderBastionBootScript(withCredentials),
  "bastion boot, its own NAT": renderBastionBootScript(siteConfig({ network: { nat: "bastion" } })),
  "NAT setup": renderNatInstanceScript({ eniAddress: "10.20.1.10", vpcCidr: "10.20.0.0/16", publicSubnetRouter: "10.20.1.1" }),
  "Talos asset fetcher": renderFetchTalosAssetsScript(siteConfig({}, "home")),
  "Raspberry Pi firmware fetcher": renderFetchPiFirmwareScript(loadSiteConfig({ site: "home", configFile: join(import.meta.dirname, "../examples/home-pi.yaml") })),
};

describe("shell source files", () => {
  it.each(sources)("%s starts with a header and a renderer imports it", (name) => {
    expect(readFileSync(join(TEMPLATES, name), "utf8")).toMatch(/^#!\/bin\/bash\n(#.*\n)+\n/);
    expect(renderers).toMatch(new RegExp(`from "\\./${name.replace(".", "\\.")}";`));
  });
});

describe("rendered scripts", () => {
  it.each(Object.entries(rendered))("%s: bash parses it", (_name, script) => {
    const result = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it.each(Object.entries(rendered))("%s: the shebang, one header line naming its sources, then the values, and no other comment line", (_name, script) => {
    const lines = script.split("\n");
    expect(lines[0]).toBe("#!/bin/bash");
    expect(lines[1]).toMatch(/ Source: templates\/[a-z-]+\.sh(, templates\/[a-z-]+\.sh)*\.$/);
    expect(lines[2]).toMatch(/^[A-Z_]+=/);
    expect(lines.slice(2).filter((line) => /^\s*#/.test(line))).toEqual([]);
  });

  it("credential functions only when a cache has credentials (EC2 caps user-data at 16 KB)", () => {
    expect(rendered["bastion boot"]).not.toContain("templates/registry-credentials.sh");
    expect(rendered["bastion boot with credentials"]).toContain("templates/registry-credentials.sh");
  });

  it("refuses a source file without its header, and a variable name that is not one", () => {
    expect(() => renderShellScript("x", {}, { "x.sh": "echo no header\n" })).toThrow(/starts with #!\/bin\/bash and a header/);
    expect(() => renderShellScript("x", { "bad-name": "v" }, {})).toThrow(/invalid shell variable name: bad-name/);
  });

  it("quotes scalars and array elements alike", () => {
    expect(renderShellScript("x", { ONE: "it's", MANY: ["a b", "$(c)"], NONE: [] }, {})).toBe("#!/bin/bash\n# x Source: .\nONE='it'\"'\"'s'\nMANY=('a b' '$(c)')\nNONE=()\n");
  });
});
