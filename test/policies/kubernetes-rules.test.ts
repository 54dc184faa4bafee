// Each kubernetes policy rule with a passing and a failing case, then on the examples' real
// resources: what they synthesize passes, the same resources changed one way each fail.
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { findViolations, RULES } from "../../policies/index";
import { stackView } from "../../policies/stack-view";
import { deepClone, exampleEnvironment, synthStacksToDisk, type SynthesizedStack } from "../helpers";
import { view } from "./view";

const rule = (id: string) => RULES.find((r) => r.id === id)!;
const check = (id: string, resources: Parameters<typeof view>[0], privilegedJobs = false) =>
  rule(id)
    .check({ ...view(resources), context: { gitSshPort: 22, privilegedJobs } })
    .map((v) => `${v.resource.path}: ${v.message}`);

const release = (extra: Record<string, unknown> = {}, values: unknown = {}) => ({
  name: "gitlab",
  namespace: "gitlab",
  repository: "https://charts.gitlab.io",
  chart: "gitlab",
  version: "9.9.1",
  values: [stringify(values)],
  ...extra,
});

const retainClass = { kubernetes_storage_class_v1: { sc: { metadata: { name: "retain" }, reclaim_policy: "Retain" } } };
const volume = { enabled: true, storageClass: "retain" };
const statefulValues = {
  gitlab: { gitaly: { persistence: volume } },
  postgresql: { primary: { persistence: volume } },
  redis: { master: { persistence: volume } },
  global: { minio: { enabled: false } },
};

