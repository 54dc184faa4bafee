// The Helm values key check: what it accepts (values, commented and template keys, free-form
// maps) and what it refuses (unknown keys with their path, unreviewed doc-only keys).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CHART_KEY_RULES,
  chartKeys,
  checkValuesKeys,
  parseKeyList,
  rulesForChart,
  uncheckedKeys,
  valuesPaths,
  type ChartKeyRules,
} from "../../scripts/verify/chart-keys";
import { REPO_ROOT } from "../helpers";

const gitlab = rulesForChart("gitlab", "9.9.1")!.rules;
const messages = (values: unknown, rules: ChartKeyRules = gitlab) => checkValuesKeys(values, rules).map((f) => f.message);

describe("key lists", () => {
  it("reads markers, and a key listed twice keeps its strongest one", () => {
    const keys = parseKeyList("# header\na\na.b #commented\na.c #template\na.d #doc\na.d\n");
    expect([...keys]).toEqual([
      ["a", "active"],
      ["a.b", "commented"],
      ["a.c", "template"],
      ["a.d", "active"],
    ]);
  });

  it("every listed file exists, names its source in a header, and the GitLab list has the chart's 6000 keys", () => {
    const dir = join(REPO_ROOT, "scripts/verify/reference");
    const files = readdirSync(dir);
    for (const rules of CHART_KEY_RULES) {
      for (const file of rules.lists) {
        expect(files).toContain(file);
        expect(readFileSync(join(dir, file), "utf8").split("\n").slice(0, 6).join("\n")).toMatch(/source|copied/i);
      }
    }
    expect(chartKeys(gitlab).size).toBe(6000);
  });
});

describe("valuesPaths", () => {
  it("lists maps, lists of maps and quoted keys in the lists' notation", () => {
    expect(
      valuesPaths({
        global: { hosts: { domain: "x" }, ingress: { annotations: { "cert-manager.io/cluster-issuer": "le" } } },
        list: [{ a: 1 }, { b: 2 }],
        tags: ["x"],
      }),
    ).toEqual([
      "global",
      "global.hosts",
      "global.hosts.domain",
      "global.ingress",
      "global.ingress.annotations",
      'global.ingress.annotations."cert-manager.io/cluster-issuer"',
      "list",
      "list[]",
      "list[].a",
      "list[].b",
      "tags",
    ]);
  });
});

describe("checkValuesKeys (GitLab chart 9.9.1)", () => {
  it("accepts values keys, commented keys and template keys", () => {
    expect(
      messages({
        global: { hosts: { domain: "example.com" }, psql: { host: "db", password: { secret: "s", key: "k" } } },
        registry: { storage: { secret: "r", key: "config" } },
        gitlab: { webservice: { minReplicas: 2 } },
      }),
    ).toEqual([]);
  });

  it("fails an unknown key with its path, and a misspelt one below a known key", () => {
    expect(messages({ global: { hosts: { domian: "example.com" } }, gitlab: { webservice: { minReplica: 2 } } })).toEqual([
      "global.hosts.domian: not a key of the gitlab chart 9.9.1 (scripts/verify/reference/gitlab-chart-9.9.1.keys.txt)",
      "gitlab.webservice.minReplica: not a key of the gitlab chart 9.9.1 (scripts/verify/reference/gitlab-chart-9.9.1.keys.txt)",
    ]);
  });

  it("accepts any key under a free-form map whose own key is known", () => {
    expect(
      messages({
        global: { ingress: { annotations: { "cert-manager.io/cluster-issuer": "letsencrypt" } } },
        gitlab: { toolbox: { extraEnvFrom: { AWS_ACCESS_KEY_ID: { secretKeyRef: { name: "a", key: "b" } } } } },
      }),
    ).toEqual([]);
    // The free-form map itself must still be a key of the chart there.
    expect(messages({ gitlab: { toolbox: { extraEnvFromm: { X: "y" } } } })[0]).toMatch(/^gitlab\.toolbox\.extraEnvFromm: not a key/);
  });

  it("takes a doc-only key only once it is reviewed against the templates", () => {
    const values = { gitlab: { kas: { enabled: false } } };
    expect(messages(values)).toEqual([
      "gitlab.kas.enabled: only in the gitlab chart's docs (#doc), not in its values or templates: confirm it in the templates and add it to reviewedDocKeys (scripts/verify/chart-keys.ts)",
    ]);
    expect(messages(values, { ...gitlab, reviewedDocKeys: { "gitlab.kas.enabled": "charts/gitlab/charts/kas/templates/deployment.yaml" } })).toEqual([]);
  });

  it("keys below the bundled PostgreSQL and Redis are not findings but listed as unchecked; other unknown keys are", () => {
    const values = { postgresql: { install: true, primary: { persistence: { size: "8Gi" } } }, redis: { master: {} }, gitlab: { webservic: {} } };
    expect(messages(values)).toEqual(["gitlab.webservic: not a key of the gitlab chart 9.9.1 (scripts/verify/reference/gitlab-chart-9.9.1.keys.txt)"]);
    expect(uncheckedKeys(values, gitlab)).toEqual([
      { path: "postgresql.primary.persistence", subchart: "bitnami/postgresql 13.4.4" },
      { path: "postgresql.primary.persistence.size", subchart: "bitnami/postgresql 13.4.4" },
      { path: "redis.master", subchart: "bitnami/redis 18.19.4" },
    ]);
  });
});

describe("other charts", () => {
  it("a chart version without a list is checked against the same chart's list, with a note; an unknown chart has none", () => {
    expect(rulesForChart("gitlab", "9.8.0")).toMatchObject({ rules: { version: "9.9.1" }, note: "no key list for gitlab 9.8.0: checked against 9.9.1's" });
    expect(rulesForChart("gitlab-runner", "0.86.0")?.note).toBeUndefined();
    expect(rulesForChart("nginx", "1.0.0")).toBeUndefined();
  });
});
