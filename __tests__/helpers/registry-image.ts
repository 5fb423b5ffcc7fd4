/**
 * A small image built by hand and pushed with the registry HTTP API (no Docker needed): a gzipped
 * layer holding a few KB file, its config, its schema 2 manifest.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { expect } from "vitest";
import { stringify } from "yaml";
import { writeTree } from "./netboot.js";
import { freePort, startProcess, waitForHttp, type RunningProcess } from "./processes.js";

export const REPOSITORY = "deathstar/hello";
export const TAG = "v1";
export const MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json";

export const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

export interface Image {
  readonly manifest: Buffer;
  readonly manifestDigest: string;
  /** Config and layer blobs by digest. */
  readonly blobs: ReadonlyMap<string, Buffer>;
}

/** A one-layer image: a gzipped tar holding a few KB file, its config, its schema 2 manifest. */
export function buildImage(workDir: string): Image {
  writeTree(join(workDir, "rootfs"), { "hello.txt": randomBytes(3 * 1024).toString("base64") });
  const tar = execFileSync("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C", join(workDir, "rootfs"), "-cf", "-", "."]);
  const layer = gzipSync(tar);
  const imageConfig = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", config: { Cmd: ["/hello.txt"] }, rootfs: { type: "layers", diff_ids: [sha256(tar)] } }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: "application/vnd.docker.container.image.v1+json", size: imageConfig.length, digest: sha256(imageConfig) },
      layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: layer.length, digest: sha256(layer) }],
    }),
  );
  return { manifest, manifestDigest: sha256(manifest), blobs: new Map([imageConfig, layer].map((blob) => [sha256(blob), blob])) };
}

/** Pushes with the registry HTTP API: a monolithic upload per blob, then the manifest by tag. */
export async function pushImage(registry: string, image: Image): Promise<void> {
  for (const [digest, blob] of image.blobs) {
    const start = await fetch(`${registry}/v2/${REPOSITORY}/blobs/uploads/`, { method: "POST" });
    expect(start.status, await start.text()).toBe(202);
    const upload = new URL(start.headers.get("location")!, registry);
    upload.searchParams.set("digest", digest);
    const put = await fetch(upload, { method: "PUT", body: blob, headers: { "content-type": "application/octet-stream" } });
    expect(put.status, await put.text()).toBe(201);
  }
  const put = await fetch(`${registry}/v2/${REPOSITORY}/manifests/${TAG}`, { method: "PUT", body: image.manifest, headers: { "content-type": MANIFEST_TYPE } });
  expect(put.status, await put.text()).toBe(201);
  expect(put.headers.get("docker-content-digest")).toBe(image.manifestDigest);
}

/** Pulls the tag and every blob it names from `registry`; returns the digests of what came back. */
export async function pullImage(registry: string): Promise<{ manifestDigest: string; blobDigests: string[] }> {
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

/** Starts `registry` (a docker-registry binary) in `dir` as a plain filesystem registry on loopback and pushes `image` to it. */
export async function startUpstream(registry: string, dir: string, image: Image): Promise<{ url: string; server: RunningProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  writeTree(dir, {
    "upstream.yml": stringify({ version: 0.1, storage: { filesystem: { rootdirectory: join(dir, "upstream-data") } }, http: { addr: `127.0.0.1:${port}` } }),
  });
  const server = startProcess(registry, ["serve", join(dir, "upstream.yml")], { name: "upstream registry", logFile: join(dir, "upstream.log") });
  await waitForHttp(`${url}/v2/`, server);
  await pushImage(url, image);
  return { url, server };
}
