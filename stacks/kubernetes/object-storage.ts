// The object store as the charts' Secrets and the backup jobs see it.
import type { S3Connection } from "../../userdata/helm/gitlab/s3-secrets";
import { bucketName } from "../../userdata/helm/gitlab/object-storage";
import type { KubernetesEnvironment, StackVariables } from "./environment";

export function s3Connection(env: KubernetesEnvironment, vars: StackVariables): S3Connection<string> {
  const o = env.objectStorage;
  const credentials =
    "iamRoleArn" in o.credentials
      ? ({ iamRole: true } as const)
      : {
          accessKeyId: vars.variable(o.credentials.accessKeyId.terraformVariable),
          secretAccessKey: vars.variable(o.credentials.secretAccessKey.terraformVariable),
        };
  return { region: o.region, pathStyle: o.pathStyle, credentials, ...(o.endpoint ? { endpoint: o.endpoint } : {}) };
}

/** <bucketPrefix>-<suffix>: the platform's bucket of that role. */
export const platformBucket = (env: KubernetesEnvironment, suffix: string) => bucketName(env.objectStorage.bucketPrefix, suffix);

export const iamRoleOf = (env: KubernetesEnvironment) => ("iamRoleArn" in env.objectStorage.credentials ? env.objectStorage.credentials.iamRoleArn : undefined);
