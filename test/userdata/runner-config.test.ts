import { keyLists } from "../../scripts/verify/runner-config-keys";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { renderRunnerConfig, type RunnerConfig } from "../../userdata/runner-config";

/** The reference AWS installation's runner, as the aws fleet renders it. */
const referenceAwsRunner: RunnerConfig = {
  concurrent: 2,
  runners: [
    {
      name: "staging-aws-runner-{hostname}",
      url: "https://gitlab.example.com",
      token: { envVar: "RUNNER_TOKEN" },
      executor: "docker",
      docker: {
        image: "node:20-alpine",
        privileged: true,
        pullPolicy: ["if-not-present"],
        volumes: ["/cache", "/var/run/docker.sock:/var/run/docker.sock"],
        memory: "6g",
        cpus: "1.5",
      },
      s3Cache: { bucket: "staging-gitlab-runner-cache", region: "eu-west-3" },
    },
  ],
};

// The lists npm run verify checks every config.toml against (scripts/verify/reference/).
const knownKeys = keyLists().runner;

function allKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(allKeys);
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, ...allKeys(v)]);
  return [];
}

describe("runner config.toml renderer", () => {
  it("renders the reference AWS installation's docker executor settings", () => {
    const toml = parse(renderRunnerConfig(referenceAwsRunner)) as any;
    expect(toml).toMatchObject({ concurrent: 2, check_interval: 0, shutdown_timeout: 0, session_server: { session_timeout: 1800 } });
    const runner = toml.runners[0];
    expect(runner).toMatchObject({ executor: "docker", url: "https://gitlab.example.com" });
    expect(runner.docker).toMatchObject({
      image: "node:20-alpine",
      privileged: true,
      pull_policy: ["if-not-present"],
      volumes: ["/cache", "/var/run/docker.sock:/var/run/docker.sock"],
      memory: "6g",
      cpus: "1.5",
    });
    expect(runner.cache).toEqual({
      Type: "s3",
      Shared: true,
      s3: { BucketName: "staging-gitlab-runner-cache", BucketLocation: "eu-west-3", AuthenticationType: "iam" },
    });
  });

  it("writes a placeholder for the token, filled in on the host at boot", () => {
    const toml = parse(renderRunnerConfig(referenceAwsRunner)) as any;
    expect(toml.runners[0].token).toBe("@@RUNNER_TOKEN@@");
    expect(() => renderRunnerConfig({ ...referenceAwsRunner, runners: [{ ...referenceAwsRunner.runners[0]!, token: { envVar: "glrt-abc" } }] })).toThrow(
      /invalid token variable name/,
    );
  });

  it("renders a shell executor without docker settings", () => {
    const toml = parse(
      renderRunnerConfig({
        concurrent: 4,
        metricsListenAddress: ":9252",
        runners: [{ name: "deploy", url: "https://gitlab.example.com", token: { envVar: "RUNNER_TOKEN_DEPLOY" }, executor: "shell", limit: 1 }],
      }),
    ) as any;
    expect(toml.listen_address).toBe(":9252");
    expect(toml.runners[0]).toEqual({
      name: "deploy",
      url: "https://gitlab.example.com",
      token: "@@RUNNER_TOKEN_DEPLOY@@",
      executor: "shell",
      shell: "bash",
      limit: 1,
    });
  });

  it("refuses inconsistent executors", () => {
    const shellWithDocker = { ...referenceAwsRunner.runners[0]!, executor: "shell" as const };
    expect(() => renderRunnerConfig({ concurrent: 1, runners: [shellWithDocker] })).toThrow(/shell runner; docker settings do not apply/);
    const dockerWithout = { ...referenceAwsRunner.runners[0]!, docker: undefined };
    expect(() => renderRunnerConfig({ concurrent: 1, runners: [dockerWithout] })).toThrow(/no docker settings/);
    expect(() => renderRunnerConfig({ concurrent: 1, runners: [] })).toThrow(/at least one runner/);
  });

  it("adds /etc/hosts entries to job containers only when given", () => {
    const withHosts = {
      ...referenceAwsRunner,
      runners: [{ ...referenceAwsRunner.runners[0]!, docker: { ...referenceAwsRunner.runners[0]!.docker!, extraHosts: ["gitlab.example.com:host-gateway"] } }],
    };
    expect((parse(renderRunnerConfig(withHosts)) as any).runners[0].docker.extra_hosts).toEqual(["gitlab.example.com:host-gateway"]);
    expect((parse(renderRunnerConfig(referenceAwsRunner)) as any).runners[0].docker).not.toHaveProperty("extra_hosts");
  });

  it("uses only keys gitlab-runner knows", () => {
    const withHosts = {
      ...referenceAwsRunner,
      runners: [{ ...referenceAwsRunner.runners[0]!, docker: { ...referenceAwsRunner.runners[0]!.docker!, extraHosts: ["a:b"] } }],
    };
    const keys = [...allKeys(parse(renderRunnerConfig(referenceAwsRunner))), ...allKeys(parse(renderRunnerConfig(withHosts)))];
    expect(keys.filter((k) => !knownKeys.has(k))).toEqual([]);
  });
});

