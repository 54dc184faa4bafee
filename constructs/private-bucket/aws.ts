// An S3 bucket as every bucket of the platform must be: private (all four public-access
// blocks, owner-enforced objects), encrypted by default, reachable over TLS only, and —
// when it holds data — versioned and protected against destroy.
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Construct } from "constructs";
import { PURPOSE_TAG } from "../../policies/types";

export interface PrivateBucketProps {
  /** Globally unique bucket name. */
  readonly bucketName: string;
  /** What the bucket holds; policies (lifecycle, versioning) depend on it. */
  readonly purpose: "registry" | "backups" | "cache";
  /** The bucket holds data that must survive: versioned, prevent_destroy, never force-destroyed. */
  readonly holdsData: boolean;
  /** Current objects expire after this many days. @default never */
  readonly expireAfterDays?: number;
  /** Noncurrent versions expire after this many days (versioned buckets). @default 30 */
  readonly noncurrentExpireAfterDays?: number;
}

export class PrivateBucket extends Construct {
  readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: PrivateBucketProps) {
    super(scope, id);
    this.bucket = new S3Bucket(this, "bucket", {
      bucket: props.bucketName,
      tags: { [PURPOSE_TAG]: props.purpose },
      // Disposable buckets (the runner cache) may be emptied on destroy; data buckets never.
      forceDestroy: !props.holdsData,
      ...(props.holdsData ? { lifecycle: { preventDestroy: true } } : {}),
    });
    this.lockDown();
    if (props.holdsData) {
      new S3BucketVersioningA(this, "versioning", {
        bucket: this.bucket.id,
        versioningConfiguration: { status: "Enabled" },
      });
    }
    new S3BucketLifecycleConfiguration(this, "lifecycle", { bucket: this.bucket.id, rule: lifecycleRules(props) });
  }

  /** No public access, the bucket owner owns every object, encrypted at rest, TLS only. */
  private lockDown(): void {
    const publicAccessBlock = new S3BucketPublicAccessBlock(this, "public-access-block", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", {
      bucket: this.bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: this.bucket.id,
      // SSE-S3. (No Bucket Key: it saves KMS requests, and SSE-S3 makes none.)
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    new S3BucketPolicy(this, "tls-only", {
      bucket: this.bucket.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
      // S3 refuses a bucket policy while the public access block is still being applied
      // (OperationAborted); creating them in parallel fails the first apply now and then.
      dependsOn: [publicAccessBlock],
    });
  }
}

/** Incomplete uploads go after a week; objects after expireAfterDays; a data bucket's old versions after their own days. */
function lifecycleRules(props: PrivateBucketProps) {
  return [
    {
      id: "abort-incomplete-uploads",
      status: "Enabled",
      filter: [{ prefix: "" }],
      abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
    },
    ...(props.expireAfterDays !== undefined
      ? [{ id: "expire-objects", status: "Enabled", filter: [{ prefix: "" }], expiration: [{ days: props.expireAfterDays }] }]
      : []),
    ...(props.holdsData
      ? [
          {
            id: "expire-noncurrent-versions",
            status: "Enabled",
            filter: [{ prefix: "" }],
            noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentExpireAfterDays ?? 30 }],
          },
          // A delete marker whose older versions have all expired protects nothing; S3
          // refuses this flag beside days in one expiration, hence a rule of its own.
          {
            id: "remove-expired-delete-markers",
            status: "Enabled",
            filter: [{ prefix: "" }],
            expiration: [{ expiredObjectDeleteMarker: true }],
          },
        ]
      : []),
  ];
}
