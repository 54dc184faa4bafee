// Observability on aws: CloudWatch log groups with retention for the GitLab
// host, an optional SNS e-mail topic, and alarms for the server's status checks and disk,
// the runners' disk, the runner group pinned at its maximum (and, from AwsBackups, the
// backup age).
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import type { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { Instance } from "@cdktf/provider-aws/lib/instance";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import { RoleGrants } from "../grants";
import type { WriteFile } from "../../userdata/cloud-config";
import { CLOUDWATCH_AGENT_NAMESPACE, renderCloudWatchAgentConfig, type CloudWatchLogFile } from "../../userdata/cloudwatch-agent";
import { BOOTSTRAP_FAILED_METRIC } from "../../userdata/bootstrap-metric";
import { SERVER_AGENT_CONFIG_PATH, SERVER_BOOTSTRAP_LOG } from "../../userdata/gitlab-server-user-data";

/** The GitLab host's log groups, by short name; `system` keeps the shorter retention. */
export const SERVER_LOGS = ["rails", "nginx-access", "nginx-error", "system"] as const;
export type ServerLog = (typeof SERVER_LOGS)[number];
/** Mount points of the GitLab host whose usage the agent reports and the alarms watch. */
export const SERVER_DISKS = ["/", "/var/opt/gitlab"] as const;

/** Which file on the GitLab host goes to which log group (Omnibus' and Ubuntu's paths). */
const SERVER_LOG_FILES: readonly { file: string; log: ServerLog; stream?: string }[] = [
  { file: "/var/log/gitlab/gitlab-rails/production_json.log", log: "rails" },
  { file: "/var/log/gitlab/nginx/gitlab_access.log", log: "nginx-access" },
  { file: "/var/log/gitlab/nginx/gitlab_error.log", log: "nginx-error" },
  { file: "/var/log/syslog", log: "system" },
  { file: SERVER_BOOTSTRAP_LOG, log: "system", stream: "{instance_id}-bootstrap" },
];

/** What a host's CloudWatch agent needs to ship its logs: writing to these log groups only. */
export function agentLogsStatement(logGroupArns: readonly string[]): Record<string, unknown> {
  return {
    Sid: "OwnLogGroups",
    Effect: "Allow",
    Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
    Resource: logGroupArns.flatMap((arn) => [arn, `${arn}:*`]),
  };
}

/**
 * What a host's CloudWatch agent needs to send metrics. PutMetricData has no resource-level
 * permissions: AWS requires "*"; the namespace condition keeps hosts to the agent's own.
 */
export const AGENT_METRICS_STATEMENT = {
  Sid: "AgentMetrics",
  Effect: "Allow",
  Action: ["cloudwatch:PutMetricData"],
  Resource: "*",
  Condition: { StringEquals: { "cloudwatch:namespace": CLOUDWATCH_AGENT_NAMESPACE } },
} as const;

/**
 * What a failed bootstrap needs to report itself (the alarm per host reads it). Namespaced
 * like the agent's: a job on a runner could send a false failure (an alarm), nothing more.
 */
export const BOOTSTRAP_METRICS_STATEMENT = {
  Sid: "ReportBootstrapFailure",
  Effect: "Allow",
  Action: ["cloudwatch:PutMetricData"],
  Resource: "*",
  Condition: { StringEquals: { "cloudwatch:namespace": BOOTSTRAP_FAILED_METRIC.namespace } },
} as const;

export interface AwsObservabilityProps {
  readonly namePrefix: string;
  /** Environment name; log groups live under /<environment>/gitlab/. */
  readonly environment: string;
  /** Retention of application logs (rails, nginx). */
  readonly appLogRetentionDays: number;
  /** Retention of system logs. */
  readonly systemLogRetentionDays: number;
  /** Subscribe this address to the alarm topic. @default no topic */
  readonly alarmEmail?: string;
  /** Disk usage, in percent, that raises an alarm. */
  readonly diskUsageAlarmPercent: number;
}

export class AwsObservability extends Construct {
  readonly logGroups: Readonly<Record<ServerLog, CloudwatchLogGroup>>;
  /** SNS topic ARNs every alarm notifies (empty without alarmEmail). */
  readonly alarmActions: readonly string[];
  readonly topic?: SnsTopic;
  /** The GitLab host's CloudWatch agent config; the bootstrap starts the agent with it. */
  readonly hostFiles: readonly WriteFile[];
  private readonly props: AwsObservabilityProps;

  constructor(scope: Construct, id: string, props: AwsObservabilityProps) {
    super(scope, id);
    this.props = props;
    const groups = {} as Record<ServerLog, CloudwatchLogGroup>;
    for (const log of SERVER_LOGS) {
      groups[log] = new CloudwatchLogGroup(this, `log-${log}`, {
        name: serverLogGroupName(props.environment, log),
        retentionInDays: log === "system" ? props.systemLogRetentionDays : props.appLogRetentionDays,
      });
    }
    this.logGroups = groups;
    this.hostFiles = [{ path: SERVER_AGENT_CONFIG_PATH, permissions: "0644", content: serverAgentConfig(props.environment) }];

    if (props.alarmEmail) {
      this.topic = new SnsTopic(this, "alarms", { name: `${props.namePrefix}-alarms` });
      new SnsTopicSubscription(this, "alarm-email", { topicArn: this.topic.arn, protocol: "email", endpoint: props.alarmEmail });
    }
    this.alarmActions = this.topic ? [this.topic.arn] : [];
  }

  /** Lets the GitLab host's CloudWatch agent write its log groups and host metrics. */
  grantAgent(role: IamRole): IamRolePolicy {
    return this.agentGrants.grant(role);
  }

  private readonly agentGrants = new RoleGrants(this, "agent", () => ({
    name: "cloudwatch-agent",
    document: {
      Version: "2012-10-17",
      Statement: [agentLogsStatement(Object.values(this.logGroups).map((g) => g.arn)), AGENT_METRICS_STATEMENT],
    },
  }));

  /** Status checks and disk usage of the GitLab instance (disk per mount point the agent reports). */
  watchServer(instance: Instance, mountPoints: readonly string[]): void {
    this.alarm("server-status-check", {
      alarmDescription: "The GitLab instance fails its EC2 status checks",
      namespace: "AWS/EC2",
      metricName: "StatusCheckFailed",
      dimensions: { InstanceId: instance.id },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 2,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
    });
    for (const path of mountPoints) {
      const name = path === "/" ? "root" : path.split("/").filter(Boolean).join("-");
      this.alarm(`server-disk-${name}`, {
        alarmDescription: `Disk ${path} on the GitLab instance is over ${this.props.diskUsageAlarmPercent} % full`,
        namespace: CLOUDWATCH_AGENT_NAMESPACE,
        metricName: "disk_used_percent",
        dimensions: { InstanceId: instance.id, path },
        statistic: "Maximum",
        period: 300,
        evaluationPeriods: 2,
        comparisonOperator: "GreaterThanThreshold",
        threshold: this.props.diskUsageAlarmPercent,
      });
    }
  }

  /** Disk usage of the runner instances, and the group stuck at its maximum size. */
  watchRunners(autoScalingGroupName: string, maxSize: number): void {
    this.alarm("runner-disk", {
      alarmDescription: `A runner's disk is over ${this.props.diskUsageAlarmPercent} % full (Docker cleanup not keeping up?)`,
      namespace: CLOUDWATCH_AGENT_NAMESPACE,
      metricName: "disk_used_percent",
      dimensions: { AutoScalingGroupName: autoScalingGroupName },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 2,
      comparisonOperator: "GreaterThanThreshold",
      threshold: this.props.diskUsageAlarmPercent,
    });
    this.alarm("runners-at-max", {
      alarmDescription: `The runner group has run at its maximum of ${maxSize} instances for 30 minutes: jobs are queueing`,
      namespace: "AWS/AutoScaling",
      metricName: "GroupInServiceInstances",
      dimensions: { AutoScalingGroupName: autoScalingGroupName },
      statistic: "Minimum",
      period: 600,
      evaluationPeriods: 3,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: maxSize,
    });
  }

  /**
   * A jobs-mode fleet: the worker group stuck at max_instances (jobs queue), the manager's
   * disk, and no manager in service (no job runs at all without one).
   */
  watchRunnerAutoscaler(groups: { readonly manager: string; readonly workers: string }, maxInstances: number): void {
    this.alarm("runners-at-max", {
      alarmDescription: `The runner worker group has run at its maximum of ${maxInstances} instances (max_instances) for 30 minutes: jobs are queueing`,
      namespace: "AWS/AutoScaling",
      metricName: "GroupInServiceInstances",
      dimensions: { AutoScalingGroupName: groups.workers },
      statistic: "Minimum",
      period: 600,
      evaluationPeriods: 3,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: maxInstances,
    });
    this.alarm("runner-manager-disk", {
      alarmDescription: `The runner manager's disk is over ${this.props.diskUsageAlarmPercent} % full (its logs?)`,
      namespace: CLOUDWATCH_AGENT_NAMESPACE,
      metricName: "disk_used_percent",
      dimensions: { AutoScalingGroupName: groups.manager },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 2,
      comparisonOperator: "GreaterThanThreshold",
      threshold: this.props.diskUsageAlarmPercent,
    });
    this.alarm(
      "runner-manager-missing",
      {
        alarmDescription: "No runner manager has been in service for 15 minutes: no CI job runs (the group's activity history says why)",
        namespace: "AWS/AutoScaling",
        metricName: "GroupInServiceInstances",
        dimensions: { AutoScalingGroupName: groups.manager },
        statistic: "Maximum",
        period: 300,
        evaluationPeriods: 3,
        comparisonOperator: "LessThanThreshold",
        threshold: 1,
      },
      "breaching",
    );
  }

  /**
   * A failed bootstrap on this host (the GitLab server, or any runner of the group): its
   * script sends BootstrapFailed with the host's name. No datapoint is no failure.
   */
  watchBootstrap(kind: "server" | "runner", host: string): void {
    this.alarm(
      `${kind}-bootstrap-failed`,
      {
        alarmDescription:
          kind === "server"
            ? "The GitLab instance's bootstrap failed: GitLab may not be running (/var/log/gitlab-bootstrap.log, the system log group's <instance-id>-bootstrap stream)"
            : "A runner's bootstrap failed; it powered itself off and Auto Scaling replaces it (the runner system log group's <instance-id>-bootstrap stream)",
        namespace: BOOTSTRAP_FAILED_METRIC.namespace,
        metricName: BOOTSTRAP_FAILED_METRIC.name,
        dimensions: { Host: host },
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
      },
      "notBreaching",
    );
  }

  private alarm(
    id: string,
    config: Omit<ConstructorParameters<typeof CloudwatchMetricAlarm>[2], "alarmName" | "alarmActions" | "okActions" | "treatMissingData">,
    treatMissingData: "missing" | "notBreaching" | "breaching" = "missing",
  ): CloudwatchMetricAlarm {
    return new CloudwatchMetricAlarm(this, id, {
      ...config,
      alarmName: `${this.props.namePrefix}-${id}`,
      treatMissingData,
      alarmActions: [...this.alarmActions],
      okActions: [...this.alarmActions],
    });
  }
}

/**
 * The agent's config on the GitLab host. Log group names are literal (the stack creates the
 * groups before the instance). The agent adds fstype to disk metrics; the alarms match on
 * exactly {InstanceId, path}, hence that aggregation.
 */
function serverAgentConfig(environment: string): string {
  const logFiles: CloudWatchLogFile[] = SERVER_LOG_FILES.map(({ file, log, stream }) => ({
    filePath: file,
    logGroupName: serverLogGroupName(environment, log),
    ...(stream ? { logStreamName: stream } : {}),
  }));
  return renderCloudWatchAgentConfig({
    // Omnibus' logs are readable by root only.
    runAsUser: "root",
    logFiles,
    metrics: { diskPaths: SERVER_DISKS, memory: true, ec2Dimensions: ["InstanceId"], aggregationDimensions: [["InstanceId", "path"]] },
  });
}

function serverLogGroupName(environment: string, log: ServerLog): string {
  return `/${environment}/gitlab/${log}`;
}
