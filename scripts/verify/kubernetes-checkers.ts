// Checks for what a kubernetes stack hands to the cluster. No helm binary and no chart
// downloads here: Helm values are parsed and their keys checked against the chart's key list
// (chart-keys.ts); custom resources are parsed and their shape checked, and a
// PrometheusRule's rule groups go through `promtool check rules`.
import { parseDocument, stringify } from "yaml";
import { CHARTS_WITHOUT_KEY_LIST, checkValuesKeys, rulesForChart, uncheckedKeys } from "./chart-keys";
import { checkPrometheusRules } from "./checkers";
import { ok, verdict, type CheckResult } from "./result";

/** YAML parse (no duplicate keys) and every key known to the chart the values are for. */
export async function checkHelmValues(
  content: string,
  chart: { readonly name: string; readonly version: string },
  label = "values.yaml",
): Promise<CheckResult> {
  const tool = "yaml parse + chart keys";
  const doc = parseDocument(content, { uniqueKeys: true, strict: true });
  const syntax = [...doc.errors, ...doc.warnings].map((e) => `${label}: ${e.message.split("\n")[0]}`);
  if (syntax.length) return verdict(tool, syntax);
  const rules = rulesForChart(chart.name, chart.version);
  const unlisted = CHARTS_WITHOUT_KEY_LIST[chart.name];
  if (!rules && unlisted) return ok("yaml parse", [unlisted]);
  if (!rules) return verdict(tool, [`${label}: no key list for the ${chart.name} chart in scripts/verify/reference/: add one (see chart-keys.ts)`]);
  const values = doc.toJS();
  const findings = checkValuesKeys(values, rules.rules).map((f) => `${label}: ${f.message}`);
  const unchecked = uncheckedKeys(values, rules.rules).map(
    (k) => `${label}: ${k.path}: a key of the bundled ${k.subchart} subchart, whose key list the project does not hold: not checked`,
  );
  return verdict(tool, findings, [...(rules.note ? [rules.note] : []), ...unchecked]);
}

/** What every object the API server accepts has: apiVersion, kind, a DNS-1123 metadata.name, a spec. */
export function manifestShapeProblems(manifest: unknown): string[] {
  if (manifest === null || typeof manifest !== "object" || Array.isArray(manifest)) return ["the manifest must be an object"];
  const m = manifest as Record<string, any>;
  const problems: string[] = [];
  if (typeof m.apiVersion !== "string" || !/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(m.apiVersion))
    problems.push(`apiVersion ${JSON.stringify(m.apiVersion)} is not group/version`);
  if (typeof m.kind !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(m.kind)) problems.push(`kind ${JSON.stringify(m.kind)} is not a Kubernetes kind`);
  const name = m.metadata?.name;
  if (typeof name !== "string" || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name))
    problems.push(`metadata.name ${JSON.stringify(name)} is not a DNS-1123 name`);
  const namespace = m.metadata?.namespace;
  if (namespace !== undefined && (typeof namespace !== "string" || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)))
    problems.push(`metadata.namespace ${JSON.stringify(namespace)} is not a DNS-1123 label`);
  if (m.spec === null || typeof m.spec !== "object") problems.push("spec is missing");
  return problems;
}

/** JSON parse and shape; a PrometheusRule's groups also through `promtool check rules`. */
export async function checkKubernetesManifest(content: string, label = "manifest.json"): Promise<CheckResult> {
  let manifest: any;
  try {
    manifest = JSON.parse(content);
  } catch (error) {
    return verdict("json parse", [`${label}: ${(error as Error).message}`]);
  }
  const shape = manifestShapeProblems(manifest).map((p) => `${label}: ${p}`);
  if (manifest?.kind !== "PrometheusRule") return shape.length ? verdict("manifest shape", shape) : ok("manifest shape");
  const rules = await checkPrometheusRules(stringify({ groups: manifest.spec?.groups ?? [] }, { lineWidth: 0 }), label.replace(/\.json$/, ".rules.yml"));
  return {
    ...rules,
    tool: `manifest shape + ${rules.tool}`,
    status: shape.length && rules.status === "ok" ? "FAIL" : rules.status,
    findings: [...shape, ...rules.findings],
  };
}
