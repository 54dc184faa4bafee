// The container registry on its own host name, images in the object store (the Registry
// capability's part of GitLab's chart values).
import type { HelmValues, SecretKeyRef } from "../values";

export const REGISTRY_TLS_SECRET = "gitlab-registry-tls";

export type RegistryChartSettings =
  | { readonly enabled: false }
  | {
      readonly enabled: true;
      /** Secret with the storage driver's configuration (see registryStorage). */
      readonly storage: SecretKeyRef;
      /** Its bucket: backups read the registry from it. */
      readonly bucket: string;
    };

export function registryValues(r: RegistryChartSettings): HelmValues {
  if (!r.enabled) return { registry: { enabled: false }, global: { registry: { enabled: false } } };
  return {
    global: { registry: { enabled: true, bucket: r.bucket } },
    registry: {
      enabled: true,
      storage: { secret: r.storage.secret, key: r.storage.key },
      ingress: { tls: { secretName: REGISTRY_TLS_SECRET } },
    },
  };
}
