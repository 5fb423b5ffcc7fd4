/**
 * Each rendered cache config runs in Debian's docker-registry (distribution 2.8) and pulls
 * through from an upstream registry on loopback. Only the listen address, the storage dir and
 * the upstream URL are changed for the test (registry 2.8 panics at start when its upstream
 * is unreachable, so the real upstreams cannot be used offline); every other setting is the
 * bundle's.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { registryConfigPath } from "../../templates/compose.js";
import { renderBastionBundle } from "../../templates/bundle.js";
import { siteConfig } from "../helpers/synth.js";

const REGISTRY = "/usr/bin/docker-registry";
const STARTUP_LIMIT_MS = 30_000;
const MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json";

const config = siteConfig();
const bundle = renderBastionBundle(config);
const workDir = mkdtempSync(join(tmpdir(), "deathstar-registry-"));
const processes: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts docker-registry with a config file; its output goes to a log file named after it. */
function startRegistry(name: string, registryConfig: unknown): { log: string } {
  const file = join(workDir, `${name}.yml`);
  const log = join(workDir, `${name}.log`);
  writeFileSync(file, stringify(registryConfig));
  const out = openSync(log, "w");
  const child = spawn(REGISTRY, ["serve", file], { stdio: ["ignore", out, out] });
  processes.push(child);
  return { log };
}

/** Polls /v2/ until it answers 200, the process dies, or the startup limit passes. */
async function waitForV2(base: string, log: string): Promise<Response> {
  const deadline = Date.now() + STARTUP_LIMIT_MS;
  for (;;) {
    try {
      const response = await fetch(`${base}/v2/`);
      if (response.status === 200) return response;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${base}/v2/ did not answer within ${STARTUP_LIMIT_MS} ms:\n${readFileSync(log, "utf8")}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

async function pushBlob(base: string, repo: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  expect(start.status).toBe(202);
  const location = new URL(start.headers.get("location")!, base);
  location.searchParams.set("digest", digest);
  const put = await fetch(location, { method: "PUT", body: data, headers: { "Content-Type": "application/octet-stream" } });
  expect(put.status).toBe(201);
  return digest;
}

describe("registry caches rendered from the config", () => {
  let upstream = "";
  const repo = "deathstar/probe";
  let manifestDigest = "";
  const layer = Buffer.from("layer of the probe image\n");

  beforeAll(async () => {
    const port = await freePort();
    const { log } = startRegistry("upstream", {
      version: 0.1,
      storage: { filesystem: { rootdirectory: join(workDir, "upstream") } },
      http: { addr: `127.0.0.1:${port}` },
    });
    upstream = `http://127.0.0.1:${port}`;
    await waitForV2(upstream, log);

    const imageConfig = Buffer.from(JSON.stringify({ architecture: "arm64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }));
    const configDigest = await pushBlob(upstream, repo, imageConfig);
    const layerDigest = await pushBlob(upstream, repo, layer);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: "application/vnd.docker.container.image.v1+json", size: imageConfig.length, digest: configDigest },
      layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: layer.length, digest: layerDigest }],
    });
    const put = await fetch(`${upstream}/v2/${repo}/manifests/v1`, { method: "PUT", body: manifest, headers: { "Content-Type": MANIFEST_TYPE } });
    expect(put.status).toBe(201);
    manifestDigest = sha256(manifest);
  });

  afterAll(async () => {
    await Promise.all(
      processes.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
            child.once("exit", () => {
              clearTimeout(force);
              resolve();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
    rmSync(workDir, { recursive: true, force: true });
  });

  it.each(config.services.registryCaches.map((cache) => [cache.name, cache] as const))("%s: answers /v2/ and pulls through", async (name, cache) => {
    const rendered = parseYaml(bundle[registryConfigPath(cache)]!) as {
      http: { addr: string };
      storage: { filesystem: { rootdirectory: string } };
      proxy: { remoteurl: string };
    };
    expect(rendered.proxy.remoteurl).toBe(cache.upstream);
    const port = await freePort();
    rendered.http.addr = `127.0.0.1:${port}`;
    rendered.storage.filesystem.rootdirectory = join(workDir, "caches", name);
    rendered.proxy.remoteurl = upstream;
    const { log } = startRegistry(`cache-${name}`, rendered);
    const base = `http://127.0.0.1:${port}`;

    const v2 = await waitForV2(base, log);
    expect(v2.headers.get("docker-distribution-api-version")).toBe("registry/2.0");

    const manifest = await fetch(`${base}/v2/${repo}/manifests/v1`, { headers: { Accept: MANIFEST_TYPE } });
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get("docker-content-digest")).toBe(manifestDigest);
    const blob = await fetch(`${base}/v2/${repo}/blobs/${sha256(layer)}`);
    expect(blob.status).toBe(200);
    expect(Buffer.from(await blob.arrayBuffer()).equals(layer)).toBe(true);
  });
});