describe("kubernetes policy rules", () => {
  it("K8S-CHART-PINNED: an exact version from an https repository", () => {
    expect(
      check("K8S-CHART-PINNED", { helm_release: { a: release(), b: release({ version: "v1.21.1", repository: "oci://registry.example.com/charts" }) } }),
    ).toEqual([]);
    expect(
      check("K8S-CHART-PINNED", {
        helm_release: { a: release({ version: "~9.9" }), b: release({ version: undefined, repository: "http://charts.example.com" }) },
      }),
    ).toEqual([
      'test/a: chart version "~9.9" must be an exact version (no range, no empty = latest)',
      'test/b: chart version "" must be an exact version (no range, no empty = latest)',
      'test/b: repository "http://charts.example.com" must be an https:// or oci:// chart repository',
    ]);
  });

  it("K8S-RELEASE-NAMESPACE: each release in its own namespace, never default, never created by Helm", () => {
    expect(check("K8S-RELEASE-NAMESPACE", { helm_release: { a: release(), b: release({ name: "gitlab-runner", namespace: "gitlab-runner" }) } })).toEqual([]);
    expect(
      check("K8S-RELEASE-NAMESPACE", {
        helm_release: {
          a: release(),
          b: release({ name: "gitlab-runner" }),
          c: release({ name: "x", namespace: undefined }),
          d: release({ name: "y", namespace: "kube-system", create_namespace: true }),
        },
      }),
    ).toEqual([
      'test/b: namespace "gitlab" is already release gitlab\'s: give each release its own',
      'test/c: set namespace to one of the platform\'s own (got "default")',
      'test/d: set namespace to one of the platform\'s own (got "kube-system")',
      "test/d: create the namespace as a kubernetes_namespace_v1 of this stack, not with create_namespace (Helm never deletes or labels it)",
    ]);
  });

  it("K8S-NO-PRIVILEGED: no privileged platform pod; privileged job pods only when config asks", () => {
    const runner = (privileged: boolean) =>
      release(
        { name: "gitlab-runner", chart: "gitlab-runner", namespace: "gitlab-runner" },
        { runners: { config: `[[runners]]\n[runners.kubernetes]\nprivileged = ${privileged}\n` }, securityContext: { privileged: false } },
      );
    expect(check("K8S-NO-PRIVILEGED", { helm_release: { r: runner(false) } })).toEqual([]);
    expect(check("K8S-NO-PRIVILEGED", { helm_release: { r: runner(true) } }, true)).toEqual([]);
    expect(check("K8S-NO-PRIVILEGED", { helm_release: { r: runner(true) } })).toEqual([
      "test/r: config.toml runs job pods privileged while runners.privileged is false: set it in config to accept the risk",
    ]);
    expect(
      check(
        "K8S-NO-PRIVILEGED",
        {
          helm_release: { g: release({}, { gitlab: { toolbox: { containerSecurityContext: { privileged: true } } } }) },
          kubernetes_cron_job_v1: {
            j: { spec: { job_template: { spec: { template: { spec: { container: [{ security_context: { privileged: true } }] } } } } } },
          },
        },
        true,
      ),
    ).toEqual([
      "test/g: gitlab.toolbox.containerSecurityContext.privileged is true: the platform's own pods are never privileged",
      "test/j: a container is privileged: remove privileged = true",
    ]);
  });

  it("K8S-SECRETS-AS-REFERENCES: values name Secrets; Secrets come from variables", () => {
    const good = {
      helm_release: { g: release({}, { global: { psql: { password: { secret: "pg", key: "password" } } }, runners: { secret: "gitlab-runner-token" } }) },
      kubernetes_secret_v1: { s: { data: { password: "${var.db_password}", provider: '${jsonencode({"secret" = var.x})}', "runner-registration-token": "" } } },
    };
    expect(check("K8S-SECRETS-AS-REFERENCES", good)).toEqual([]);
    const bad = {
      helm_release: {
        g: release({}, { global: { psql: { password: "hunter2" }, smtp: { password: { secret: "s", key: "k" } } } }),
        h: release({ name: "h", set_sensitive: [{ name: "x", value: "${var.y}" }], set: [{ name: "global.psql.password", value: "${var.db}" }] }),
        i: release({ name: "i", values: ['${templatefile("v.yaml", {})}'] }),
      },
      kubernetes_secret_v1: { s: { data: { password: "hunter2" } } },
      kubernetes_manifest: { m: { manifest: { apiVersion: "v1", kind: "Secret", metadata: { name: "x" }, stringData: { a: "b" } } } },
    };
    expect(check("K8S-SECRETS-AS-REFERENCES", bad)).toEqual([
      "test/g: global.psql.password holds a value: name a Secret ({ secret, key }) instead",
      "test/h: pass secrets in a Secret the values name, not with set_sensitive/set_wo",
      "test/h: a set value holds a Terraform variable: put it in a Secret the values name",
      "test/i: its values must be a literal YAML document (no Terraform expressions): a policy cannot read them otherwise",
      "test/m: a Secret as kubernetes_manifest keeps its data in the manifest: use kubernetes_secret_v1 from a sensitive variable",
      "test/s: data.password is a literal: a Secret's data comes from a sensitive variable (or name an existing Secret)",
    ]);
  });

  it("K8S-PV-RETAIN: every stateful component persistent on a Retain StorageClass of this stack", () => {
    expect(check("K8S-PV-RETAIN", { ...retainClass, helm_release: { g: release({}, statefulValues) } })).toEqual([]);
    // External PostgreSQL and Redis need no volume here.
    expect(
      check("K8S-PV-RETAIN", {
        ...retainClass,
        helm_release: {
          g: release(
            {},
            { gitlab: { gitaly: { persistence: volume } }, postgresql: { install: false }, redis: { install: false }, global: { minio: { enabled: false } } },
          ),
        },
      }),
    ).toEqual([]);
    const values = deepClone(statefulValues) as any;
    values.gitlab.gitaly.persistence = { enabled: false };
    values.redis.master.persistence.storageClass = "local-path";
    delete values.postgresql.primary.persistence.storageClass;
    expect(
      check("K8S-PV-RETAIN", {
        kubernetes_storage_class_v1: { sc: { metadata: { name: "retain" }, reclaim_policy: "Delete" } },
        helm_release: { g: release({}, values) },
      }),
    ).toEqual([
      'test/sc: set reclaim_policy = "Retain"',
      "test/g: gitlab.gitaly.persistence.enabled is false: its data would die with the pod",
      'test/g: postgresql.primary.persistence.storageClass "(cluster default)" is not a Retain StorageClass of this stack',
      'test/g: redis.master.persistence.storageClass "local-path" is not a Retain StorageClass of this stack',
    ]);
    // The bundled MinIO runs unless switched off: then its volume counts too.
    const { global: _minioOff, ...withMinio } = statefulValues;
    expect(check("K8S-PV-RETAIN", { ...retainClass, helm_release: { g: release({}, withMinio) } })).toEqual([
      'test/g: minio.persistence.storageClass "(cluster default)" is not a Retain StorageClass of this stack',
    ]);
  });

  it("K8S-NAMESPACE-PROTECTED: a stateful namespace cannot be destroyed", () => {
    const ns = (lifecycle?: unknown) => ({ metadata: { name: "gitlab", labels: { "gitlab-platform/stateful": "true" } }, ...(lifecycle ? { lifecycle } : {}) });
    expect(
      check("K8S-NAMESPACE-PROTECTED", { kubernetes_namespace_v1: { a: ns({ prevent_destroy: true }), b: { metadata: { name: "gitlab-runner" } } } }),
    ).toEqual([]);
    expect(check("K8S-NAMESPACE-PROTECTED", { kubernetes_namespace_v1: { a: ns() } })).toEqual([
      "test/a: set lifecycle.prevent_destroy = true (remove it deliberately to retire the environment)",
    ]);
  });
});

