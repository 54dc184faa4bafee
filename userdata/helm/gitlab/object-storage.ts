// Every object type in S3 (or an S3-compatible store) through the consolidated object_store
// settings; the bundled MinIO off. With an IAM role, GitLab's service accounts carry it.
import type { HelmValues } from "../values";
import type { ChartObjectStorage } from "./model";

/** The chart's object types and the bucket suffix of each (the chart's default names, prefixed). */
export const OBJECT_BUCKETS = {
  artifacts: "artifacts",
  lfs: "lfs",
  uploads: "uploads",
  packages: "packages",
  externalDiffs: "mr-diffs",
  terraformState: "terraform-state",
  ciSecureFiles: "ci-secure-files",
  dependencyProxy: "dependency-proxy",
} as const;

/** Types the chart leaves off unless told (its globals docs). */
const OFF_BY_DEFAULT = new Set(["externalDiffs", "terraformState", "ciSecureFiles", "dependencyProxy"]);

export const bucketName = (prefix: string, suffix: string) => `${prefix}-${suffix}`;

export function objectStorageValues(o: ChartObjectStorage): HelmValues {
  const types = Object.fromEntries(
    Object.entries(OBJECT_BUCKETS).map(([type, suffix]) => [
      type,
      { bucket: bucketName(o.bucketPrefix, suffix), ...(OFF_BY_DEFAULT.has(type) ? { enabled: true } : {}) },
    ]),
  );
  return {
    global: {
      minio: { enabled: false },
      appConfig: {
        object_store: { enabled: true, proxy_download: true, connection: { secret: o.connection.secret, key: o.connection.key } },
        ...types,
      },
      ...(o.iamRoleArn ? { serviceAccount: { enabled: true, create: true, annotations: { "eks.amazonaws.com/role-arn": o.iamRoleArn } } } : {}),
    },
  };
}
