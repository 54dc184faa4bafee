// The cloud-init user data of a runner Spot instance (Amazon Linux 2023): config.toml with a
// token placeholder, the CloudWatch agent config, the systemd units (Docker cleanup timer,
// Spot interruption watcher) and the host scripts; the bootstrap script does every step.
// Pure: typed model in, `#cloud-config` document out.
import type { CpuRunnersConfig } from "../config/schema/aws-runners";
import { renderCloudConfig } from "./cloud-config";
import { CLOUDWATCH_AGENT_NAMESPACE, renderCloudWatchAgentConfig } from "./cloudwatch-agent";
import { compactScript } from "./host-scripts";
import { renderRunnerConfig, type RunnerConfig } from "./runner-config";
import { jobContainer } from "./runner-job-container";
import { renderService, renderTimer } from "./systemd";

/** The termination lifecycle hook the handler completes; the Auto Scaling group declares it. */
export const TERMINATION_HOOK_NAME = "termination-wait";
/** The runner's Prometheus metrics, local only: the termination handler counts running jobs there. */
export const RUNNER_METRICS_ADDRESS = "127.0.0.1:9252";
/** Where gitlab-runner logs (shipped to the runner log group). */
export const RUNNER_LOG_FILE = "/var/log/gitlab-runner/runner.log";
/** docker-cleanup every 6 hours, pruning only what is older than 4 hours: a full disk fails every job. */
export const DOCKER_CLEANUP_SCHEDULE = "*-*-* 00/6:00:00";
export const DOCKER_CLEANUP_OLDER_THAN = "4h";
export const RUNNER_TOKEN_ENV = "RUNNER_TOKEN";

export const SBIN = "/usr/local/sbin";
export const UNITS = "/etc/systemd/system";

export interface RunnerFleetUserDataProps {
  /** The runner settings from config, whole (version, token, concurrent, the job container). */
  readonly settings: CpuRunnersConfig;
  readonly region: string;
  /** The instance's Auto Scaling group, whose termination hook the handler completes. */
  readonly autoScalingGroupName: string;
  /** The runner token's secret as the instance names it: its ARN, or its name. */
  readonly tokenSecretId: string;
  /** GitLab's external URL the runner polls. */
  readonly gitlabUrl: string;
  /** Runner name shown in logs; `{hostname}` is replaced on the host. */
  readonly runnerName: string;
  /** The shared S3 cache bucket (may be a Terraform reference). */
  readonly cacheBucket: string;
  /** Log groups for the runner's log and the system log (/var/log/messages). */
  readonly logGroups: { readonly runner: string; readonly system: string };
}

export function envValue(name: string, value: string): string {
  // Versions, regions and ARNs only; anything else is a bug upstream.
  if (!/^[A-Za-z0-9_.:/+=@-]+$/.test(value)) throw new Error(`unsafe value for ${name}: '${value}'`);
  return `${name}=${value}`;
}

export function runnerFleetConfigToml(p: RunnerFleetUserDataProps): string {
  const config: RunnerConfig = {
    concurrent: p.settings.concurrent,
    metricsListenAddress: RUNNER_METRICS_ADDRESS,
    runners: [
      {
        name: p.runnerName,
        url: p.gitlabUrl,
        token: { envVar: RUNNER_TOKEN_ENV },
        executor: "docker",
        docker: jobContainer(p.settings),
        s3Cache: { bucket: p.cacheBucket, region: p.region },
      },
    ],
  };
  return renderRunnerConfig(config);
}

/** The docker-cleanup service and its 6-hourly timer, for any host that runs jobs. (The unit's description keeps its wording: changing it would change the user data.) */
export function dockerCleanupUnits(): { readonly service: string; readonly timer: string } {
  return {
    service: renderService({
      description: "Prune unused Docker data (seed 004: a full disk fails every job)",
      type: "oneshot",
      execStart: [`${SBIN}/docker-cleanup`],
      requires: ["docker.service"],
      after: ["docker.service"],
      environment: { CLEANUP_OLDER_THAN: DOCKER_CLEANUP_OLDER_THAN },
    }),
    timer: renderTimer({ description: "Docker cleanup every 6 hours", onCalendar: DOCKER_CLEANUP_SCHEDULE, persistent: true }),
  };
}

/** Every 5 minutes: a new version of the token secret reaches config.toml (userdata/scripts/runner-token-sync.sh). */
export const TOKEN_SYNC_SCHEDULE = "*:0/5";

/** The token sync's service and timer, and the script they run, for every host that runs gitlab-runner. */
export function tokenSyncFiles(): { readonly path: string; readonly permissions: string; readonly content: string }[] {
  return [
    {
      path: `${UNITS}/runner-token-sync.service`,
      permissions: "0644",
      content: renderService({
        description: "Put a new version of the runner token into config.toml (a rotated token)",
        type: "oneshot",
        execStart: [`${SBIN}/runner-token-sync`],
        wants: ["network-online.target"],
        after: ["network-online.target"],
      }),
    },
    {
      path: `${UNITS}/runner-token-sync.timer`,
      permissions: "0644",
      content: renderTimer({
        description: "Check the runner token's version every 5 minutes",
        onCalendar: TOKEN_SYNC_SCHEDULE,
        persistent: false,
        randomizedDelaySec: 60,
      }),
    },
    { path: `${SBIN}/runner-token-sync`, permissions: "0755", content: compactScript("runner-token-sync.sh") },
  ];
}