describe.each(["k3s-homelab", "cluster"])("%s: the policies on its real resources", (name) => {
  const env = exampleEnvironment(name);
  // As `cdktf synth` writes it: the aspect already refused any violation.
  const stacks = synthStacksToDisk([env]);
  const stack = stacks[name]!;
  const violations = (s: SynthesizedStack, privilegedJobs = false) =>
    findViolations(stackView(s, { gitSshPort: 22, privilegedJobs }), []).map((v) => `${v.rule.id} ${v.resource.path}`);
  const gitlabRelease = (s: SynthesizedStack) => Object.values(s.resource.helm_release!).find((r: any) => r.chart === "gitlab") as any;

  it("passes every rule", () => {
    expect(violations(stack)).toEqual([]);
  });

  it("fails when GitLab's values name a storage class that does not keep volumes", () => {
    const changed = deepClone(stack);
    const r = gitlabRelease(changed);
    r.values[0] = r.values[0].replace(/storageClass: .*-gitlab-retain/, "storageClass: local-path");
    expect(violations(changed)).toEqual([`K8S-PV-RETAIN ${name}/gitlab-server/chart/release`]);
  });

  it("fails when a chart floats or a release moves into a shared namespace", () => {
    const changed = deepClone(stack);
    gitlabRelease(changed).version = "";
    gitlabRelease(changed).namespace = "default";
    expect(violations(changed).sort()).toEqual(
      [`K8S-CHART-PINNED ${name}/gitlab-server/chart/release`, `K8S-RELEASE-NAMESPACE ${name}/gitlab-server/chart/release`].sort(),
    );
  });

  it("the runner's chart (second stack) passes every rule, and fails when it floats or its token Secret reads a variable", () => {
    const content = stacks[`${name}-gitlab`]!;
    expect(violations(content)).toEqual([]);
    const changed = deepClone(content);
    const runner = Object.values(changed.resource.helm_release!).find((r: any) => r.chart === "gitlab-runner") as any;
    runner.version = "";
    runner.set = [{ name: "runnerToken", value: "${var.runner_token}" }];
    expect(violations(changed).sort()).toEqual(
      [`K8S-CHART-PINNED ${name}-gitlab/runner-release/chart/release`, `K8S-SECRETS-AS-REFERENCES ${name}-gitlab/runner-release/chart/release`].sort(),
    );
  });
});
