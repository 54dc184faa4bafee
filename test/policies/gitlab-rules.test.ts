// The `<env>-gitlab` stack's rules, each with a passing and a failing case.
import { describe, expect, it } from "vitest";
import { RULES } from "../../policies/index";
import { view } from "./view";

const check = (id: string, ...args: Parameters<typeof view>) => {
  const rule = RULES.find((r) => r.id === id);
  if (!rule) throw new Error(`no rule ${id}`);
  return rule.check(view(...args)).map((v) => `${v.resource.path}: ${v.message}`);
};

const runner = (extra: Record<string, unknown> = {}) => ({
  runner_type: "instance_type",
  tag_list: ["docker"],
  access_level: "not_protected",
  untagged: false,
  ...extra,
});
const TOKEN = "${gitlab_user_runner.runners_build_A1.token}";

describe("GitLab policy rules", () => {
  it("GITLAB-RUNNER-TAGGED: a runner has a non-empty tag list", () => {
    expect(check("GITLAB-RUNNER-TAGGED", { gitlab_user_runner: { r: runner() } })).toEqual([]);
    expect(check("GITLAB-RUNNER-TAGGED", { gitlab_user_runner: { none: runner({ tag_list: undefined }), empty: runner({ tag_list: [] }) } })).toEqual([
      "test/none: give the runner a tag list (runners.…tags in config)",
      "test/empty: give the runner a tag list (runners.…tags in config)",
    ]);
  });

  it("GITLAB-RUNNER-PROTECTED-UNTAGGED: a protected runner takes no untagged jobs", () => {
    const ok = { deploy: runner({ access_level: "ref_protected", untagged: false }), build: runner({ untagged: true }) };
    expect(check("GITLAB-RUNNER-PROTECTED-UNTAGGED", { gitlab_user_runner: ok })).toEqual([]);
    expect(check("GITLAB-RUNNER-PROTECTED-UNTAGGED", { gitlab_user_runner: { deploy: runner({ access_level: "ref_protected", untagged: true }) } })).toEqual([
      "test/deploy: a protected runner must not run untagged jobs: set runUntagged: false, or suppress with the reason it must",
    ]);
  });

  it("GITLAB-TOKEN-SENSITIVE: a token in a secret version, a 0600 upload or a Secret's data passes", () => {
    expect(
      check("GITLAB-TOKEN-SENSITIVE", {
        gitlab_user_runner: { r: runner() },
        aws_secretsmanager_secret_version: { v: { secret_id: "${data.aws_secretsmanager_secret.s.arn}", secret_string: TOKEN } },
        docker_container: {
          c: {
            name: "gitlab-runner-build",
            upload: [
              { file: "/x", content: "literal" },
              { file: "/etc/gitlab-runner/runner-token", content: TOKEN, permissions: "0600" },
            ],
          },
        },
        kubernetes_secret_v1: { s: { metadata: { name: "gitlab-runner-token" }, data: { "runner-token": TOKEN } } },
        // The runner's id is not secret: it may roll a pod.
        helm_release: { h: { values: ["podAnnotations:\n  gitlab-platform/runner-id: ${gitlab_user_runner.runners_build_A1.id}\n"] } },
      }),
    ).toEqual([]);
  });

  it("GITLAB-TOKEN-SENSITIVE: a token in an env var, a label, a readable upload, any other attribute or an output fails", () => {
    const found = check(
      "GITLAB-TOKEN-SENSITIVE",
      {
        docker_container: {
          env: { env: [`RUNNER_TOKEN=${TOKEN}`] },
          label: { labels: [{ label: "token", value: TOKEN }] },
          upload: { upload: [{ file: "/t", content: TOKEN, permissions: "0644" }] },
        },
        aws_secretsmanager_secret_version: { v: { secret_string: "x", secret_id: TOKEN } },
        kubernetes_secret_v1: { s: { metadata: { name: "x", annotations: { t: TOKEN } }, data: {} } },
        aws_ssm_parameter: { p: { type: "String", value: `prefix-${TOKEN}` } },
      },
      22,
      {},
      { runner_token: { value: TOKEN, sensitive: true } },
    );
    expect(found).toEqual([
      "test/env: env[0] carries a runner token: put it in a secret version, a 0600 uploaded file or a Kubernetes Secret's data",
      "test/label: labels[0].value carries a runner token: put it in a secret version, a 0600 uploaded file or a Kubernetes Secret's data",
      "test/upload: upload[0].content carries a runner token: put it in a secret version, a 0600 uploaded file or a Kubernetes Secret's data",
      "test/v: secret_id carries a runner token: put it in a secret version, a 0600 uploaded file or a Kubernetes Secret's data",
      "test/s: metadata.annotations.t carries a runner token: put it in a secret version, a 0600 uploaded file or a Kubernetes Secret's data",
      "test/p: value carries a runner token: put it in a secret version, a 0600 uploaded file or a Kubernetes Secret's data",
      "output.runner_token: an output carries a runner token (sensitive or not, it lands in state and CI logs' reach): remove it",
    ]);
  });
});
