// Pure: the files a kubernetes stack hands to the cluster, as artifacts. Helm values (with the
// chart they are for, and the runner's config.toml inside them), custom resources
// (kubernetes_manifest) and ConfigMap files. Terraform's template escapes are undone, as
// Terraform will before the provider sends them.
import { parse } from "yaml";
import { classifyFile, type Artifact } from "./classify";
import { unescapeTemplate } from "./terraform";

type Resource = Record<string, unknown>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A value with every string unescaped (manifests are objects, not one template). */
function unescapeDeep(value: unknown): unknown {
  if (typeof value === "string") return unescapeTemplate(value);
  if (Array.isArray(value)) return value.map(unescapeDeep);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unescapeDeep(v)]));
  return value;
}

function helmArtifacts(id: string, release: Resource): Artifact[] {
  const chart = { name: String(release.chart ?? ""), version: String(release.version ?? "") };
  const values = Array.isArray(release.values) ? release.values : [];
  return values.flatMap((raw, i) => {
    if (typeof raw !== "string") return [];
    const origin = `${id} values[${i}] (${chart.name} ${chart.version})`;
    const content = unescapeTemplate(raw);
    const artifacts: Artifact[] = [{ origin, kind: "helm-values", path: `${chart.name}-values.yaml`, content, chart }];
    // The runner chart's config.toml travels as a string inside its values.
    if (chart.name === "gitlab-runner") {
      try {
        const config = (parse(content) as { runners?: { config?: unknown } } | null)?.runners?.config;
        if (typeof config === "string") artifacts.push({ origin: `${origin} → runners.config`, kind: "toml", path: "config.toml", content: config });
      } catch {
        // The values check reports the YAML error.
      }
    }
    return artifacts;
  });
}

/** The artifacts of one resource of a kubernetes stack (none for other resource types). */
export function kubernetesArtifacts(id: string, type: string, resource: Resource): Artifact[] {
  if (type === "helm_release") return helmArtifacts(id, resource);
  if (type === "kubernetes_manifest" && isRecord(resource.manifest)) {
    const manifest = unescapeDeep(resource.manifest) as Record<string, unknown>;
    const kind = typeof manifest.kind === "string" ? manifest.kind : "manifest";
    return [{ origin: `${id} (${kind})`, kind: "kubernetes-manifest", path: `${kind}.json`, content: `${JSON.stringify(manifest, null, 2)}\n` }];
  }
  if ((type === "kubernetes_config_map_v1" || type === "kubernetes_config_map") && isRecord(resource.data)) {
    return Object.entries(resource.data).flatMap(([key, value]) => {
      if (typeof value !== "string") return [];
      const content = unescapeTemplate(value);
      return [{ origin: `${id} data → ${key}`, kind: classifyFile(`/configmap/${key}`, content), path: `/configmap/${key}`, content }];
    });
  }
  return [];
}
