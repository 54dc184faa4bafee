// Kubernetes platform: pinned charts, each release in a namespace of its own, no privileged
// pods unless config asks for privileged CI jobs, secrets only as references, and GitLab's
// stateful volumes on a StorageClass that keeps them.
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import type { ResourceView, Rule, StackView, Violation } from "../types";

/** The label the platform puts on a namespace holding what cannot be recreated (constructs/kubernetes-conventions.ts). */
const STATEFUL_LABEL = "gitlab-platform/stateful";
const SHARED_NAMESPACES = new Set(["default", "kube-system", "kube-public", "kube-node-lease"]);

type ReleaseValues = { docs: Record<string, any>[]; problem?: string };
/** Three rules read each release's values, which are large: parsed once per release. */
const parsedValues = new WeakMap<object, ReleaseValues>();

/** A release's values documents as objects (Terraform's escapes undone); unreadable ones as a violation. */
function valuesOf(release: ResourceView): ReleaseValues {
  let parsed = parsedValues.get(release.config);
  if (!parsed) {
    parsed = parseValues(release);
    parsedValues.set(release.config, parsed);
  }
  return parsed;
}

function parseValues(release: ResourceView): ReleaseValues {
  const docs: Record<string, any>[] = [];
  for (const text of (release.config.values ?? []) as unknown[]) {
    if (typeof text !== "string" || text.includes("${"))
      return { docs, problem: "its values must be a literal YAML document (no Terraform expressions): a policy cannot read them otherwise" };
    try {
      docs.push((parseYaml(text.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{")) ?? {}) as Record<string, any>);
    } catch {
      return { docs, problem: "its values are not valid YAML" };
    }
  }
  return { docs };
}

const releases = (stack: StackView) => stack.ofType("helm_release");
const at = (o: unknown, path: string): any => path.split(".").reduce<any>((v, k) => (v !== null && typeof v === "object" ? v[k] : undefined), o);

const chartPinned: Rule = {
  id: "K8S-CHART-PINNED",
  rationale: "An unpinned chart installs whatever was published last: an untested upgrade, possibly past one of GitLab's required upgrade stops.",
  check: (stack) =>
    releases(stack).flatMap((r) => {
      const version = String(r.config.version ?? "");
      const repository = String(r.config.repository ?? "");
      const problems: string[] = [];
      if (!/^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version))
        problems.push(`chart version "${version}" must be an exact version (no range, no empty = latest)`);
      if (!/^(https|oci):\/\//.test(repository)) problems.push(`repository "${repository}" must be an https:// or oci:// chart repository`);
      return problems.map((message) => ({ resource: r, message }));
    }),
};

const releaseNamespace: Rule = {
  id: "K8S-RELEASE-NAMESPACE",
  rationale: "Each release in a namespace of its own: CI job pods never share one with GitLab's Secrets, and RBAC and quotas apply per component.",
  check: (stack) => {
    const seen = new Map<string, string>();
    return releases(stack).flatMap((r) => {
      const namespace = r.config.namespace;
      const out: Violation[] = [];
      if (typeof namespace !== "string" || namespace === "" || SHARED_NAMESPACES.has(namespace)) {
        out.push({ resource: r, message: `set namespace to one of the platform's own (got ${JSON.stringify(namespace ?? "default")})` });
      } else if (seen.has(namespace)) {
        out.push({ resource: r, message: `namespace "${namespace}" is already release ${seen.get(namespace)}'s: give each release its own` });
      } else seen.set(namespace, String(r.config.name));
      if (r.config.create_namespace === true)
        out.push({
          resource: r,
          message: "create the namespace as a kubernetes_namespace_v1 of this stack, not with create_namespace (Helm never deletes or labels it)",
        });
      return out;
    });
  },
};

/** Paths of `privileged: true` anywhere in a values document. */
function privilegedPaths(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => privilegedPaths(v, `${path}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) =>
    k === "privileged" && v === true ? [path ? `${path}.${k}` : k] : privilegedPaths(v, path ? `${path}.${k}` : k),
  );
}

/** The runner chart's config.toml: do its job pods run privileged? */
function runnerJobsPrivileged(values: Record<string, any>): boolean {
  const config = at(values, "runners.config");
  if (typeof config !== "string") return false;
  const toml = parseToml(config) as { runners?: { kubernetes?: { privileged?: boolean; allow_privilege_escalation?: boolean } }[] };
  return (toml.runners ?? []).some((r) => r.kubernetes?.privileged === true || r.kubernetes?.allow_privilege_escalation === true);
}

const noPrivilegedPods: Rule = {
  id: "K8S-NO-PRIVILEGED",
  rationale: "A privileged pod is root on its node; only CI job pods may be, and only when config asks (runners.privileged).",
  check: (stack) => [
    ...releases(stack).flatMap((r) =>
      valuesOf(r).docs.flatMap((doc) => [
        ...privilegedPaths(doc).map((p) => ({ resource: r, message: `${p} is true: the platform's own pods are never privileged` })),
        ...(r.config.chart === "gitlab-runner" && runnerJobsPrivileged(doc) && !stack.context.privilegedJobs
          ? [{ resource: r, message: "config.toml runs job pods privileged while runners.privileged is false: set it in config to accept the risk" }]
          : []),
      ]),
    ),
    ...stack
      .ofType("kubernetes_cron_job_v1")
      .filter((j) => JSON.stringify(j.config).includes('"privileged":true'))
      .map((resource) => ({ resource, message: "a container is privileged: remove privileged = true" })),
  ],
};

/** Keys whose string value would be the secret itself, not a Secret's name. */
const SECRET_VALUE_KEY = /(password|passwd|token|secretkey|secret_key|access_key_id|accesskey)$/i;

function literalSecretPaths(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => literalSecretPaths(v, `${path}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const here = path ? `${path}.${k}` : k;
    return typeof v === "string" && v !== "" && SECRET_VALUE_KEY.test(k) ? [here] : literalSecretPaths(v, here);
  });
}

const secretsAsReferences: Rule = {
  id: "K8S-SECRETS-AS-REFERENCES",
  rationale: "Helm keeps every release's values readable by anyone with `helm get values`; secrets go in Secrets, and values only name them.",
  check: (stack) => [
    ...releases(stack).flatMap((r) => {
      const { docs, problem } = valuesOf(r);
      return [
        ...(problem ? [{ resource: r, message: problem }] : []),
        ...(r.config.set_sensitive || r.config.set_wo
          ? [{ resource: r, message: "pass secrets in a Secret the values name, not with set_sensitive/set_wo" }]
          : []),
        ...((r.config.set ?? []) as { value?: unknown }[])
          .filter((s) => typeof s.value === "string" && s.value.includes("var."))
          .map(() => ({ resource: r, message: "a set value holds a Terraform variable: put it in a Secret the values name" })),
        ...docs.flatMap((d) => literalSecretPaths(d)).map((p) => ({ resource: r, message: `${p} holds a value: name a Secret ({ secret, key }) instead` })),
      ];
    }),
    ...stack
      .ofType("kubernetes_manifest")
      .filter((m) => m.config.manifest?.kind === "Secret")
      .map((resource) => ({
        resource,
        message: "a Secret as kubernetes_manifest keeps its data in the manifest: use kubernetes_secret_v1 from a sensitive variable",
      })),
    ...stack.ofType("kubernetes_secret_v1").flatMap((s) =>
      Object.entries((s.config.data ?? {}) as Record<string, unknown>)
        .filter(([, v]) => typeof v === "string" && v !== "" && !/^\$\{.*\}$/s.test(v))
        .map(([k]) => ({ resource: s, message: `data.${k} is a literal: a Secret's data comes from a sensitive variable (or name an existing Secret)` })),
    ),
  ],
};

