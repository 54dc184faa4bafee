// Checks Helm values against the chart's own key list (no helm binary and no chart downloads
// here, so the templates cannot be rendered: the key names are what can be checked). The key
// lists live in scripts/verify/reference/, each with a header naming its source.
//
// What a key's marker means here:
// - none (in a values.yaml), #commented (only in commented examples), #template (read by the
//   templates only): valid.
// - #doc (only in the docs' examples): a finding, unless the key is in the chart's reviewed
//   list below with the template that reads it. Docs examples drift (placeholder names,
//   renamed keys), so a doc-only key is accepted only after someone looked at the templates.
// - under a free-form map (annotations, labels, extraEnv, nodeSelector, …): any child key.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export type KeyMarker = "active" | "commented" | "template" | "doc";

const REFERENCE_DIR = join(__dirname, "reference");

/** Maps whose children are the user's own names: any key below them is valid. */
const FREE_FORM_SEGMENTS = new Set([
  "annotations",
  "labels",
  "podLabels",
  "podAnnotations",
  "serviceLabels",
  "serviceAnnotations",
  "deploymentLabels",
  "deploymentAnnotations",
  "additionalLabels",
  "commonLabels",
  "matchLabels",
  "extraEnv",
  "extraEnvFrom",
  "nodeSelector",
  // The chart writes it verbatim into the ServiceMonitor/PodMonitor endpoint (toYaml).
  "endpointConfig",
  // Prometheus relabel configs, written verbatim into a ServiceMonitor/PodMonitor.
  "relabelings",
  "metricRelabelings",
]);

export interface ChartKeyRules {
  /** Chart name and version, e.g. gitlab 9.9.1. */
  readonly chart: string;
  readonly version: string;
  /** Key list files in scripts/verify/reference/, merged (a chart and the subcharts it bundles). */
  readonly lists: readonly string[];
  /** Paths below which any key is valid, beyond the generic free-form maps. */
  readonly freeFormPaths?: readonly string[];
  /** #doc keys confirmed against the chart's templates: path → where the template reads it. */
  readonly reviewedDocKeys?: Readonly<Record<string, string>>;
  /**
   * Bundled subcharts whose own key list the project does not hold, by their values key: a
   * key below one that the chart's list does not know is not a finding but is reported as
   * unchecked (uncheckedKeys), so a reviewer sees exactly what went unverified.
   */
  readonly subchartsWithoutKeyList?: Readonly<Record<string, string>>;
}

/**
 * The charts whose values are checked, with the key lists they are checked against. Only
 * upstream reference data goes into scripts/verify/reference/ (the lists the project was
 * given, copied with their headers): a key list is never made here from a fetched chart.
 */
export const CHART_KEY_RULES: readonly ChartKeyRules[] = [
  {
    chart: "gitlab",
    version: "9.9.1",
    lists: ["gitlab-chart-9.9.1.keys.txt"],
    subchartsWithoutKeyList: { postgresql: "bitnami/postgresql 13.4.4", redis: "bitnami/redis 18.19.4" },
    reviewedDocKeys: {
      "gitlab.webservice.workhorse.resources.limits": "charts/gitlab/charts/webservice/templates/deployment.yaml: toYaml .workhorse.resources",
      "gitlab.webservice.workhorse.resources.limits.memory": "charts/gitlab/charts/webservice/templates/deployment.yaml: toYaml .workhorse.resources",
      "global.redis.scheme":
        "charts/gitlab/templates/_redis.tpl: gitlab.redis.scheme reads .redisMergedConfig.scheme (global.redis merged); redis, rediss or tcp",
    },
  },
  { chart: "gitlab-runner", version: "0.86.0", lists: ["gitlab-runner-chart-0.86.0.keys.txt"] },
];

/**
 * Charts the platform installs whose key list the project does not hold: their values are
 * parsed, and the verify report says that their keys were not checked.
 */
export const CHARTS_WITHOUT_KEY_LIST: Readonly<Record<string, string>> = {
  "argo-cd": "no key list of the argo-cd chart in scripts/verify/reference/: values parsed, keys not checked",
  "cert-manager": "no key list of the cert-manager chart in scripts/verify/reference/: values parsed, keys not checked",
};

/** One key list file: path → marker. Comment lines (`# …`) are skipped. */
export function parseKeyList(text: string): Map<string, KeyMarker> {
  const keys = new Map<string, KeyMarker>();
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const [path, marker] = line.trim().split(/\s+#/);
    const kind: KeyMarker = marker === "commented" || marker === "template" || marker === "doc" ? marker : "active";
    // A key listed twice (chart and subchart) counts with its strongest marker.
    const known = keys.get(path!);
    if (!known || rank(kind) < rank(known)) keys.set(path!, kind);
  }
  return keys;
}

const rank = (m: KeyMarker) => ["active", "commented", "template", "doc"].indexOf(m);

