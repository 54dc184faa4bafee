// The names an aws environment's resources derive from its config, computed once.
import type { AwsEnvironment } from "../aws-stack";

export interface AwsNames {
  /** Prefix of every resource name, e.g. staging-gitlab. */
  readonly namePrefix: string;
  /** Prefix of the bucket names (global in S3: config may choose it). */
  readonly bucketPrefix: string;
  /** The tag that marks the data volume for the snapshot policy. */
  readonly snapshotTag: { readonly key: string; readonly value: string };
}

export function awsNames(env: AwsEnvironment): AwsNames {
  const namePrefix = `${env.name}-gitlab`;
  return {
    namePrefix,
    bucketPrefix: env.aws.bucketPrefix ?? namePrefix,
    snapshotTag: { key: "gitlab-platform:snapshots", value: `${namePrefix}-data` },
  };
}