/** The GitLab chart's stateful components: where their volume settings are, and when they run. */
const STATEFUL_VOLUMES: readonly { readonly path: string; readonly runs: (v: Record<string, any>) => boolean }[] = [
  { path: "gitlab.gitaly.persistence", runs: () => true },
  { path: "postgresql.primary.persistence", runs: (v) => at(v, "postgresql.install") !== false },
  { path: "redis.master.persistence", runs: (v) => at(v, "redis.install") !== false },
  { path: "minio.persistence", runs: (v) => at(v, "global.minio.enabled") !== false },
];

const volumesRetained: Rule = {
  id: "K8S-PV-RETAIN",
  rationale: "GitLab's repositories and databases must outlive their claims: persistent, on a StorageClass with reclaimPolicy Retain.",
  check: (stack) => {
    const classes = stack.ofType("kubernetes_storage_class_v1");
    const retained = new Set(classes.filter((c) => c.config.reclaim_policy === "Retain").map((c) => c.config.metadata?.name));
    return [
      ...classes.filter((c) => c.config.reclaim_policy !== "Retain").map((resource) => ({ resource, message: 'set reclaim_policy = "Retain"' })),
      ...releases(stack)
        .filter((r) => r.config.chart === "gitlab")
        .flatMap((r) => {
          const values = Object.assign({}, ...valuesOf(r).docs) as Record<string, any>;
          return STATEFUL_VOLUMES.filter((v) => v.runs(values)).flatMap((v) => {
            const persistence = at(values, v.path) ?? {};
            if (persistence.enabled === false) return [{ resource: r, message: `${v.path}.enabled is false: its data would die with the pod` }];
            const storageClass = persistence.storageClass;
            return retained.has(storageClass)
              ? []
              : [
                  {
                    resource: r,
                    message: `${v.path}.storageClass ${JSON.stringify(storageClass ?? "(cluster default)")} is not a Retain StorageClass of this stack`,
                  },
                ];
          });
        }),
    ];
  },
};

const statefulNamespaceProtected: Rule = {
  id: "K8S-NAMESPACE-PROTECTED",
  rationale: "Deleting GitLab's namespace deletes the chart's generated Rails secret and every claim: it is never destroyed by a routine apply.",
  check: (stack) =>
    stack
      .ofType("kubernetes_namespace_v1")
      .filter((n) => n.config.metadata?.labels?.[STATEFUL_LABEL] === "true" && n.config.lifecycle?.prevent_destroy !== true)
      .map((resource) => ({ resource, message: "set lifecycle.prevent_destroy = true (remove it deliberately to retire the environment)" })),
};

export const kubernetesRules = [chartPinned, releaseNamespace, noPrivilegedPods, secretsAsReferences, volumesRetained, statefulNamespaceProtected];
