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
import { REGISTRY_S3_ENV_FILE, registryConfigPath, registryServiceName, TAILSCALE_SECRETS_ENV_FILE } from "../../templates/compose.js";
import { S3_BUCKET_ENV } from "../../templates/registry.js";
import { toolchain } from "../helpers/toolchain.js";
import { firstDefaultsConfig, S3_CACHE_OVERRIDE, siteConfig } from "../helpers/synth.js";
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
    const variable = path.includes("pihole") ? "WEBPASSWORD" : path === REGISTRY_S3_ENV_FILE ? S3_BUCKET_ENV : "TS_AUTHKEY";
    writeFileSync(join(dir, path), `${variable}='test-only'\n`, { mode: 0o600 });
  }
  const result = spawnSync(composeCheck, [join(dir, "compose.yaml")], { encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH } });
  if (result.error) throw result.error;
  return { dir, status: result.status, stderr: result.stderr, project: result.status === 0 ? (JSON.parse(result.stdout) as LoadedProject) : undefined };
}

describe("compose.yaml loaded as docker compose loads it", () => {
  it.each([
    // The caches on a volume (the first defaults); S3 mode needs the bucket's env file (below).
    ["aws", firstDefaultsConfig(), [PIHOLE_SECRETS_ENV_FILE]],
    ["home", siteConfig({}, "home"), [PIHOLE_SECRETS_ENV_FILE]],
    ["aws-tailscale", firstDefaultsConfig({ bastion: { tailscale: { enabled: true } } }), [PIHOLE_SECRETS_ENV_FILE, TAILSCALE_SECRETS_ENV_FILE]],
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

  it("S3 cache storage: every cache gets the bucket from the boot script's env file and mounts only its config", () => {
    const config = siteConfig(S3_CACHE_OVERRIDE);
    const { dir, status, stderr, project } = load("aws-s3", config, [PIHOLE_SECRETS_ENV_FILE, REGISTRY_S3_ENV_FILE]);
    expect(status, stderr).toBe(0);
    for (const cache of config.services.registryCaches) {
      const service = project!.services[registryServiceName(cache)]!;
      expect(service.environment).toEqual({ [S3_BUCKET_ENV]: "test-only", OTEL_TRACES_EXPORTER: "none" });
      expect(service.volumes.map((v) => [v.source, v.target])).toEqual([[join(dir, registryConfigPath(cache)), "/etc/docker/registry/config.yml"]]);
    }
    // Without the boot script's file the caches do not start at all (no bucket, no silent default).
    const missing = load("aws-s3-no-bucket", config, [PIHOLE_SECRETS_ENV_FILE]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(REGISTRY_S3_ENV_FILE);
  });

  it("refuses to start Pi-hole without its password file (created at boot, or by hand at home)", () => {
    const { status, stderr } = load("no-secrets", firstDefaultsConfig(), []);
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
