/**
 * bastion.cacheStorage "s3" with the real tools: the stack synthesized for an S3-cache site,
 * applied by OpenTofu and the AWS provider against moto. What AWS would hold afterwards is read
 * back through the S3, EC2 and IAM APIs: the bucket with its encryption, public access block,
 * ownership, TLS-only policy and expiry rule; the gateway endpoint on the private route table; the
 * bastion's role scoped to the bucket; no cache volume. A second plan must show no changes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsApi } from "../helpers/aws-api.js";
import { applyAgainstMoto, type MotoStack } from "../helpers/moto-stack.js";
import { siteConfig } from "../helpers/synth.js";

const S3_CACHE = { bastion: { cacheStorage: "s3", cacheExpiryDays: 30 }, images: { registry: "registry:3.0.0" } } as const;
const site = siteConfig(S3_CACHE);
/** moto's default account. */
const BUCKET = "deathstar-registry-cache-eu-west-1-123456789012";

let stack: MotoStack;
let api: AwsApi;

beforeAll(async () => {
  stack = await applyAgainstMoto("cache-bucket", site, S3_CACHE);
  ({ api } = stack);
}, 600_000);

afterAll(async () => {
  await stack?.close();
});

describe.sequential("registry caches in S3 against moto", () => {
  it("creates the bucket named after the region and account, encrypted, closed to the public, owner-enforced", async () => {
    const { Buckets } = await api.call("s3", "list_buckets");
    expect(Buckets.map((b: { Name: string }) => b.Name)).toEqual([BUCKET]);
    const encryption = await api.call("s3", "get_bucket_encryption", { Bucket: BUCKET });
    expect(encryption.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: "AES256" });
    const access = await api.call("s3", "get_public_access_block", { Bucket: BUCKET });
    expect(access.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    const ownership = await api.call("s3", "get_bucket_ownership_controls", { Bucket: BUCKET });
    expect(ownership.OwnershipControls.Rules).toEqual([{ ObjectOwnership: "BucketOwnerEnforced" }]);
  });

  it("denies plain HTTP in the bucket policy and expires objects after cacheExpiryDays", async () => {
    const policy = JSON.parse((await api.call("s3", "get_bucket_policy", { Bucket: BUCKET })).Policy);
    expect(policy.Statement).toEqual([
      {
        Sid: "DenyPlainHttp",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
    const { Rules } = await api.call("s3", "get_bucket_lifecycle_configuration", { Bucket: BUCKET });
    expect(Rules).toHaveLength(1);
    expect(Rules[0]).toMatchObject({ ID: "expire-cached-blobs", Status: "Enabled", Expiration: { Days: 30 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } });
  });

  it("puts a gateway endpoint for S3 on the private route table, and no cache volume exists", async () => {
    const { VpcEndpoints } = await api.call("ec2", "describe_vpc_endpoints");
    expect(VpcEndpoints).toHaveLength(1);
    const [endpoint] = VpcEndpoints;
    expect(endpoint).toMatchObject({ VpcEndpointType: "Gateway", ServiceName: "com.amazonaws.eu-west-1.s3" });
    const { RouteTables } = await api.call("ec2", "describe_route_tables", { Filters: [{ Name: "tag:Name", Values: ["deathstar-private"] }] });
    expect(RouteTables.map((t: { RouteTableId: string }) => t.RouteTableId)).toEqual(endpoint.RouteTableIds);
    const { Volumes } = await api.call("ec2", "describe_volumes");
    expect(Volumes).toEqual([]);
  });

  it("lets the bastion's role use exactly the cache bucket and its objects", async () => {
    const { PolicyDocument } = await api.call("iam", "get_role_policy", { RoleName: "deathstar-bastion", PolicyName: "deathstar-bastion" });
    const document = typeof PolicyDocument === "string" ? JSON.parse(decodeURIComponent(PolicyDocument)) : PolicyDocument;
    const s3 = document.Statement.filter((s: { Action: string[] }) => s.Action.some((a) => a.startsWith("s3:")));
    expect(s3.map((s: { Resource: string }) => s.Resource)).toEqual([`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`]);
  });

  it("plans no changes after the apply", async () => {
    const replan = await stack.tofu.planExitCode();
    expect(replan.code, `a second plan must show no changes:\n${replan.stdout}`).toBe(0);
  });
});
