// GitLab's own resources (the `<env>-gitlab` stack): every runner has a tag list, a protected
// runner takes untagged jobs only when config says so (a suppression with its reason), and a
// runner's token flows only into places made for secrets.
import type { ResourceView, Rule, Violation } from "../types";

const runnerTagged: Rule = {
  id: "GITLAB-RUNNER-TAGGED",
  rationale: "A runner without tags takes any job that names none: jobs must choose their runner (a build runner, the protected deploy runner) by tag.",
  check: (stack) =>
    stack
      .ofType("gitlab_user_runner")
      .filter((r) => !Array.isArray(r.config.tag_list) || r.config.tag_list.length === 0)
      .map((resource) => ({ resource, message: "give the runner a tag list (runners.…tags in config)" })),
};

const protectedUntagged: Rule = {
  id: "GITLAB-RUNNER-PROTECTED-UNTAGGED",
  rationale: "A protected runner (ref_protected) holds deploy access: untagged jobs of protected branches would land there without asking for it.",
  check: (stack) =>
    stack
      .ofType("gitlab_user_runner")
      .filter((r) => r.config.access_level === "ref_protected" && r.config.untagged === true)
      .map((resource) => ({
        resource,
        message: "a protected runner must not run untagged jobs: set runUntagged: false, or suppress with the reason it must",
      })),
};

/** A reference to a gitlab_user_runner's token anywhere in a string. */
const TOKEN_REFERENCE = /\$\{[^}]*\bgitlab_user_runner\.[A-Za-z0-9_-]+\.token\b/;

/** Every string in a value with its attribute path (a.b[0].c). */
function strings(value: unknown, path: string, out: { path: string; text: string }[] = []): { path: string; text: string }[] {
  if (typeof value === "string") out.push({ path, text: value });
  else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) strings(v, `${path}[${i}]`, out);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) if (k !== "//") strings(v, path ? `${path}.${k}` : k, out);
  }
  return out;
}

/** Where a token may go: a secret's value, an uploaded root-only file's content, a Kubernetes Secret's data. */
function sensitivePlace(r: ResourceView, path: string): boolean {
  switch (r.type) {
    case "aws_secretsmanager_secret_version":
      return path === "secret_string";
    case "docker_container": {
      const m = /^upload\[(\d+)\]\.content$/.exec(path);
      return m !== null && r.config.upload?.[Number(m[1])]?.permissions === "0600";
    }
    case "kubernetes_secret":
    case "kubernetes_secret_v1":
      return /^data\.[^.[\]]+$/.test(path);
    default:
      return false;
  }
}

const tokenSensitive: Rule = {
  id: "GITLAB-TOKEN-SENSITIVE",
  rationale:
    "A runner token lets anyone take the runner's jobs (and their secrets): it may only reach a secret version, a root-only uploaded file or a Kubernetes Secret's data, never an output, an environment variable, a label or a plain attribute.",
  check: (stack) => [
    ...stack.resources.flatMap((r): Violation[] =>
      strings(r.config, "")
        .filter((s) => TOKEN_REFERENCE.test(s.text) && !sensitivePlace(r, s.path))
        .map((s) => ({
          resource: r,
          message: `${s.path} carries a runner token: put it in a secret version, a 0600 uploaded file or a Kubernetes Secret's data`,
        })),
    ),
    ...stack.outputs
      .filter((o) => strings(o.config, "").some((s) => TOKEN_REFERENCE.test(s.text)))
      .map((resource) => ({ resource, message: "an output carries a runner token (sensitive or not, it lands in state and CI logs' reach): remove it" })),
  ],
};

export const gitlabRules = [runnerTagged, protectedUntagged, tokenSensitive];
