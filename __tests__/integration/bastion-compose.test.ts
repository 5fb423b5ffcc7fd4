/**
 * The rendered bundle loaded by compose-go, the library `docker compose` loads files with
 * (scripts/compose-check, built by scripts/toolchain.sh): the Compose Specification schema,
 * env files and relative paths as Compose resolves them from the bundle dir.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SiteConfig } from "../../config/schema.js";
import { renderBastionBundle } from "../../templates/bundle.js";
import { PIHOLE_SECRETS_ENV_FILE } from "../../templates/pihole.js";
import { TAILSCALE_SECRETS_ENV_FILE } from "../../templates/compose.js";
import { toolchain } from "../helpers/toolchain.js";
import { siteConfig } from "../helpers/synth.js";
import { scratchDir } from "../helpers/processes.js";

const composeCheck = toolchain().composeCheck;
const workDir = scratchDir("compose");

interface LoadedProject {
  name: string;
  services: Record<
    string,
    {
      image: string;
      network_mode?: string;
      ports?: { target: number; published: string; protocol: string }[];
      volumes: { type: string; source: string; target: string; read_only?: boolean }[];
      environment?: Record<string, string>;
      healthcheck?: { test: string[] };
    }
  >;
}

/** Writes the bundle (plus the secrets files the boot script would write) and loads compose.yaml. */
function load(name: string, config: Readonly<SiteConfig>, secrets: readonly string[]) {
  const dir = join(workDir, name);
  for (const [path, text] of Object.entries(renderBastionBundle(config))) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  for (const path of secrets) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), `${path.includes("pihole") ? "WEBPASSWORD" : "TS_AUTHKEY"}='test-only'\n`, { mode: 0o600 });
  }
  const result = spawnSync(composeCheck, [join(dir, "compose.yaml")], { encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH } });
  if (result.error) throw result.error;
  return { dir, status: result.status, stderr: result.stderr, project: result.status === 0 ? (JSON.parse(result.stdout) as LoadedProject) : undefined };
}

describe("compose.yaml loaded as docker compose loads it", () => {
  it.each([
    ["aws", siteConfig(), [PIHOLE_SECRETS_ENV_FILE]],
    ["home", siteConfig({}, "home"), [PIHOLE_SECRETS_ENV_FILE]],
    ["aws-tailscale", siteConfig({ bastion: { tailscale: { enabled: true } } }), [PIHOLE_SECRETS_ENV_FILE, TAILSCALE_SECRETS_ENV_FILE]],
  ] as const)("%s: valid, with every path inside the bundle dir", (name, config, secrets) => {
    const { dir, status, stderr, project } = load(name, config, secrets);
    expect(status, stderr).toBe(0);
    expect(project!.name).toBe("deathstar-bastion");
    for (const [service, definition] of Object.entries(project!.services)) {
      for (const volume of definition.volumes) {
        expect(volume.type, service).toBe("bind");
        expect(volume.source.startsWith(`${dir}/`), `${service}: ${volume.source}`).toBe(true);
      }
    }
    // Services nodes reach on the bastion's address share the host's network (docs/bastion.md).
    const reached = Object.entries(project!.services).filter(([service]) => service.startsWith("registry-") || service === "matchbox");
    expect(reached.map(([service, s]) => [service, s.network_mode, s.ports ?? []])).toEqual(reached.map(([service]) => [service, "host", []]));
    expect(project!.services.pihole!.environment!.WEBPASSWORD).toBe("test-only");
    expect(project!.services.pihole!.network_mode).toBe("host");
    expect(Boolean(project!.services.tailscale)).toBe(config.bastion.tailscale.enabled);
  });

  it("refuses to start Pi-hole without its password file (created at boot, or by hand at home)", () => {
    const { status, stderr } = load("no-secrets", siteConfig(), []);
    expect(status).not.toBe(0);
    expect(stderr).toContain("secrets/pihole.env");
  });

  it("rejects what Compose rejects (the check can fail)", () => {
    const dir = join(workDir, "broken");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "compose.yaml"), "services:\n  x:\n    image: registry:2.8.3\n    restart: sometimes\n    portz: []\n");
    const result = spawnSync(composeCheck, [join(dir, "compose.yaml")], { encoding: "utf8", timeout: 60_000 });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/portz|additional properties/i);
  });
});
