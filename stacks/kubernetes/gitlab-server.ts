// GitLab server props: the chart's endpoints, sizing, data services, object storage, mail
// and SSO from the environment (the registry, backups and metrics come as their constructs).
import type { KubernetesGitLabServerProps } from "../../constructs/gitlab-server/kubernetes";
import type { GitLabStorageProps } from "../../constructs/gitlab-server/kubernetes-storage";
import type { ChartEndpoints } from "../../userdata/helm/gitlab/model";
import { hostNames } from "../host-names";
import { ipv4Only, secretInput, type KubernetesEnvironment, type StackVariables } from "./environment";
import { iamRoleOf, s3Connection } from "./object-storage";

export function chartEndpoints(env: KubernetesEnvironment, clusterIssuer: string): ChartEndpoints {
  const hosts = hostNames(env);
  const k = env.kubernetes;
  const sshIp = ipv4Only(k.sshLoadBalancerAddress);
  return {
    hosts: { domain: env.domain, gitlab: hosts.web, ssh: hosts.ssh, ...(hosts.registry ? { registry: hosts.registry } : {}) },
    ingress:
      k.ingress.controller === "existing"
        ? { controller: "existing", className: k.ingress.className }
        : { controller: "bundled", ...(ipv4Only(k.loadBalancerAddress) ? { loadBalancerIP: ipv4Only(k.loadBalancerAddress)! } : {}) },
    clusterIssuer,
    sshPort: env.gitlab.sshPort,
    ...(sshIp ? { sshLoadBalancerIP: sshIp } : {}),
  };
}

export function storageClassProps(env: KubernetesEnvironment): GitLabStorageProps {
  const s = env.kubernetes.storage;
  return s.existingClass ? { existingClass: s.existingClass } : { name: `${env.name}-gitlab-retain`, provisioner: s.provisioner!, parameters: s.parameters };
}

type ServerParts = Pick<KubernetesGitLabServerProps, "namespace" | "issuer" | "storage" | "registry" | "backups" | "metrics">;
type Gitlab = KubernetesEnvironment["gitlab"];

function database(g: Gitlab, vars: StackVariables): Pick<KubernetesGitLabServerProps, "database"> {
  if (!g.externalDatabase) return {};
  const { password, ...rest } = g.externalDatabase;
  return { database: { ...rest, password: secretInput(password, vars) } };
}

function redis(g: Gitlab, vars: StackVariables): Pick<KubernetesGitLabServerProps, "redis"> {
  if (!g.externalRedis) return {};
  const { password, ...rest } = g.externalRedis;
  return { redis: { ...rest, ...(password ? { password: secretInput(password, vars) } : {}) } };
}

function mail(env: KubernetesEnvironment, vars: StackVariables): KubernetesGitLabServerProps["mail"] {
  const smtp = env.gitlab.smtp;
  return {
    emailFrom: env.gitlab.emailFrom ?? `gitlab@${env.domain}`,
    ...(smtp ? { smtp: { ...smtp, password: secretInput(smtp.password, vars), domain: smtp.domain ?? env.domain } } : {}),
  };
}

/** The schema accepts only a variable for the OIDC client secret on kubernetes (the chart needs the whole provider block). */
function sso(g: Gitlab, vars: StackVariables): Pick<KubernetesGitLabServerProps, "sso"> {
  if (!g.sso || !("terraformVariable" in g.sso.clientSecret)) return {};
  const { label, issuer, clientId, autoSignIn, autoLinkUsers, blockAutoCreatedUsers } = g.sso;
  return {
    sso: { label, issuer, clientId, autoSignIn, autoLinkUsers, blockAutoCreatedUsers, clientSecret: vars.variable(g.sso.clientSecret.terraformVariable) },
  };
}

export function gitlabServerProps(env: KubernetesEnvironment, vars: StackVariables, parts: ServerParts): KubernetesGitLabServerProps {
  const g = env.gitlab;
  const s = env.kubernetes.storage;
  const role = iamRoleOf(env);
  return {
    ...parts,
    chartVersion: g.chartVersion,
    gitlabVersion: g.version,
    endpoints: chartEndpoints(env, parts.issuer.name),
    timeZone: g.timeZone,
    sizing: { memoryProfile: g.memoryProfile, ...(g.webservice ? { webservice: g.webservice } : {}), ...(g.sidekiq ? { sidekiq: g.sidekiq } : {}) },
    volumes: { gitalyGi: s.gitalyGb, postgresqlGi: s.postgresqlGb, redisGi: s.redisGb },
    ...database(g, vars),
    ...redis(g, vars),
    objectStorage: { s3: s3Connection(env, vars), bucketPrefix: env.objectStorage.bucketPrefix, ...(role ? { iamRoleArn: role } : {}) },
    mail: mail(env, vars),
    ...sso(g, vars),
  };
}
