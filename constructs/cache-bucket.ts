/**
 * The registry caches' bucket (bastion.cacheStorage "s3") and the gateway VPC endpoint the bastion
 * reaches it through: S3 traffic from the private subnet goes to the endpoint, not through the NAT
 * (no NAT bytes, no charge for the endpoint). One bucket holds every cache, each under its own
 * root directory; the bastion's instance role gets exactly the S3 actions the registry's driver
 * uses, on this bucket only.
 */
import { Construct } from "constructs";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { ConfigError } from "../config/load.js";
import { cacheBucketPrefix, resourceName } from "../config/site-view.js";
import type { PolicyStatement } from "./scheduled-instance.js";

/** The logical id of every resource of the bucket: aws_s3_bucket.registry_cache, aws_s3_bucket_policy.registry_cache, ... */
const BUCKET_ID = "registry_cache";
/** S3 bucket names are at most 63 characters; an account id has 12 digits. */
const MAX_BUCKET_NAME = 63;
const ACCOUNT_ID_DIGITS = 12;

/** Props of {@link CacheBucket}. */
export interface CacheBucketProps {
  readonly region: string;
  /** This account's id (data.aws_caller_identity.current): the end of the bucket's name. */
  readonly accountId: string;
  readonly vpcId: string;
  /** The route tables of the subnets the bastion runs in: their S3 traffic takes the endpoint. */
  readonly routeTableIds: readonly string[];
  /** Days after its creation an object is deleted (bastion.cacheExpiryDays). */
  readonly expiryDays: number;
}

export class CacheBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly endpoint: VpcEndpoint;

  constructor(scope: Construct, id: string, props: CacheBucketProps) {
    super(scope, id);
    const prefix = cacheBucketPrefix(props.region);
    if (prefix.length + ACCOUNT_ID_DIGITS > MAX_BUCKET_NAME) {
      throw new ConfigError([`aws.region: the cache bucket's name "${prefix}<account id>" would be longer than ${MAX_BUCKET_NAME} characters; use bastion.cacheStorage "ebs" in ${props.region}`], "bastion cache bucket");
    }
    this.bucket = new S3Bucket(this, "bucket", {
      bucket: `${prefix}${props.accountId}`,
      // A cache: `tofu destroy` removes it with whatever it holds, as it does the cache volume.
      forceDestroy: true,
      tags: { Name: resourceName("registry-cache") },
    });
    this.bucket.overrideLogicalId(BUCKET_ID);
    this.hardening();
    this.expiry(props.expiryDays);
    this.endpoint = new VpcEndpoint(this, "endpoint", {
      vpcId: props.vpcId,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: [...props.routeTableIds],
      tags: { Name: resourceName("s3") },
    });
    this.endpoint.overrideLogicalId("s3");
  }

  /** Encrypted at rest, never public, no ACLs (the bucket owner owns every object), TLS only. */
  private hardening(): void {
    const bucket = this.bucket.id;
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    }).overrideLogicalId(BUCKET_ID);
    new S3BucketPublicAccessBlock(this, "public-access", {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }).overrideLogicalId(BUCKET_ID);
    new S3BucketOwnershipControls(this, "ownership", { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } }).overrideLogicalId(BUCKET_ID);
    new S3BucketPolicy(this, "policy", {
      bucket,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyPlainHttp",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    }).overrideLogicalId(BUCKET_ID);
  }

  /**
   * Objects go `days` after they were written (S3 counts from creation, not from the last read),
   * and uploads the registry left unfinished go after a day: their parts bill like objects.
   */
  private expiry(days: number): void {
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: this.bucket.id,
      rule: [
        {
          id: "expire-cached-blobs",
          status: "Enabled",
          filter: [{ prefix: "" }],
          expiration: [{ days }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    }).overrideLogicalId(BUCKET_ID);
  }

  /**
   * What the registry's S3 driver calls, on this bucket only: list (the catalog, the proxy's
   * scheduler state, an upload's parts), read, write, delete (expired proxy content, finished
   * uploads) and multipart uploads (every blob is written in parts).
   */
  policyStatements(): PolicyStatement[] {
    return [
      { Sid: "ListCacheBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:ListBucketMultipartUploads"], Resource: this.bucket.arn },
      {
        Sid: "ReadWriteCacheObjects",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        Resource: `${this.bucket.arn}/*`,
      },
    ];
  }
}
