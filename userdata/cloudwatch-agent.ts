// Renders the Amazon CloudWatch agent's JSON configuration from a typed model: which log
// files go to which log group and stream, and which host metrics (disk, memory) are sent with
// which dimensions. Platform-neutral: any EC2 host of the platform (runners, GitLab) uses it.

/** One log file shipped to CloudWatch Logs. */
export interface CloudWatchLogFile {
  /** Absolute path of the file on the host, e.g. '/var/log/messages'. */
  readonly filePath: string;
  /** Existing log group (the host's role may write to it, not create it). */
  readonly logGroupName: string;
  /** Stream name; the agent expands {instance_id}, {hostname}, {ip_address}. @default '{instance_id}' */
  readonly logStreamName?: string;
}

/** Dimensions the agent resolves on the instance itself (AutoScalingGroupName also needs ec2:DescribeTags). */
export type Ec2Dimension = "InstanceId" | "InstanceType" | "ImageId" | "AutoScalingGroupName";

/** Host metrics, sent as disk_used_percent and mem_used_percent. */
export interface CloudWatchHostMetrics {
  /** Metric namespace. @default 'CWAgent' */
  readonly namespace?: string;
  /** Seconds between samples. @default 60 */
  readonly intervalSeconds?: number;
  /** Mount points whose disk_used_percent is sent, e.g. ['/']; empty sends none. */
  readonly diskPaths: readonly string[];
  /** Send mem_used_percent. */
  readonly memory: boolean;
  /** Fixed dimensions on every metric, e.g. { AutoScalingGroupName: 'staging-gitlab-runner' }. @default none */
  readonly dimensions?: Readonly<Record<string, string>>;
  /** Dimensions the agent looks up on the instance, e.g. ['InstanceId']. @default none */
  readonly ec2Dimensions?: readonly Ec2Dimension[];
  /** Also publish aggregates over these dimension sets, e.g. [['AutoScalingGroupName']]. @default none */
  readonly aggregationDimensions?: readonly (readonly string[])[];
}

export interface CloudWatchAgentConfig {
  readonly logFiles: readonly CloudWatchLogFile[];
  /** User the agent runs as; root reads root-only logs like /var/log/messages. @default the package's default */
  readonly runAsUser?: string;
  /** @default no metrics */
  readonly metrics?: CloudWatchHostMetrics;
}

/** The agent's default namespace; IAM conditions on cloudwatch:namespace name it. */
export const CLOUDWATCH_AGENT_NAMESPACE = "CWAgent";

const LOG_GROUP_NAME = /^[A-Za-z0-9_\-/.#]{1,512}$/;
const DIMENSION_NAME = /^[A-Za-z0-9_.:-]{1,255}$/;

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

function logFile(f: CloudWatchLogFile): Record<string, string> {
  check(f.filePath.startsWith("/"), `log file path must be absolute: '${f.filePath}'`);
  // A Terraform reference (resolved at apply) is taken as it is.
  check(LOG_GROUP_NAME.test(f.logGroupName) || f.logGroupName.includes("${"), `invalid log group name '${f.logGroupName}'`);
  return { file_path: f.filePath, log_group_name: f.logGroupName, log_stream_name: f.logStreamName ?? "{instance_id}", timezone: "UTC" };
}

function metricsSection(m: CloudWatchHostMetrics): Record<string, unknown> {
  const interval = m.intervalSeconds ?? 60;
  check(Number.isInteger(interval) && interval >= 1, `invalid metrics interval ${interval}`);
  const fixed = { ...(m.dimensions ?? {}) };
  for (const [name, value] of Object.entries(fixed)) {
    check(DIMENSION_NAME.test(name) && value.length > 0 && value.length <= 1024, `invalid metric dimension ${name}='${value}'`);
  }
  for (const p of m.diskPaths) check(p.startsWith("/"), `disk path must be absolute: '${p}'`);
  check(m.diskPaths.length > 0 || m.memory, "metrics need at least one disk path or memory");
  const perMetric = (extra: Record<string, unknown>) => ({
    measurement: ["used_percent"],
    metrics_collection_interval: interval,
    ...extra,
    ...(Object.keys(fixed).length ? { append_dimensions: fixed } : {}),
  });
  const collected: Record<string, unknown> = {};
  if (m.diskPaths.length) collected.disk = perMetric({ resources: [...m.diskPaths], drop_device: true });
  if (m.memory) collected.mem = perMetric({});
  const section: Record<string, unknown> = { namespace: m.namespace ?? CLOUDWATCH_AGENT_NAMESPACE, metrics_collected: collected };
  if (m.ec2Dimensions?.length) {
    section.append_dimensions = Object.fromEntries(m.ec2Dimensions.map((d) => [d, `\${aws:${d}}`]));
  }
  if (m.aggregationDimensions?.length) section.aggregation_dimensions = m.aggregationDimensions.map((set) => [...set]);
  return section;
}

/** The agent's JSON config, for `amazon-cloudwatch-agent-ctl -a fetch-config -c file:PATH`. */
export function renderCloudWatchAgentConfig(c: CloudWatchAgentConfig): string {
  check(c.logFiles.length > 0 || c.metrics !== undefined, "a CloudWatch agent config needs log files or metrics");
  const doc: Record<string, unknown> = {};
  if (c.runAsUser !== undefined) {
    check(/^[a-z_][a-z0-9_-]*$/.test(c.runAsUser), `invalid agent user '${c.runAsUser}'`);
    doc.agent = { run_as_user: c.runAsUser };
  }
  if (c.logFiles.length) doc.logs = { logs_collected: { files: { collect_list: c.logFiles.map(logFile) } } };
  if (c.metrics) doc.metrics = metricsSection(c.metrics);
  // Compact: user data is limited to 16 KB, and the agent is the only reader.
  return `${JSON.stringify(doc)}\n`;
}
