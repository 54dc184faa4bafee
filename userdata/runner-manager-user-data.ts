// The cloud-init user data of the runner manager of a jobs-mode fleet (runners.scaling: jobs,
// Amazon Linux 2023): config.toml for the docker-autoscaler executor (the fleeting plugin for
// AWS drives the worker group), the CloudWatch agent, the drain watcher and the bootstrap.
// Pure: the runner settings from config and the deployment's names in, `#cloud-config` out.
import type { JobsRunnersConfig } from "../config/schema/aws-runners";
import { renderCloudConfig } from "./cloud-config";
import { compactScript } from "./host-scripts";
import { renderRunnerConfig, type RunnerConfig } from "./runner-config";
import { jobContainer } from "./runner-job-container";
import {
  drainWatcherUnit,
  envValue,
  RUNNER_LOG_DROPIN,
  RUNNER_LOGROTATE,
  RUNNER_METRICS_ADDRESS,
  RUNNER_TOKEN_ENV,
  runnerAgentConfig,
  SBIN,
  UNITS,
} from "./runner-fleet-user-data";

/** Where `gitlab-runner fleeting install` puts the plugin and the runner looks for it (a root service has no $HOME to default to). */
export const FLEETING_PLUGIN_PATH = "/var/lib/gitlab-runner/fleeting-plugins";
/** The workers' login user: Amazon Linux's default, the one EC2 Instance Connect gives the manager a key for. */
export const WORKER_LOGIN_USER = "ec2-user";
/** On each worker, run over SSH before its first job (userdata/scripts/runner-worker-ready.sh). */
export const WORKER_READY_COMMAND = "/usr/local/bin/runner-worker-ready";

export interface RunnerManagerUserDataProps {
  /** The runner settings from config, whole. */
  readonly settings: JobsRunnersConfig;
  readonly region: string;
  /** The manager's own one-instance group (drain hook, BootstrapFailed's Host, the predecessor check). */
  readonly managerGroupName: string;
  /** The worker group the plugin scales. */
  readonly workerGroupName: string;
  /** GitLab's external URL. */
  readonly gitlabUrl: string;
  /** The shared S3 cache bucket (may be a Terraform reference); the manager presigns its URLs for the workers. */
  readonly cacheBucket: string;
  readonly logGroups: { readonly runner: string; readonly system: string };
}

/** config.toml of the manager, with the token placeholder the bootstrap fills in. */
export function runnerManagerConfigToml(p: RunnerManagerUserDataProps): string {
  const s = p.settings;
  const config: RunnerConfig = {
    // GitLab's guidance for docker-autoscaler: every slot of every instance.
    concurrent: s.maxInstances * s.capacityPerInstance,
    metricsListenAddress: RUNNER_METRICS_ADDRESS,
    runners: [
      {
        name: `${p.managerGroupName}-{hostname}`,
        url: p.gitlabUrl,
        token: { envVar: RUNNER_TOKEN_ENV },
        executor: "docker-autoscaler",
        // The socket is the worker's: docker-autoscaler runs every container there.
        docker: jobContainer(s),
        // Authenticated with the manager's role; the workers get presigned URLs and need no role.
        s3Cache: { bucket: p.cacheBucket, region: p.region },
        autoscaler: {
          plugin: `aws:${s.pluginVersion}`,
          // The region comes from the service's AWS_REGION, the credentials from the instance profile.
          pluginConfig: { name: p.workerGroupName },
          capacityPerInstance: s.capacityPerInstance,
          maxUseCount: s.maxUseCount,
          maxInstances: s.maxInstances,
          instanceReadyCommand: WORKER_READY_COMMAND,
          // A stopped manager leaves no paid instances behind (its successor would remove them anyway).
          deleteInstancesOnShutdown: true,
          // Private addresses only; the plugin pushes a one-minute key through EC2 Instance Connect.
          connector: { os: "linux", arch: "amd64", protocol: "ssh", username: WORKER_LOGIN_USER, useExternalAddr: false },
          policies: s.idlePolicies,
        },
      },
    ],
  };
  return renderRunnerConfig(config);
}

/** The gitlab-runner service's environment: the plugin's region and where the plugin lives. */
export function fleetingDropIn(region: string): string {
  return `[Service]\nEnvironment=${envValue("AWS_REGION", region)}\nEnvironment=${envValue("FLEETING_PLUGIN_PATH", FLEETING_PLUGIN_PATH)}\n`;
}

export function renderRunnerManagerUserData(p: RunnerManagerUserDataProps): string {
  const bootstrapEnv = [
    envValue("RUNNER_VERSION", p.settings.version),
    envValue("AWS_REGION", p.region),
    envValue("TOKEN_SECRET_ARN", p.settings.token.secretsManagerArn),
    envValue("METRIC_HOST", p.managerGroupName),
    envValue("MANAGER_GROUP", p.managerGroupName),
    envValue("FLEETING_PLUGIN_PATH", FLEETING_PLUGIN_PATH),
  ];
  return renderCloudConfig({
    writeFiles: [
      { path: "/etc/gitlab-runner-fleet/bootstrap.env", permissions: "0600", content: `${bootstrapEnv.join("\n")}\n` },
      { path: "/etc/gitlab-runner/config.toml.template", permissions: "0600", content: runnerManagerConfigToml(p) },
      { path: "/etc/gitlab-runner-fleet/cloudwatch-agent.json", permissions: "0644", content: runnerAgentConfig(p.managerGroupName, p.logGroups) },
      { path: `${UNITS}/gitlab-runner.service.d/log-file.conf`, permissions: "0644", content: RUNNER_LOG_DROPIN },
      { path: `${UNITS}/gitlab-runner.service.d/fleeting.conf`, permissions: "0644", content: fleetingDropIn(p.region) },
      { path: "/etc/logrotate.d/gitlab-runner", permissions: "0644", content: RUNNER_LOGROTATE },
      { path: `${UNITS}/spot-interruption-watcher.service`, permissions: "0644", content: drainWatcherUnit(p.managerGroupName, p.region) },
      { path: `${SBIN}/spot-interruption-watcher`, permissions: "0755", content: compactScript("spot-interruption-watcher.sh") },
      { path: `${SBIN}/runner-termination-handler`, permissions: "0755", content: compactScript("runner-termination-handler.sh") },
      { path: `${SBIN}/runner-manager-bootstrap`, permissions: "0755", content: compactScript("runner-manager-bootstrap.sh") },
    ],
    runcmd: [[`${SBIN}/runner-manager-bootstrap`]],
  });
}