const loaded = new Map<string, Map<string, KeyMarker>>();

/** The merged key list of a chart's rules, read once. */
export function chartKeys(rules: ChartKeyRules): Map<string, KeyMarker> {
  const id = `${rules.chart}@${rules.version}`;
  let keys = loaded.get(id);
  if (!keys) {
    keys = new Map();
    for (const file of rules.lists) {
      for (const [path, marker] of parseKeyList(readFileSync(join(REFERENCE_DIR, file), "utf8"))) {
        const known = keys.get(path);
        if (!known || rank(marker) < rank(known)) keys.set(path, marker);
      }
    }
    loaded.set(id, keys);
  }
  return keys;
}

/** A key as the lists spell it: quoted when it holds a dot, a slash or a space. */
const segment = (key: string) => (/[./\s]/.test(key) ? `"${key}"` : key);

/** Every key path of a values document, in the lists' notation (`a.b`, `list[]`, `list[].key`). */
export function valuesPaths(values: unknown, prefix = ""): string[] {
  if (Array.isArray(values)) {
    const maps = values.filter((v) => v !== null && typeof v === "object" && !Array.isArray(v));
    return maps.length ? [`${prefix}[]`, ...maps.flatMap((m) => valuesPaths(m, `${prefix}[]`))] : [];
  }
  if (values === null || typeof values !== "object") return [];
  return Object.entries(values as Record<string, unknown>).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${segment(key)}` : segment(key);
    return [path, ...valuesPaths(child, path)];
  });
}

/** Splits a path into its segments, keeping quoted keys whole. */
function segments(path: string): string[] {
  return path.match(/"[^"]*"|[^.]+/g) ?? [];
}

/**
 * Whether the path lies below a free-form map or list (annotations, relabelings, …) whose own
 * key the chart knows. The free-form key itself must be known: it is checked as any other.
 */
function underFreeForm(path: string, rules: ChartKeyRules, keys: Map<string, KeyMarker>): boolean {
  const parts = segments(path);
  for (let i = 1; i <= parts.length; i++) {
    const name = parts[i - 1]!.replace(/\[\]$/, "");
    const node = [...parts.slice(0, i - 1), name].join(".");
    if (node === path) continue;
    const freeForm = FREE_FORM_SEGMENTS.has(name) || (rules.freeFormPaths ?? []).includes(node);
    if (freeForm && keys.has(node)) return true;
  }
  return false;
}

export interface KeyFinding {
  readonly path: string;
  readonly message: string;
}

/** What is wrong with the values' keys for this chart: unknown keys and unreviewed doc-only keys. */
export function checkValuesKeys(values: unknown, rules: ChartKeyRules): KeyFinding[] {
  const keys = chartKeys(rules);
  const findings: KeyFinding[] = [];
  for (const path of valuesPaths(values)) {
    if (underFreeForm(path, rules, keys)) continue;
    const marker = keys.get(path);
    if (marker === undefined && unlistedSubchart(path, rules)) continue;
    if (marker === undefined) {
      findings.push({ path, message: `${path}: not a key of the ${rules.chart} chart ${rules.version} (scripts/verify/reference/${rules.lists[0]})` });
    } else if (marker === "doc" && !rules.reviewedDocKeys?.[path]) {
      findings.push({
        path,
        message: `${path}: only in the ${rules.chart} chart's docs (#doc), not in its values or templates: confirm it in the templates and add it to reviewedDocKeys (scripts/verify/chart-keys.ts)`,
      });
    }
  }
  return findings;
}

/** The bundled subchart without a key list that `path` belongs to, if any. */
function unlistedSubchart(path: string, rules: ChartKeyRules): string | undefined {
  const top = segments(path)[0]!;
  return segments(path).length > 1 ? rules.subchartsWithoutKeyList?.[top] : undefined;
}

/** Keys below bundled subcharts the chart's list does not know: valid to Helm, unverified here. */
export function uncheckedKeys(values: unknown, rules: ChartKeyRules): { path: string; subchart: string }[] {
  const keys = chartKeys(rules);
  return valuesPaths(values)
    .filter((path) => !keys.has(path) && !underFreeForm(path, rules, keys))
    .flatMap((path) => {
      const subchart = unlistedSubchart(path, rules);
      return subchart ? [{ path, subchart }] : [];
    });
}

/** The rules for a chart release: the exact version, else the same chart's listed version (noted). */
export function rulesForChart(chart: string, version: string): { rules: ChartKeyRules; note?: string } | undefined {
  const same = CHART_KEY_RULES.filter((r) => r.chart === chart);
  const exact = same.find((r) => r.version === version);
  if (exact) return { rules: exact };
  const nearest = same[0];
  return nearest ? { rules: nearest, note: `no key list for ${chart} ${version}: checked against ${nearest.version}'s` } : undefined;
}
