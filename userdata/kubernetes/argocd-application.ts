// The one Argo CD Application the platform creates: a path of a repository, synced into a
// namespace of this cluster (the GitOps loop). Nothing more: further applications
// belong in that repository.
import type { KubernetesManifest } from "./manifest";

export interface ArgoCdApplicationSettings {
  readonly name: string;
  /** Argo CD's namespace: Applications live there. */
  readonly argocdNamespace: string;
  readonly repoUrl: string;
  readonly path: string;
  readonly targetRevision: string;
  /** Where the manifests are deployed. */
  readonly destinationNamespace: string;
}

export function argoCdApplication(s: ArgoCdApplicationSettings): KubernetesManifest {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: { name: s.name, namespace: s.argocdNamespace },
    spec: {
      project: "default",
      source: { repoURL: s.repoUrl, path: s.path, targetRevision: s.targetRevision },
      destination: { server: "https://kubernetes.default.svc", namespace: s.destinationNamespace },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    },
  };
}
