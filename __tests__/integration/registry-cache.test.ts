/**
 * A registry pull-through cache, for real: Debian's docker-registry (distribution 2.8) runs the
 * rendered cache config, pointed at an "upstream" docker-registry on loopback into which the test
 * pushes a small image it builds (plain HTTP registry API: blob uploads, then the manifest).
 * Pulls through the cache return the pushed digests, and keep working once the upstream is gone
 * (after the cache has stored the blobs: registry 2.8 stores a missed blob in the background).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderRegistryCacheConfig } from "../../templates/registry.js";
import { writeTree } from "../helpers/netboot.js";
import { buildImage, MANIFEST_TYPE, pushImage, REPOSITORY, sha256, TAG, type Image } from "../helpers/registry-image.js";
import { freePort, startProcess, tempDir, waitForHttp, waitUntil, type RunningProcess } from "../helpers/processes.js";
import { siteConfig } from "../helpers/synth.js";

const REGISTRY = "docker-registry";
const config = siteConfig();
const cache = config.services.registryCaches[0]!;

/** Pulls the tag and every blob it names; returns the digests of what came back. */
async function pullImage(registry: string): Promise<{ manifestDigest: string; blobDigests: string[] }> {
  const response = await fetch(`${registry}/v2/${REPOSITORY}/manifests/${TAG}`, { headers: { accept: MANIFEST_TYPE } });
  expect(response.status, await response.clone().text()).toBe(200);
  const manifest = Buffer.from(await response.arrayBuffer());
  expect(response.headers.get("docker-content-digest")).toBe(sha256(manifest));
  const parsed = JSON.parse(manifest.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  const blobDigests: string[] = [];
  for (const { digest } of [parsed.config, ...parsed.layers]) {
    const blob = await fetch(`${registry}/v2/${REPOSITORY}/blobs/${digest}`);
    expect(blob.status, `blob ${digest}`).toBe(200);
    blobDigests.push(sha256(Buffer.from(await blob.arrayBuffer())));
  }
  return { manifestDigest: sha256(manifest), blobDigests };
}

describe(`registry pull-through cache (${cache.name}) with the rendered config`, () => {
  let dir: ReturnType<typeof tempDir>;
  let upstream: RunningProcess | undefined;
  let cacheRegistry: RunningProcess | undefined;
  let upstreamUrl: string;
  let cacheUrl: string;
  let cacheStorage: string;
  let image: Image;
  const expected = () => ({ manifestDigest: image.manifestDigest, blobDigests: [...image.blobs.keys()] });

  beforeAll(async () => {
    dir = tempDir("registry");
    cacheStorage = join(dir.path, "cache-data");
    image = buildImage(dir.path);
    const [upstreamPort, cachePort] = [await freePort(), await freePort()];
    upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
    cacheUrl = `http://127.0.0.1:${cachePort}`;
    writeTree(dir.path, {
      "upstream.yml": stringify({
        version: 0.1,
        storage: { filesystem: { rootdirectory: join(dir.path, "upstream-data") } },
        http: { addr: `127.0.0.1:${upstreamPort}` },
      }),
      "cache.yml": renderRegistryCacheConfig(cache, { addr: `127.0.0.1:${cachePort}`, rootDirectory: cacheStorage, remoteUrl: upstreamUrl }),
    });
    upstream = startProcess(REGISTRY, ["serve", join(dir.path, "upstream.yml")], { name: "upstream registry", logFile: join(dir.path, "upstream.log") });
    await waitForHttp(`${upstreamUrl}/v2/`, upstream);
    await pushImage(upstreamUrl, image);
    // registry 2.8 in proxy mode contacts its upstream as it starts: the upstream must be up first.
    cacheRegistry = startProcess(REGISTRY, ["serve", join(dir.path, "cache.yml")], { name: "cache registry", logFile: join(dir.path, "cache.log") });
    await waitForHttp(`${cacheUrl}/v2/`, cacheRegistry);
  });

  afterAll(async () => {
    await cacheRegistry?.stop();
    await upstream?.stop();
    dir?.remove();
  });

  it("runs the same registry minor version as the configured image", () => {
    const binary = /\s(\d+\.\d+)\.\d+/.exec(execFileSync(REGISTRY, ["--version"], { encoding: "utf8" }))?.[1];
    const image = /:(\d+\.\d+)\.\d+$/.exec(config.images.registry)?.[1];
    expect(image, `images.registry ${config.images.registry} has no x.y.z tag`).toBeDefined();
    expect(binary).toBe(image);
  });

  it("pulls the pushed image through the cache twice with the same digests", async () => {
    expect(await pullImage(upstreamUrl)).toEqual(expected());
    expect(await pullImage(cacheUrl)).toEqual(expected());
    expect(await pullImage(cacheUrl)).toEqual(expected());
  });

  it("serves the image from the cache once the upstream is gone", async () => {
    expect(await pullImage(cacheUrl)).toEqual(expected());
    // registry 2.8 serves a missed blob while a background fetch stores it: wait until every blob
    // is in the cache's storage (the filesystem driver's layout) before the upstream goes away.
    const stored = (digest: string) => existsSync(join(cacheStorage, "docker/registry/v2/blobs/sha256", digest.slice(7, 9), digest.slice(7), "data"));
    await waitUntil("the cache to store every blob", () => [...image.blobs.keys()].every(stored), { timeoutMs: 30_000, process: cacheRegistry });
    await upstream!.stop();
    await expect(fetch(`${upstreamUrl}/v2/`)).rejects.toThrow();
    expect(await pullImage(cacheUrl)).toEqual(expected());
    const byDigest = await fetch(`${cacheUrl}/v2/${REPOSITORY}/manifests/${image.manifestDigest}`, { headers: { accept: MANIFEST_TYPE } });
    expect(byDigest.status).toBe(200);
    expect(sha256(Buffer.from(await byDigest.arrayBuffer()))).toBe(image.manifestDigest);
  });
});
