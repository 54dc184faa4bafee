// GitLab's container registry on the kubernetes platform: the chart runs it; this writes the
// Secret with its storage driver settings (images in the object store, credentials by
// reference) and says what it adds to the GitLab chart's values.
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { registryStorage, type S3Connection } from "../../userdata/helm/gitlab/s3-secrets";
import { registryValues } from "../../userdata/helm/gitlab/registry";
import type { HelmValues } from "../../userdata/helm/values";
import { PlatformSecret, requireS3References, type PlatformNamespace } from "../kubernetes-conventions";

export interface KubernetesRegistryProps {
  readonly namespace: PlatformNamespace;
  /** The object store, credentials as Terraform references. */
  readonly s3: S3Connection<string>;
  /** Bucket of the images. */
  readonly bucket: string;
}

export class KubernetesRegistry extends Construct {
  /** Its part of the GitLab chart's values. */
  readonly chartValues: HelmValues;
  readonly storage: PlatformSecret;

  constructor(scope: Construct, id: string, props: KubernetesRegistryProps) {
    super(scope, id);
    requireS3References(props.s3.credentials);
    // jsonencode: Terraform quotes the credentials whatever characters they hold (JSON is YAML).
    this.storage = new PlatformSecret(this, "storage", {
      namespace: props.namespace,
      name: "gitlab-registry-storage",
      data: { config: Fn.jsonencode(registryStorage(props.s3, props.bucket)) },
    });
    this.chartValues = registryValues({ enabled: true, storage: this.storage.ref("config"), bucket: props.bucket });
  }
}

/** The registry switched off: only its part of the chart's values. */
export const DISABLED_REGISTRY_VALUES: HelmValues = registryValues({ enabled: false });