/** The CloudWatch agent on a runner host: its runner, system and bootstrap logs; disk and memory by group. */
export function runnerAgentConfig(groupName: string, logGroups: { readonly runner: string; readonly system: string }): string {
  return renderCloudWatchAgentConfig({
    runAsUser: "root",
    logFiles: [
      { filePath: RUNNER_LOG_FILE, logGroupName: logGroups.runner },
      { filePath: "/var/log/messages", logGroupName: logGroups.system },
      { filePath: "/var/log/runner-bootstrap.log", logGroupName: logGroups.system, logStreamName: "{instance_id}-bootstrap" },
    ],
    metrics: {
      namespace: CLOUDWATCH_AGENT_NAMESPACE,
      diskPaths: ["/"],
      memory: true,
      dimensions: { AutoScalingGroupName: groupName },
      ec2Dimensions: ["InstanceId"],
      aggregationDimensions: [["AutoScalingGroupName"]],
    },
  });
}

/** The watcher that drains a runner host (its group's termination hook) on Spot interruption or scale-in. */
export function drainWatcherUnit(groupName: string, region: string): string {
  return renderService({
    description: "Take the runner out of service on Spot interruption or scale-in",
    execStart: [`${SBIN}/spot-interruption-watcher`],
    wants: ["network-online.target"],
    after: ["network-online.target"],
    environment: { ASG_NAME: groupName, AWS_REGION: region, LIFECYCLE_HOOK_NAME: TERMINATION_HOOK_NAME },
    restart: "always",
    restartSec: 5,
    wantedBy: "multi-user.target",
  });
}

/** gitlab-runner writes to stderr; into a file the CloudWatch agent ships (rotated by RUNNER_LOGROTATE). */
export const RUNNER_LOG_DROPIN = `[Service]\nStandardOutput=append:${RUNNER_LOG_FILE}\nStandardError=append:${RUNNER_LOG_FILE}\n`;
export const RUNNER_LOGROTATE = `${RUNNER_LOG_FILE} {\n  daily\n  rotate 7\n  compress\n  missingok\n  notifempty\n  copytruncate\n}\n`;

export function renderRunnerFleetUserData(p: RunnerFleetUserDataProps): string {
  const bootstrapEnv = [
    envValue("RUNNER_VERSION", p.settings.version),
    envValue("AWS_REGION", p.region),
    envValue("TOKEN_SECRET_ID", p.tokenSecretId),
    // The Host dimension of the BootstrapFailed metric: the group's name.
    envValue("METRIC_HOST", p.autoScalingGroupName),
  ];
  const { service: cleanupService, timer: cleanupTimer } = dockerCleanupUnits();

  return renderCloudConfig({
    writeFiles: [
      { path: "/etc/gitlab-runner-fleet/bootstrap.env", permissions: "0600", content: `${bootstrapEnv.join("\n")}\n` },
      { path: "/etc/gitlab-runner/config.toml.template", permissions: "0600", content: runnerFleetConfigToml(p) },
      { path: "/etc/gitlab-runner-fleet/cloudwatch-agent.json", permissions: "0644", content: runnerAgentConfig(p.autoScalingGroupName, p.logGroups) },
      { path: `${UNITS}/gitlab-runner.service.d/log-file.conf`, permissions: "0644", content: RUNNER_LOG_DROPIN },
      { path: "/etc/logrotate.d/gitlab-runner", permissions: "0644", content: RUNNER_LOGROTATE },
      { path: `${UNITS}/docker-cleanup.service`, permissions: "0644", content: cleanupService },
      { path: `${UNITS}/docker-cleanup.timer`, permissions: "0644", content: cleanupTimer },
      { path: `${UNITS}/spot-interruption-watcher.service`, permissions: "0644", content: drainWatcherUnit(p.autoScalingGroupName, p.region) },
      { path: `${SBIN}/docker-cleanup`, permissions: "0755", content: compactScript("docker-cleanup.sh") },
      { path: `${SBIN}/spot-interruption-watcher`, permissions: "0755", content: compactScript("spot-interruption-watcher.sh") },
      { path: `${SBIN}/runner-termination-handler`, permissions: "0755", content: compactScript("runner-termination-handler.sh") },
      ...tokenSyncFiles(),
      { path: `${SBIN}/runner-bootstrap`, permissions: "0755", content: compactScript("runner-bootstrap.sh") },
    ],
    runcmd: [[`${SBIN}/runner-bootstrap`]],
  });
}
