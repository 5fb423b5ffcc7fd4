/**
 * The registry caches' S3 storage, for real: Debian's docker-registry runs the bundle's rendered
 * cache config of an S3-mode site (bastion.cacheStorage "s3") against moto's S3 server, with the
 * bucket named as the bastion's boot script names it (REGISTRY_STORAGE_S3_BUCKET, prefix + account
 * id). The test changes only what cannot be the same offline: the listen address, the upstream (a
 * docker-registry on loopback holding a small pushed image), and the driver's endpoint
 * (`regionendpoint`, with path-style addressing) pointed at moto; credentials come from the
 * environment instead of the instance role. Region, root directory, encryption and object ACL
 * are the bundle's.
 *
 * A pull through the cache fills the bucket (the blobs are visible there through the S3 API), and
 * a second pull with the upstream stopped is served from the bucket.
 *
 * The binary is distribution 2.8 (Debian's), while an S3-mode site runs registry 3: the two read
 * the same s3 driver keys (checked against both releases' sources), but this test does not prove
 * registry 3's instance-role path (IMDSv2), which only EC2 has.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { cacheBucketPrefix } from "../../config/site-view.js";
import { renderBastionBundle } from "../../templates/bundle.js";
import { registryConfigPath } from "../../templates/compose.js";
import { S3_BUCKET_ENV } from "../../templates/registry.js";
import { AwsApi } from "../helpers/aws-api.js";
import { MotoServer } from "../helpers/moto.js";
import { writeTree } from "../helpers/netboot.js";
import { freePort, scratchDir, startProcess, waitForHttp, waitUntil, type RunningProcess } from "../helpers/processes.js";
import { buildImage, startUpstream, pullImage, type Image } from "../helpers/registry-image.js";
import { siteConfig } from "../helpers/synth.js";
import { toolchain } from "../helpers/toolchain.js";

const REGISTRY = "docker-registry";
/** moto's default account: the id the instance identity document would name. */
const ACCOUNT_ID = "123456789012";
const config = siteConfig({ bastion: { cacheStorage: "s3" }, images: { registry: "registry:3.0.0" } });
const cache = config.services.registryCaches[0]!;
const bucket = `${cacheBucketPrefix(config.aws.region)}${ACCOUNT_ID}`;

interface S3CacheConfig {
  http: { addr: string };
  storage: { s3: Record<string, unknown> };
  proxy: { remoteurl: string };
}

describe("a registry cache storing to S3 (moto) with the bundle's rendered S3 config", () => {
  const dir = scratchDir("registry-s3");
  const running: RunningProcess[] = [];
  let moto: MotoServer;
  let api: AwsApi;
  let upstream: RunningProcess;
  let upstreamUrl: string;
  let cacheUrl: string;
  let cacheServer: RunningProcess;
  let image: Image;
  const expected = () => ({ manifestDigest: image.manifestDigest, blobDigests: [...image.blobs.keys()] });

  /** Keys under the cache's root directory in the bucket. */
  const keys = async (): Promise<string[]> => {
    const listed = (await api.call("s3", "list_objects_v2", { Bucket: bucket, Prefix: cache.name + "/" })) as { Contents?: { Key: string }[] };
    return (listed.Contents ?? []).map((o) => o.Key);
  };
  /** The S3 driver's key of a blob's data (distribution's layout under the root directory). */
  const blobKey = (digest: string) => `${cache.name}/docker/registry/v2/blobs/sha256/${digest.slice(7, 9)}/${digest.slice(7)}/data`;

  beforeAll(async () => {
    const tools = toolchain();
    moto = await MotoServer.start(tools.venv);
    api = new AwsApi(tools.venv, moto.endpoint, config.aws.region);
    await api.call("s3", "create_bucket", { Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: config.aws.region } });

    image = buildImage(dir);
    ({ url: upstreamUrl, server: upstream } = await startUpstream(REGISTRY, dir, image));
    running.push(upstream);

    const rendered = parseYaml(renderBastionBundle(config)[registryConfigPath(cache)]!) as S3CacheConfig;
    const port = await freePort();
    cacheUrl = `http://127.0.0.1:${port}`;
    rendered.http.addr = `127.0.0.1:${port}`;
    rendered.proxy.remoteurl = upstreamUrl;
    rendered.storage.s3 = { ...rendered.storage.s3, regionendpoint: moto.endpoint, forcepathstyle: true };
    writeTree(dir, { "cache.yml": stringify(rendered) });
    cacheServer = startProcess(REGISTRY, ["serve", join(dir, "cache.yml")], {
      name: `cache ${cache.name}`,
      logFile: join(dir, "cache.log"),
      // The bucket as the boot script hands it over; moto's dummy keys instead of the instance role.
      // AWS_CA_BUNDLE emptied: a CA bundle from the test machine's environment makes the driver's
      // SDK refuse its own HTTP transport, and moto is plain HTTP anyway.
      env: { [S3_BUCKET_ENV]: bucket, ...moto.awsEnv(), AWS_REGION: config.aws.region, AWS_CA_BUNDLE: "" },
    });
    running.push(cacheServer);
    await waitForHttp(`${cacheUrl}/v2/`, cacheServer);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(running.map((server) => server.stop()));
    api?.close();
    await moto?.stop();
  });

  it("renders the S3 driver with the region and the cache's own root directory, and no keys", () => {
    const rendered = parseYaml(renderBastionBundle(config)[registryConfigPath(cache)]!) as S3CacheConfig;
    expect(rendered.storage.s3).toEqual({ region: config.aws.region, rootdirectory: `/${cache.name}`, encrypt: true, objectacl: "bucket-owner-full-control" });
  });

  it("pulls through the cache and stores every blob in the bucket, under the cache's root directory", async () => {
    expect(await keys()).toEqual([]);
    expect(await pullImage(cacheUrl)).toEqual(expected());
    // The proxy stores a missed blob in the background while it serves it.
    await waitUntil(
      "the cache to store every blob in the bucket",
      async () => {
        const stored = await keys();
        return [...image.blobs.keys()].every((digest) => stored.includes(blobKey(digest)));
      },
      { timeoutMs: 30_000, process: cacheServer },
    );
    for (const [digest, blob] of image.blobs) {
      const head = (await api.call("s3", "head_object", { Bucket: bucket, Key: blobKey(digest) })) as { ContentLength: number; ServerSideEncryption?: string };
      expect(head.ContentLength).toBe(blob.length);
      expect(head.ServerSideEncryption).toBe("AES256");
    }
  });

  // Last: it stops the upstream.
  it("serves a second pull from the bucket once the upstream is gone", async () => {
    await upstream.stop();
    await expect(fetch(`${upstreamUrl}/v2/`)).rejects.toThrow();
    expect(await pullImage(cacheUrl)).toEqual(expected());
  });
});
