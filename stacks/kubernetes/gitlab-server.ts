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
    ingress: k.ingress.controller === "existing" ? { controller: "existing", className: k.ingress.className } : { controller: "bundled", ...(ipv4Only(k.loadBalancerAddress) ? { loadBalancerIP: ipv4Only(k.loadBalancerAddress)! } : {}) },
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

export function gitlabServerProps(env: KubernetesEnvironment, vars: StackVariables, parts: ServerParts): KubernetesGitLabServerProps {
  const g = env.gitlab;
  const s = env.kubernetes.storage;
  const { password: dbPassword, ...database } = g.externalDatabase ?? { password: undefined };
  const { password: redisPassword, ...redis } = g.externalRedis ?? { password: undefined };
  return {
    ...parts,
    chartVersion: g.chartVersion,
    gitlabVersion: g.version,
    endpoints: chartEndpoints(env, parts.issuer.name),
    timeZone: g.timeZone,
    sizing: { memoryProfile: g.memoryProfile, ...(g.webservice ? { webservice: g.webservice } : {}), ...(g.sidekiq ? { sidekiq: g.sidekiq } : {}) },
    volumes: { gitalyGi: s.gitalyGb, postgresqlGi: s.postgresqlGb, redisGi: s.redisGb },
    ...(g.externalDatabase && dbPassword ? { database: { ...(database as Omit<typeof g.externalDatabase, "password">), password: secretInput(dbPassword, vars) } } : {}),
    ...(g.externalRedis ? { redis: { ...(redis as Omit<typeof g.externalRedis, "password">), ...(redisPassword ? { password: secretInput(redisPassword, vars) } : {}) } } : {}),
    objectStorage: { s3: s3Connection(env, vars), bucketPrefix: env.objectStorage.bucketPrefix, ...(iamRoleOf(env) ? { iamRoleArn: iamRoleOf(env)! } : {}) },
    mail: {
      emailFrom: g.emailFrom ?? `gitlab@${env.domain}`,
      ...(g.smtp ? { smtp: { ...g.smtp, password: secretInput(g.smtp.password, vars), domain: g.smtp.domain ?? env.domain } } : {}),
    },
    ...(g.sso && "terraformVariable" in g.sso.clientSecret
      ? { sso: { label: g.sso.label, issuer: g.sso.issuer, clientId: g.sso.clientId, clientSecret: vars.variable(g.sso.clientSecret.terraformVariable), autoSignIn: g.sso.autoSignIn } }
      : {}),
  };
}