/** A docker-autoscaler runner as the jobs-mode manager renders it. */
const autoscaling: RunnerConfig = {
  concurrent: 6,
  runners: [
    {
      ...referenceAwsRunner.runners[0]!,
      executor: "docker-autoscaler",
      autoscaler: {
        plugin: "aws:1.1",
        pluginConfig: { name: "staging-gitlab-runner-workers" },
        capacityPerInstance: 2,
        maxUseCount: 20,
        maxInstances: 3,
        instanceReadyCommand: "/usr/local/bin/runner-worker-ready",
        deleteInstancesOnShutdown: true,
        connector: { os: "linux", arch: "amd64", protocol: "ssh", username: "ec2-user", useExternalAddr: false },
        policies: [
          { periods: ["* * * * *"], timezone: "UTC", idleCount: 0, idleTime: "20m" },
          { periods: ["* 8-18 * * mon-fri"], timezone: "Europe/Paris", idleCount: 1, idleTime: "30m" },
        ],
      },
    },
  ],
};

/** "<section> <key>" pairs of the autoscaler notes. */
const autoscalerKeys = keyLists().autoscaler;

describe("runner config.toml renderer: docker-autoscaler", () => {
  const toml = parse(renderRunnerConfig(autoscaling)) as any;
  const runner = toml.runners[0];

  it("renders [runners.autoscaler] with the pinned AWS plugin, capacity, use count, instances and the worker group", () => {
    expect(runner.executor).toBe("docker-autoscaler");
    expect(runner.autoscaler).toMatchObject({
      plugin: "aws:1.1",
      capacity_per_instance: 2,
      max_use_count: 20,
      max_instances: 3,
      instance_ready_command: "/usr/local/bin/runner-worker-ready",
      delete_instances_on_shutdown: true,
      plugin_config: { name: "staging-gitlab-runner-workers" },
      connector_config: { os: "linux", arch: "amd64", protocol: "ssh", username: "ec2-user", use_external_addr: false },
    });
    // The docker executor's settings and the S3 cache still apply: the jobs run in Docker on the workers.
    expect(runner.docker).toMatchObject({ image: "node:20-alpine", privileged: true });
    expect(runner.cache.s3).toMatchObject({ AuthenticationType: "iam" });
  });

  it("renders each idle policy as a [[runners.autoscaler.policy]] in order (the last matching wins)", () => {
    expect(runner.autoscaler.policy).toEqual([
      { periods: ["* * * * *"], timezone: "UTC", idle_count: 0, idle_time: "20m" },
      { periods: ["* 8-18 * * mon-fri"], timezone: "Europe/Paris", idle_count: 1, idle_time: "30m" },
    ]);
  });

  it("uses only keys gitlab-runner knows: the runner's list, and the autoscaler notes section by section", () => {
    expect(allKeys(toml).filter((k) => !knownKeys.has(k))).toEqual([]);
    const a = runner.autoscaler;
    const unknown = [
      ...Object.keys(a).filter((k) => !autoscalerKeys.has(`autoscaler ${k}`)),
      ...Object.keys(a.connector_config).filter((k) => !autoscalerKeys.has(`autoscaler.connector_config ${k}`)),
      ...a.policy.flatMap((p: object) => Object.keys(p).filter((k) => !autoscalerKeys.has(`autoscaler.policy ${k}`))),
      ...Object.keys(a.plugin_config).filter((k) => !autoscalerKeys.has(`autoscaler.plugin_config(aws) ${k}`)),
    ];
    expect(unknown).toEqual([]);
  });

  it("refuses autoscaler settings without the docker-autoscaler executor, and the executor without them", () => {
    const dockerWithAutoscaler = { ...autoscaling.runners[0]!, executor: "docker" as const };
    expect(() => renderRunnerConfig({ concurrent: 1, runners: [dockerWithAutoscaler] })).toThrow(/autoscaler settings go with the docker-autoscaler executor/);
    const autoscalerWithout = { ...autoscaling.runners[0]!, autoscaler: undefined };
    expect(() => renderRunnerConfig({ concurrent: 1, runners: [autoscalerWithout] })).toThrow(/autoscaler settings go with the docker-autoscaler executor/);
    const withoutDocker = { ...autoscaling.runners[0]!, docker: undefined };
    expect(() => renderRunnerConfig({ concurrent: 1, runners: [withoutDocker] })).toThrow(/uses the docker-autoscaler executor but has no docker settings/);
  });
});
