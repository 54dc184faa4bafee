import { describe, expect, it } from "vitest";
import { CLOUDWATCH_AGENT_NAMESPACE, renderCloudWatchAgentConfig } from "../../userdata/cloudwatch-agent";

describe("renderCloudWatchAgentConfig", () => {
  it("maps each log file to its group, one stream per instance by default, in UTC", () => {
    const doc = JSON.parse(
      renderCloudWatchAgentConfig({
        logFiles: [
          { filePath: "/var/log/messages", logGroupName: "/prod/gitlab/system" },
          { filePath: "/var/log/gitlab/gitlab-rails/production_json.log", logGroupName: "/prod/gitlab/rails", logStreamName: "{hostname}-rails" },
        ],
      }),
    );
    expect(doc).toEqual({
      logs: {
        logs_collected: {
          files: {
            collect_list: [
              { file_path: "/var/log/messages", log_group_name: "/prod/gitlab/system", log_stream_name: "{instance_id}", timezone: "UTC" },
              {
                file_path: "/var/log/gitlab/gitlab-rails/production_json.log",
                log_group_name: "/prod/gitlab/rails",
                log_stream_name: "{hostname}-rails",
                timezone: "UTC",
              },
            ],
          },
        },
      },
    });
  });

  it("sends disk_used_percent and mem_used_percent with fixed and instance dimensions and aggregates", () => {
    const doc = JSON.parse(
      renderCloudWatchAgentConfig({
        logFiles: [],
        metrics: {
          diskPaths: ["/", "/var/opt/gitlab"],
          memory: true,
          dimensions: { AutoScalingGroupName: "staging-gitlab-runner" },
          ec2Dimensions: ["InstanceId"],
          aggregationDimensions: [["AutoScalingGroupName"]],
        },
      }),
    );
    expect(doc.logs).toBeUndefined();
    expect(doc.metrics).toEqual({
      namespace: "CWAgent",
      metrics_collected: {
        disk: {
          measurement: ["used_percent"],
          metrics_collection_interval: 60,
          resources: ["/", "/var/opt/gitlab"],
          drop_device: true,
          append_dimensions: { AutoScalingGroupName: "staging-gitlab-runner" },
        },
        mem: { measurement: ["used_percent"], metrics_collection_interval: 60, append_dimensions: { AutoScalingGroupName: "staging-gitlab-runner" } },
      },
      append_dimensions: { InstanceId: "${aws:InstanceId}" },
      aggregation_dimensions: [["AutoScalingGroupName"]],
    });
    expect(CLOUDWATCH_AGENT_NAMESPACE).toBe(doc.metrics.namespace);
  });

  it("runs the agent as the given user", () => {
    const doc = JSON.parse(renderCloudWatchAgentConfig({ runAsUser: "root", logFiles: [{ filePath: "/var/log/messages", logGroupName: "/x/system" }] }));
    expect(doc.agent).toEqual({ run_as_user: "root" });
    expect(() => renderCloudWatchAgentConfig({ runAsUser: "root; rm", logFiles: [{ filePath: "/var/log/messages", logGroupName: "/x" }] })).toThrow(
      /agent user/,
    );
  });

  it("leaves out what is not asked for", () => {
    const doc = JSON.parse(renderCloudWatchAgentConfig({ logFiles: [], metrics: { namespace: "GitLab", intervalSeconds: 300, diskPaths: [], memory: true } }));
    expect(doc.metrics).toEqual({ namespace: "GitLab", metrics_collected: { mem: { measurement: ["used_percent"], metrics_collection_interval: 300 } } });
  });

  it("is compact JSON (user data is limited to 16 KB)", () => {
    const text = renderCloudWatchAgentConfig({ logFiles: [{ filePath: "/var/log/messages", logGroupName: "/x/system" }] });
    expect(text.trim().split("\n")).toHaveLength(1);
  });

  it("refuses what the agent would reject or silently ignore", () => {
    expect(() => renderCloudWatchAgentConfig({ logFiles: [] })).toThrow(/log files or metrics/);
    expect(() => renderCloudWatchAgentConfig({ logFiles: [{ filePath: "var/log/messages", logGroupName: "/x" }] })).toThrow(/absolute/);
    expect(() => renderCloudWatchAgentConfig({ logFiles: [{ filePath: "/var/log/messages", logGroupName: "bad name!" }] })).toThrow(/log group name/);
    expect(() => renderCloudWatchAgentConfig({ logFiles: [], metrics: { diskPaths: [], memory: false } })).toThrow(/at least one/);
    expect(() => renderCloudWatchAgentConfig({ logFiles: [], metrics: { diskPaths: ["/"], memory: false, intervalSeconds: 0 } })).toThrow(/interval/);
    expect(() => renderCloudWatchAgentConfig({ logFiles: [], metrics: { diskPaths: ["/"], memory: false, dimensions: { "a b": "x" } } })).toThrow(/dimension/);
  });

  it("accepts a Terraform reference as a log group name", () => {
    const doc = JSON.parse(renderCloudWatchAgentConfig({ logFiles: [{ filePath: "/var/log/messages", logGroupName: "${aws_cloudwatch_log_group.x.name}" }] }));
    expect(doc.logs.logs_collected.files.collect_list[0].log_group_name).toBe("${aws_cloudwatch_log_group.x.name}");
  });
});
