// The StorageClass of GitLab's stateful volumes (Gitaly, the bundled PostgreSQL and Redis).
// Created here with reclaimPolicy Retain, so deleting a claim (an uninstall, a mistake) keeps
// the volume and its data; or an existing class, whose policy is the cluster owner's (the
// K8S-PV-RETAIN policy asks for a written reason).
import { StorageClassV1 } from "@cdktf/provider-kubernetes/lib/storage-class-v1";
import { Construct } from "constructs";
import { MANAGED_BY } from "../kubernetes-conventions";

export type GitLabStorageProps =
  | { readonly name: string; readonly provisioner: string; readonly parameters: Readonly<Record<string, string>> }
  | { readonly existingClass: string };

export class GitLabStorageClass extends Construct {
  readonly name: string;
  readonly resource?: StorageClassV1;

  constructor(scope: Construct, id: string, props: GitLabStorageProps) {
    super(scope, id);
    if ("existingClass" in props) {
      this.name = props.existingClass;
      return;
    }
    this.name = props.name;
    this.resource = new StorageClassV1(this, "class", {
      metadata: { name: props.name, labels: { ...MANAGED_BY } },
      storageProvisioner: props.provisioner,
      reclaimPolicy: "Retain",
      // Bound where the pod lands (zonal disks, k3s's node-local paths).
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
      parameters: { ...props.parameters },
    });
  }
}
