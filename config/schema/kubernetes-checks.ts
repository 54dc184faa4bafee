// Checks of a kubernetes environment that span several fields. Like cross-checks.ts they run
// even when other fields failed, on the partly parsed value, so each reads defensively.
import type { z } from "zod";
import { at } from "./cross-checks";
import { defaultSshHostname } from "./gitlab";
import { chartVersionProblem } from "./kubernetes";

interface Check {
  readonly path: string;
  /** What is wrong, or undefined when the environment passes. */
  readonly problem: (env: unknown) => string | undefined;
}

const sshSharesWebAddress = (env: unknown) => {
  const ssh = at(env, "kubernetes", "sshLoadBalancerAddress");
  return ssh === undefined || ssh === at(env, "kubernetes", "loadBalancerAddress");
};

function hostNamesTaken(env: unknown): unknown[] {
  const web = at(env, "gitlab", "hostname");
  const ssh = at(env, "gitlab", "sshHostname") ?? (typeof web === "string" ? defaultSshHostname(web) : undefined);
  return [web, ssh, at(env, "registry", "enabled") === false ? undefined : at(env, "registry", "hostname")];
}

export const KUBERNETES_CHECKS: readonly Check[] = [
  {
    // The policy K8S-RELEASE-NAMESPACE sees one stack; the runner's chart is in the second.
    path: "runners.namespace",
    problem: (env) => {
      const runner = at(env, "runners", "namespace") ?? "gitlab-runner";
      return runner === at(env, "kubernetes", "namespace")
        ? "must differ from kubernetes.namespace: CI job pods never share a namespace with GitLab's Secrets"
        : undefined;
    },
  },
  {
    path: "gitlab.chartVersion",
    problem: (env) => chartVersionProblem(at(env, "gitlab", "chartVersion"), at(env, "gitlab", "version")),
  },
  {
    path: "gitlab.sshPort",
    problem: (env) =>
      sshSharesWebAddress(env) && [80, 443].includes(at(env, "gitlab", "sshPort") as number)
        ? "must not be 80 or 443 while git SSH shares the ingress controller's address (set kubernetes.sshLoadBalancerAddress to give it its own)"
        : undefined,
  },
  {
    path: "gitlab.sso.clientSecret",
    problem: (env) =>
      at(env, "gitlab", "sso", "clientSecret", "kubernetesSecret") !== undefined
        ? "must be { terraformVariable: … } on kubernetes: the chart reads the whole OIDC provider block from one Secret, which is built from it"
        : undefined,
  },
  {
    path: "kubernetes.argocd.hostname",
    problem: (env) => {
      const host = at(env, "kubernetes", "argocd", "enabled") === true ? at(env, "kubernetes", "argocd", "hostname") : undefined;
      return host !== undefined && hostNamesTaken(env).includes(host)
        ? `is '${String(host)}', a host name GitLab already uses: give Argo CD its own`
        : undefined;
    },
  },
  {
    path: "backups.secretsBucket",
    problem: (env) => {
      const prefix = at(env, "objectStorage", "bucketPrefix");
      const bucket = at(env, "backups", "secretsBucket");
      return typeof prefix === "string" && typeof bucket === "string" && bucket.startsWith(`${prefix}-`)
        ? `must not be one of the platform's buckets (${prefix}-…): GitLab advises keeping the secrets apart from the backups that hold the database`
        : undefined;
    },
  },
];

/** The schema with every kubernetes check, each reported at its field with its own message. */
export function withKubernetesChecks<S extends z.ZodType>(schema: S): S {
  return KUBERNETES_CHECKS.reduce(
    (s, check) =>
      s.refine((env) => check.problem(env) === undefined, {
        when: () => true,
        path: check.path.split("."),
        error: (issue) => check.problem(issue.input) ?? "is invalid",
      }) as S,
    schema,
  );
}
