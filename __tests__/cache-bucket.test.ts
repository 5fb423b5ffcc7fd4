/**
 * bastion.cacheStorage "s3": the bucket and its hardening, the gateway endpoint on the bastion's
 * route table, the instance role scoped to the bucket, no cache volume, and the bastion's boot and
 * compose files for a bucket instead of a volume.
 */
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { renderBastionBundle } from "../templates/bundle.js";
import { registryConfigPath, REGISTRY_S3_ENV_FILE } from "../templates/compose.js";
import { renderBastionBootScript } from "../templates/bastion-boot.js";
import { estimateMonthlyCost } from "../cost/model.js";
import { decodeUserData, resource, resourceAddresses, siteConfig, synthStack } from "./helpers/synth.js";

const config = siteConfig({ bastion: { cacheStorage: "s3", cacheExpiryDays: 21 }, images: { registry: "registry:3.0.0" } });
const stack = synthStack(config);

function bastionStatements(): { Sid: string; Action: string[]; Resource: string | string[] }[] {
  return (JSON.parse(String(resource(stack, "aws_iam_role_policy", "bastion").policy)) as { Statement: { Sid: string; Action: string[]; Resource: string | string[] }[] }).Statement;
}

describe("the registry cache bucket", () => {
  it("is named after the region and this account, with no hash in its address", () => {
    expect(resource(stack, "aws_s3_bucket", "registry_cache")).toMatchObject({
      bucket: "deathstar-registry-cache-eu-west-1-${data.aws_caller_identity.current.account_id}",
      force_destroy: true,
    });
  });

  it("is encrypted, closed to the public, owner-enforced and TLS-only", () => {
    const bucket = "${aws_s3_bucket.registry_cache.id}";
    expect(resource(stack, "aws_s3_bucket_server_side_encryption_configuration", "registry_cache")).toEqual({
      bucket,
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }],
    });
    expect(resource(stack, "aws_s3_bucket_public_access_block", "registry_cache")).toEqual({
      bucket,
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(resource(stack, "aws_s3_bucket_ownership_controls", "registry_cache")).toEqual({ bucket, rule: { object_ownership: "BucketOwnerEnforced" } });
    const policy = JSON.parse(String(resource(stack, "aws_s3_bucket_policy", "registry_cache").policy)) as { Statement: Record<string, unknown>[] };
    expect(policy.Statement).toEqual([
      {
        Sid: "DenyPlainHttp",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: ["${aws_s3_bucket.registry_cache.arn}", "${aws_s3_bucket.registry_cache.arn}/*"],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });

  it("expires every object cacheExpiryDays after it was written, and unfinished uploads after a day", () => {
    expect(resource(stack, "aws_s3_bucket_lifecycle_configuration", "registry_cache").rule).toEqual([
      { id: "expire-cached-blobs", status: "Enabled", filter: [{ prefix: "" }], expiration: [{ days: 21 }], abort_incomplete_multipart_upload: [{ days_after_initiation: 1 }] },
    ]);
  });

  it("is reached through a gateway endpoint on the private route table (the bastion's)", () => {
    expect(resource(stack, "aws_vpc_endpoint", "s3")).toMatchObject({
      vpc_id: "${aws_vpc.main.id}",
      service_name: "com.amazonaws.eu-west-1.s3",
      vpc_endpoint_type: "Gateway",
      route_table_ids: ["${aws_route_table.private.id}"],
    });
  });
});

describe("the bastion in S3 mode", () => {
  it("has no cache volume, and its role neither attaches nor looks for one", () => {
    expect(resourceAddresses(stack).filter((a) => a.startsWith("aws_ebs_volume") || a.startsWith("aws_volume_attachment"))).toEqual([]);
    const actions = bastionStatements().flatMap((s) => s.Action);
    expect(actions).not.toContain("ec2:AttachVolume");
    expect(actions).not.toContain("ec2:DescribeVolumes");
    expect(actions).toContain("ec2:AttachNetworkInterface");
  });

  it("may use exactly the S3 actions of the registry's driver, on the cache bucket and its objects only", () => {
    const s3 = bastionStatements().filter((s) => s.Action.some((a) => a.startsWith("s3:")));
    expect(s3).toEqual([
      { Sid: "ListCacheBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:ListBucketMultipartUploads"], Resource: "${aws_s3_bucket.registry_cache.arn}" },
      {
        Sid: "ReadWriteCacheObjects",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        Resource: "${aws_s3_bucket.registry_cache.arn}/*",
      },
    ]);
  });

  it("keeps IMDSv2 required with hop limit 1: the caches use host networking, so no bridge hop", () => {
    expect(resource(stack, "aws_launch_template", "bastion").metadata_options).toMatchObject({ http_tokens: "required", http_put_response_hop_limit: 1 });
    const compose = parseYaml(renderBastionBundle(config)["compose.yaml"]!) as { services: Record<string, { network_mode?: string }> };
    for (const cache of config.services.registryCaches) expect(compose.services[`registry-${cache.name.replace(/\./g, "-")}`]!.network_mode).toBe("host");
  });

  it("renders each cache with the S3 driver: region, its own root directory, no keys, the bucket from the boot-time env file", () => {
    const bundle = renderBastionBundle(config);
    const compose = parseYaml(bundle["compose.yaml"]!) as { services: Record<string, { env_file?: string[]; volumes: string[]; environment?: Record<string, string> }> };
    for (const cache of config.services.registryCaches) {
      const rendered = parseYaml(bundle[registryConfigPath(cache)]!) as { storage: Record<string, unknown> };
      expect(rendered.storage.s3).toEqual({ region: "eu-west-1", rootdirectory: `/${cache.name}`, encrypt: true, objectacl: "bucket-owner-full-control" });
      expect(rendered.storage.filesystem).toBeUndefined();
      const service = compose.services[`registry-${cache.name.replace(/\./g, "-")}`]!;
      expect(service.env_file).toEqual([`./${REGISTRY_S3_ENV_FILE}`]);
      // registry 3 would otherwise log an error for every trace batch sent to a collector that is not there.
      expect(service.environment).toEqual({ OTEL_TRACES_EXPORTER: "none" });
      expect(service.volumes).toEqual([`./${registryConfigPath(cache)}:/etc/docker/registry/config.yml:ro`]);
    }
  });

  it("boots without a cache volume: the bucket's name from the account id, the data dir on the root volume", () => {
    const script = renderBastionBootScript(config);
    expect(script).toContain("CACHE_STORAGE='s3'");
    expect(script).toContain("CACHE_BUCKET_PREFIX='deathstar-registry-cache-eu-west-1-'");
    const files = parseYaml(decodeUserData(resource(stack, "aws_launch_template", "bastion"))) as { write_files: { path: string; content: string }[] };
    const boot = files.write_files.map((f) => gunzipSync(Buffer.from(f.content, "base64")).toString("utf8")).find((text) => text.includes("use_cache_bucket"));
    expect(boot).toBeDefined();
  });

  it("prices the bucket at usage.cacheGb instead of a volume: at rest only the cached bytes", () => {
    const report = estimateMonthlyCost(stack as never, { ...config, usage: { ...config.usage, cacheGb: 10 } }, { month: "2027-01" });
    expect(report.unpriced).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.lines.some((l) => l.address === "aws_ebs_volume.bastion_cache")).toBe(false);
    expect(report.lines.filter((l) => l.idle && l.monthlyUsd > 0).map((l) => `${l.address} ${l.item}`)).toEqual([
      "aws_cloudwatch_metric_alarm.talos_node_expiry_failed CloudWatch alarm",
      "aws_s3_bucket.registry_cache S3 Standard storage",
    ]);
    expect(report.idleUsd).toBeCloseTo(10 * 0.023 + 0.1, 6);
    expect(report.free.map((f) => f.address)).toEqual(expect.arrayContaining(["aws_s3_bucket_policy.registry_cache", "aws_s3_bucket_lifecycle_configuration.registry_cache"]));
    expect(report.lines.find((l) => l.address === "aws_vpc_endpoint.s3")).toMatchObject({ item: "gateway endpoint", monthlyUsd: 0 });
  });

  it("prices every kind of S3 request the rendered registry configs make, and no other", () => {
    const report = estimateMonthlyCost(stack as never, config, { month: "2027-01" });
    const bucketLines = report.lines.filter((l) => l.address === "aws_s3_bucket.registry_cache");
    const expiryDays = (resource(stack, "aws_s3_bucket_lifecycle_configuration", "registry_cache").rule as { expiration: { days: number }[] }[])[0]!.expiration[0]!.days;
    const bundle = renderBastionBundle(config);
    const rendered = config.services.registryCaches.map(
      (cache) =>
        parseYaml(bundle[registryConfigPath(cache)]!) as {
          storage: { s3?: unknown; redirect?: { disable: boolean } };
          health?: { storagedriver?: { enabled: boolean } };
          proxy: { ttl: string };
        },
    );
    for (const cache of rendered) {
      expect(cache.storage.s3).toBeDefined();
      // Writes: the cache fills again when proxy.ttl expires its content, at the lifecycle rule's age.
      expect(cache.proxy.ttl).toBe(`${expiryDays * 24}h`);
      // Reads: no redirects, so the registry reads every blob a node pulls (GETs from the bastion).
      expect(cache.storage.redirect).toEqual({ disable: true });
    }
    const refills = bucketLines.find((l) => l.item.includes("cache refills"))!;
    expect(refills.quantity).toBeCloseTo((config.usage.cacheGb * Math.min(config.usage.experimentSessionsPerMonth, 730 / 24 / expiryDays) * 1000) / 1000, 6);
    expect(refills.basis).toContain(`proxy.ttl ${expiryDays} days`);
    expect(bucketLines.some((l) => l.item.includes("pulls through the caches"))).toBe(true);
    // The storage health check: a HEAD + LIST per interval per cache when on; off here, and unpriced.
    const polling = rendered.filter((cache) => cache.health?.storagedriver?.enabled === true);
    expect(polling).toEqual([]);
    expect(bucketLines.filter((l) => l.item.includes("health check"))).toEqual([]);
    expect(bucketLines.map((l) => l.item)).toEqual([
      "S3 Standard storage",
      "S3 PUT/COPY/POST/LIST requests: cache refills (estimate)",
      "S3 GET requests: pulls through the caches (estimate)",
    ]);
  });
});
