// What a runner fleet on aws keeps whichever way it scales (runners.scaling): the shared S3
// cache and the runner's and system's log groups. Both fleets create them under the same
// construct ids, in the construct the stack names "runner-fleet", so switching the scaling
// mode keeps the bucket and the log groups (and their names) instead of replacing them.
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import type { Construct } from "constructs";
import { PrivateBucket } from "../private-bucket/aws";

export interface RunnerStorageProps {
  /** Environment name; the log groups are /<environment>/gitlab-runner/{runner,system}. */
  readonly environment: string;
  /** Globally unique name of the cache bucket. */
  readonly cacheBucketName: string;
  /** Cache objects expire after this many days. */
  readonly cacheExpirationDays: number;
  readonly logRetentionDays: { readonly runner: number; readonly system: number };
  /** Tags of the log groups. */
  readonly tags: Readonly<Record<string, string>>;
}

export interface RunnerStorage {
  /** The shared, disposable S3 cache. */
  readonly cacheBucket: S3Bucket;
  readonly logGroups: { readonly runner: CloudwatchLogGroup; readonly system: CloudwatchLogGroup };
  /** The log groups' names, literal (user data reads better without references). */
  readonly logGroupNames: { readonly runner: string; readonly system: string };
}

export function runnerStorage(scope: Construct, p: RunnerStorageProps): RunnerStorage {
  // ---- S3 cache: shared by every instance, disposable ----
  // It only holds what a pipeline can rebuild (pnpm store, build caches): not versioned,
  // no prevent_destroy, emptied on destroy; objects expire after cacheExpirationDays.
  const cacheBucket = new PrivateBucket(scope, "cache", {
    bucketName: p.cacheBucketName,
    purpose: "cache",
    holdsData: false,
    expireAfterDays: p.cacheExpirationDays,
  }).bucket;

  // ---- CloudWatch log groups ----
  const logGroupNames = { runner: `/${p.environment}/gitlab-runner/runner`, system: `/${p.environment}/gitlab-runner/system` };
  const logGroups = {
    runner: new CloudwatchLogGroup(scope, "log-runner", { name: logGroupNames.runner, retentionInDays: p.logRetentionDays.runner, tags: { ...p.tags } }),
    system: new CloudwatchLogGroup(scope, "log-system", { name: logGroupNames.system, retentionInDays: p.logRetentionDays.system, tags: { ...p.tags } }),
  };
  return { cacheBucket, logGroups, logGroupNames };
}
