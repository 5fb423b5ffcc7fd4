/**
 * The registry pull-through caches, for real: Debian's docker-registry (distribution 2.8) runs each
 * cache config of the bastion bundle, pointed at an "upstream" docker-registry on loopback into
 * which the test pushes a small image it builds (plain HTTP registry API: blob uploads, then the
 * manifest). Only the listen address, the storage dir and the upstream URL of the bundle's file
 * are changed for the test (registry 2.8 panics at start when its upstream is unreachable, so the
 * real upstreams cannot be used offline); every other setting is the bundle's.
 * Pulls through each cache return the pushed digests, and keep working once the upstream is gone
 * (after the cache has stored the blobs: registry 2.8 stores a missed blob in the background).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { renderBastionBundle } from "../../templates/bundle.js";
import { registryConfigPath } from "../../templates/compose.js";
import type { RegistryCache } from "../../templates/registry.js";
import { writeTree } from "../helpers/netboot.js";
import { freePort, scratchDir, startProcess, waitForHttp, waitUntil, type RunningProcess } from "../helpers/processes.js";
import { buildImage, startUpstream, MANIFEST_TYPE, pullImage, REPOSITORY, sha256, type Image } from "../helpers/registry-image.js";
import { firstDefaultsConfig } from "../helpers/synth.js";

const REGISTRY = "docker-registry";
// Caches on a directory (the first defaults' volume), run by Debian's registry 2.8.
const config = firstDefaultsConfig();
const bundle = renderBastionBundle(config);

interface CacheConfig {
  http: { addr: string };
  storage: { filesystem: { rootdirectory: string } };
  proxy: { remoteurl: string };
}

describe("registry pull-through caches with the bundle's rendered configs", () => {
  const dir = scratchDir("registry");
  const running: RunningProcess[] = [];
  /** The caches started so far, by name: URL and storage directory. */
  const caches = new Map<string, { url: string; storage: string; server: RunningProcess }>();
  let upstream: RunningProcess | undefined;
  let upstreamUrl: string;
  let image: Image;
  const expected = () => ({ manifestDigest: image.manifestDigest, blobDigests: [...image.blobs.keys()] });

  beforeAll(async () => {
    image = buildImage(dir);
    ({ url: upstreamUrl, server: upstream } = await startUpstream(REGISTRY, dir, image));
    running.push(upstream);
  });

  afterAll(async () => {
    await Promise.all(running.map((server) => server.stop()));
  });

  it("runs the same registry minor version as the configured image", () => {
    const binary = /\s(\d+\.\d+)\.\d+/.exec(execFileSync(REGISTRY, ["--version"], { encoding: "utf8" }))?.[1];
    const tag = /:(\d+\.\d+)\.\d+$/.exec(config.images.registry)?.[1];
    expect(tag, `images.registry ${config.images.registry} has no x.y.z tag`).toBeDefined();
    expect(binary).toBe(tag);
  });

  it.each(config.services.registryCaches.map((cache) => [cache.name, cache] as [string, RegistryCache]))(
    "%s: proxies its configured upstream, answers /v2/ and pulls the pushed image through twice with the same digests",
    async (name, cache) => {
      const rendered = parseYaml(bundle[registryConfigPath(cache)]!) as CacheConfig;
      expect(rendered.proxy.remoteurl).toBe(cache.upstream);
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const storage = join(dir, "caches", name);
      rendered.http.addr = `127.0.0.1:${port}`;
      rendered.storage.filesystem.rootdirectory = storage;
      rendered.proxy.remoteurl = upstreamUrl;
      writeTree(dir, { [`cache-${name}.yml`]: stringify(rendered) });
      // registry 2.8 in proxy mode contacts its upstream as it starts: the upstream is up already.
      const server = startProcess(REGISTRY, ["serve", join(dir, `cache-${name}.yml`)], { name: `cache ${name}`, logFile: join(dir, `cache-${name}.log`) });
      running.push(server);
      caches.set(name, { url, storage, server });
      await waitForHttp(`${url}/v2/`, server);
      const v2 = await fetch(`${url}/v2/`);
      expect(v2.status).toBe(200);
      expect(v2.headers.get("docker-distribution-api-version")).toBe("registry/2.0");

      expect(await pullImage(upstreamUrl)).toEqual(expected());
      expect(await pullImage(url)).toEqual(expected());
      expect(await pullImage(url)).toEqual(expected());
    },
  );

  // Last: it stops the upstream.
  it("serves the image from a cache once the upstream is gone", async () => {
    const cache = caches.get(config.services.registryCaches[0]!.name);
    expect(cache, "the first cache was started by the test above").toBeDefined();
    const { url, storage, server } = cache!;
    expect(await pullImage(url)).toEqual(expected());
    // registry 2.8 serves a missed blob while a background fetch stores it: wait until every blob
    // is in the cache's storage (the filesystem driver's layout) before the upstream goes away.
    const stored = (digest: string) => existsSync(join(storage, "docker/registry/v2/blobs/sha256", digest.slice(7, 9), digest.slice(7), "data"));
    await waitUntil("the cache to store every blob", () => [...image.blobs.keys()].every(stored), { timeoutMs: 30_000, process: server });
    await upstream!.stop();
    await expect(fetch(`${upstreamUrl}/v2/`)).rejects.toThrow();
    expect(await pullImage(url)).toEqual(expected());
    const byDigest = await fetch(`${url}/v2/${REPOSITORY}/manifests/${image.manifestDigest}`, { headers: { accept: MANIFEST_TYPE } });
    expect(byDigest.status).toBe(200);
    expect(sha256(Buffer.from(await byDigest.arrayBuffer()))).toBe(image.manifestDigest);
  });
});
