// The kubernetes platform's stack: providers, sensitive variables and outputs, and the
// capabilities wired together on an existing cluster. Wiring only: what each construct gets
// is mapped from the environment in stacks/kubernetes/.
import { CloudflareProvider } from "@cdktf/provider-cloudflare/lib/provider";
import { HelmProvider } from "@cdktf/provider-helm/lib/provider";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { TerraformOutput, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import { KubernetesBackups } from "../constructs/backups/kubernetes";
import { GitLabSecretsExport } from "../constructs/backups/kubernetes-secrets-export";
import { KubernetesDnsTls } from "../constructs/dns-tls/kubernetes";
import { KubernetesGitLabServer } from "../constructs/gitlab-server/kubernetes";
import { GitLabStorageClass } from "../constructs/gitlab-server/kubernetes-storage";
import { KubernetesArgoCd } from "../constructs/gitops/kubernetes";
import { PlatformNamespace } from "../constructs/kubernetes-conventions";
import { KubernetesObservability } from "../constructs/observability/kubernetes";
import { KubernetesRegistry } from "../constructs/registry/kubernetes";
import { KubernetesRunnerFleet } from "../constructs/runner-fleet/kubernetes";
import { EnvironmentStack } from "./environment-stack";
import { backupsProps, secretsExportProps } from "./kubernetes/backups";
import { dnsTlsProps } from "./kubernetes/dns-tls";
import type { KubernetesEnvironment, StackVariables } from "./kubernetes/environment";
import { gitlabServerProps, storageClassProps } from "./kubernetes/gitlab-server";
import { argoCdProps } from "./kubernetes/gitops";
import { platformBucket, s3Connection } from "./kubernetes/object-storage";
import { observabilityProps } from "./kubernetes/observability";

export type { KubernetesEnvironment } from "./kubernetes/environment";

export class KubernetesEnvironmentStack extends EnvironmentStack implements StackVariables {
  readonly gitlab: KubernetesGitLabServer;
  readonly dnsTls: KubernetesDnsTls;
  readonly runners: KubernetesRunnerFleet;
  readonly backups: KubernetesBackups;
  readonly observability?: KubernetesObservability;
  readonly argocd?: KubernetesArgoCd;

  private readonly variables = new Map<string, TerraformVariable>();

  constructor(scope: Construct, env: KubernetesEnvironment) {
    super(scope, env, { gitSshPort: env.gitlab.sshPort, privilegedJobs: env.runners.privileged });
    // KUBE_CONFIG_PATH names the file when config does not (CI: a File variable).
    const cluster = {
      configContext: env.kubernetes.kubeconfig.context,
      ...(env.kubernetes.kubeconfig.path ? { configPath: env.kubernetes.kubeconfig.path } : {}),
    };
    new KubernetesProvider(this, "kubernetes", cluster);
    new HelmProvider(this, "helm", { kubernetes: cluster });
    new CloudflareProvider(this, "cloudflare", { apiToken: this.variable(env.dns.apiToken.terraformVariable) });

    const namespace = new PlatformNamespace(this, "namespace", { name: env.kubernetes.namespace, stateful: true });
    this.dnsTls = new KubernetesDnsTls(this, "dns-tls", dnsTlsProps(env, this.variable(env.dns.apiToken.terraformVariable)));
    const storage = new GitLabStorageClass(this, "storage", storageClassProps(env));
    const registry = env.registry.enabled
      ? new KubernetesRegistry(this, "registry", { namespace, s3: s3Connection(env, this), bucket: platformBucket(env, "registry") })
      : undefined;
    this.backups = new KubernetesBackups(this, "backups", backupsProps(env, this, namespace));
    const observability = observabilityProps(env, namespace);
    if (observability) this.observability = new KubernetesObservability(this, "observability", observability);

    this.gitlab = new KubernetesGitLabServer(
      this,
      "gitlab-server",
      gitlabServerProps(env, this, { namespace, issuer: this.dnsTls.issuer, storage, registry, backups: this.backups, metrics: this.observability }),
    );
    new GitLabSecretsExport(this, "secrets-export", secretsExportProps(env, { server: this.gitlab, backups: this.backups }));
    // The runner's namespace; its token Secret and chart are the `<env>-gitlab` stack's.
    this.runners = new KubernetesRunnerFleet(this, "runners", { namespace: env.runners.namespace });
    const argocd = argoCdProps(env, this, this.dnsTls.issuer);
    if (argocd) this.argocd = new KubernetesArgoCd(this, "argocd", argocd);

    this.outputs(env);
  }

  private outputs(env: KubernetesEnvironment): void {
    this.addressOutputs(env, { url: this.gitlab.url, sshDescription: "Host for git over SSH (DNS-only record, GitLab Shell's load balancer)" });
    if (this.argocd) new TerraformOutput(this, "argocd_url", { value: this.argocd.url });
    new TerraformOutput(this, "gitlab_namespace", { value: this.gitlab.namespace.name });
    new TerraformOutput(this, "initial_root_password_secret_name", {
      value: `${this.gitlab.release.name}-gitlab-initial-root-password`,
      description: "Secret (in the namespace) with root's first password: kubectl get secret … -o jsonpath='{.data.password}' | base64 -d",
    });
    new TerraformOutput(this, "secrets_bucket", {
      value: env.backups.secretsBucket,
      description: "Where the Rails secret and SSH host keys are exported, apart from the backups",
    });
    new TerraformOutput(this, "backup_bucket", { value: this.backups.storage.bucket });
  }

  /** One sensitive string variable per name, however many settings reference it; its value as a reference. */
  variable(name: string): string {
    let variable = this.variables.get(name);
    if (!variable) {
      variable = new TerraformVariable(this, name, { type: "string", sensitive: true, nullable: false });
      this.variables.set(name, variable);
    }
    return variable.stringValue;
  }
}
