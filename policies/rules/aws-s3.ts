// S3: private, encrypted, TLS-only; data buckets versioned; cache and backups expire; old
// versions and expired delete markers of versioned buckets go too.
import { PURPOSE_TAG, type ResourceView, type Rule, type StackView } from "../types";

/** The bucket-level resources that point at `bucket` through their `bucket` attribute. */
function attached(stack: StackView, type: string, bucket: ResourceView): ResourceView[] {
  return stack.ofType(type).filter((r) => stack.referenced(r.config.bucket) === bucket);
}

const purpose = (bucket: ResourceView): string | undefined => bucket.config.tags?.[PURPOSE_TAG];

const publicAccess: Rule = {
  id: "AWS-S3-PUBLIC-ACCESS-BLOCK",
  rationale: "A single public bucket leaks images, backups (with the secrets file) or caches to the internet.",
  check: (stack) =>
    stack.ofType("aws_s3_bucket").flatMap((bucket) => {
      const blocks = attached(stack, "aws_s3_bucket_public_access_block", bucket);
      const keys = ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];
      const complete = blocks.some((b) => keys.every((k) => b.config[k] === true));
      return complete ? [] : [{ resource: bucket, message: `add an aws_s3_bucket_public_access_block with ${keys.join(", ")} all true` }];
    }),
};

const encryption: Rule = {
  id: "AWS-S3-ENCRYPTION",
  rationale: "Objects at rest must be encrypted by default, not by each uploader remembering to ask.",
  check: (stack) =>
    stack
      .ofType("aws_s3_bucket")
      .flatMap((bucket) =>
        attached(stack, "aws_s3_bucket_server_side_encryption_configuration", bucket).length > 0
          ? []
          : [{ resource: bucket, message: "add an aws_s3_bucket_server_side_encryption_configuration (SSE-S3 or SSE-KMS)" }],
      ),
};

function deniesInsecureTransport(policy: unknown): boolean {
  try {
    const doc = JSON.parse(String(policy)) as { Statement?: any[] };
    return (doc.Statement ?? []).some(
      (s) => s.Effect === "Deny" && String(s.Condition?.Bool?.["aws:SecureTransport"]) === "false" && [s.Action].flat().some((a: string) => a === "s3:*"),
    );
  } catch {
    return false;
  }
}

const tlsOnly: Rule = {
  id: "AWS-S3-TLS-ONLY",
  rationale: "Requests over plain HTTP expose object data and signed URLs on the network.",
  check: (stack) =>
    stack
      .ofType("aws_s3_bucket")
      .flatMap((bucket) =>
        attached(stack, "aws_s3_bucket_policy", bucket).some((p) => deniesInsecureTransport(p.config.policy))
          ? []
          : [{ resource: bucket, message: "add a bucket policy denying s3:* when aws:SecureTransport is false" }],
      ),
};

const versioned: Rule = {
  id: "AWS-S3-VERSIONED",
  rationale: "Backups and registry images must survive an overwrite or delete (a compromised host, a bad script).",
  check: (stack) =>
    stack
      .ofType("aws_s3_bucket")
      .filter((b) => ["backups", "registry"].includes(purpose(b) ?? ""))
      .flatMap((bucket) =>
        attached(stack, "aws_s3_bucket_versioning", bucket).some((v) => v.config.versioning_configuration?.status === "Enabled")
          ? []
          : [{ resource: bucket, message: "enable versioning (aws_s3_bucket_versioning status Enabled)" }],
      ),
};

const lifecycle: Rule = {
  id: "AWS-S3-LIFECYCLE",
  rationale:
    "Caches and backups grow forever without an expiry, and a versioned bucket keeps every old version and delete marker: cost, and data kept past its retention.",
  check: (stack) =>
    stack.ofType("aws_s3_bucket").flatMap((bucket) => {
      const rules = attached(stack, "aws_s3_bucket_lifecycle_configuration", bucket)
        .flatMap((l) => l.config.rule ?? [])
        .filter((r: any) => r.status === "Enabled");
      const has = (test: (r: any) => boolean) => rules.some(test);
      const problems: string[] = [];
      if (["backups", "cache"].includes(purpose(bucket) ?? "") && !has((r) => (r.expiration ?? []).some((e: any) => typeof e.days === "number"))) {
        problems.push("add a lifecycle rule expiring objects after the retention (days)");
      }
      const versioned = attached(stack, "aws_s3_bucket_versioning", bucket).some((v) => v.config.versioning_configuration?.status === "Enabled");
      const expiresOldVersions = has((r) => (r.noncurrent_version_expiration ?? []).some((e: any) => typeof e.noncurrent_days === "number"));
      const removesMarkers = has((r) => (r.expiration ?? []).some((e: any) => e.expired_object_delete_marker === true));
      if (versioned && !(expiresOldVersions && removesMarkers)) {
        problems.push(
          "versioned: add lifecycle rules expiring noncurrent versions (noncurrent_version_expiration) and removing expired delete markers (expiration.expired_object_delete_marker)",
        );
      }
      return problems.length ? [{ resource: bucket, message: problems.join("; ") }] : [];
    }),
};

export const s3Rules = [publicAccess, encryption, tlsOnly, versioned, lifecycle];
