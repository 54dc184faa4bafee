// The `<env>-gitlab` stack's runners: a gitlab_user_runner for every runner the environment
// defines, and the way each token reaches its runner, per platform:
//   aws        a new version of `<env>-gitlab/runner-token` (unless config names its own secret);
//   docker     the build and deploy runner containers, each with its token uploaded as a file;
//   kubernetes the runner's token Secret and the gitlab-runner chart.
// The first stack's objects (the secret, the network, the namespace) are found by name.
import { DataDockerNetwork } from "@cdktf/provider-docker/lib/data-docker-network";
import type { Construct } from "constructs";
import type { Environment } from "../../config/load";
import { GitLabRunners, type RunnerRegistration } from "../../constructs/gitlab-content/runners";
import { RunnerTokenVersion } from "../../constructs/gitlab-content/runner-token-aws";
import { runnerTokenSecretName } from "../../constructs/runner-fleet/aws-token-secret";
import { DockerRunners, type DockerRunnersProps } from "../../constructs/runner-fleet/docker";
import { KubernetesRunners, type KubernetesRunnersProps } from "../../constructs/runner-fleet/kubernetes";
import type { AwsEnvironment } from "../aws-stack";
import type { DockerEnvironment } from "../docker/environment";
import { runnerFleetProps } from "../kubernetes/runner-fleet";
import type { KubernetesEnvironment } from "../kubernetes/environment";
import { hostNames } from "../host-names";

/** Where each runner's token goes, per platform. */
export type RunnerDelivery = RunnerTokenVersion | DockerRunners | KubernetesRunners;

/** The runners GitLab registers for an environment; none on aws when config names its own token secret. */
export function runnerRegistrations(env: Environment): RunnerRegistration[] {
  const registration = (role: string, what: string, r: { tags: readonly string[]; protected: boolean; runUntagged: boolean }): RunnerRegistration => ({
    role,
    description: `${env.name}: ${what}`,
    tags: r.tags,
    protected: r.protected,
    runUntagged: r.runUntagged,
  });
  switch (env.platform) {
    case "aws": {
      const r = (env as AwsEnvironment).runners;
      if (r.token) return [];
      const what = r.scaling === "jobs" ? "runner manager (docker-autoscaler, Spot workers)" : "Spot runner fleet (docker executor)";
      return [registration("fleet", what, r)];
    }
    case "docker": {
      const r = (env as DockerEnvironment).runners;
      return [
        registration("build", "build runner (docker executor, a fresh container per job)", r.build),
        ...(r.deploy ? [registration("deploy", "deploy runner (the Docker host's deploys, protected refs)", r.deploy)] : []),
      ];
    }
    case "kubernetes":
      return [registration("cluster", "cluster runner (Kubernetes executor, a pod per job)", (env as KubernetesEnvironment).runners)];
  }
}

/** The docker runner containers' props: `runners` whole, their tokens from `runners` (GitLab's), and where they run. */
export function dockerRunnersProps(
  env: DockerEnvironment,
  parts: { readonly network: DockerRunnersProps["network"]; readonly runners: GitLabRunners },
): DockerRunnersProps {
  const hosts = hostNames(env);
  return {
    settings: env.runners,
    network: parts.network,
    tokens: { build: parts.runners.token("build"), ...(env.runners.deploy ? { deploy: parts.runners.token("deploy") } : {}) },
    namePrefix: env.name,
    gitlabUrl: `https://${hosts.web}`,
    // Clones, API calls and registry logins from jobs go to Traefik on this host.
    hostsViaDockerHost: [hosts.web, ...(hosts.registry ? [hosts.registry] : [])],
    defaultDeployJobImage: env.docker.images.dockerCli,
    deployBuildsDir: `${env.docker.dataRoot}/deploy-builds`,
  };
}

/** The kubernetes runner's props, its token from `runners`. */
export function kubernetesRunnersProps(env: KubernetesEnvironment, runners: GitLabRunners): KubernetesRunnersProps {
  return {
    ...runnerFleetProps(env),
    namespace: { name: env.runners.namespace },
    gitlabUrl: `https://${hostNames(env).web}`,
    token: runners.token("cluster"),
    tokenVersion: runners.runner("cluster").id,
    ...(env.observability.prometheusOperator ? { metrics: { selectorLabels: env.observability.selectorLabels } } : {}),
  };
}

/** The runners and their tokens' way to them; nothing when there is no runner to register. */
export function addRunners(scope: Construct, env: Environment): { readonly runners: GitLabRunners; readonly delivery: RunnerDelivery } | undefined {
  const registrations = runnerRegistrations(env);
  if (registrations.length === 0) return undefined;
  const runners = new GitLabRunners(scope, "runners", { runners: registrations });
  switch (env.platform) {
    case "aws":
      return {
        runners,
        delivery: new RunnerTokenVersion(scope, "runner-token", { secretName: runnerTokenSecretName(env.name), token: runners.token("fleet") }),
      };
    case "docker": {
      const docker = env as DockerEnvironment;
      const network = new DataDockerNetwork(scope, "runner-network", { name: docker.docker.networkName });
      return { runners, delivery: new DockerRunners(scope, "runner-containers", dockerRunnersProps(docker, { network, runners })) };
    }
    case "kubernetes":
      return { runners, delivery: new KubernetesRunners(scope, "runner-release", kubernetesRunnersProps(env as KubernetesEnvironment, runners)) };
  }
}
