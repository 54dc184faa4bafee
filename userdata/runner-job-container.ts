// The job container every docker-executor runner starts, from the settings the runner sections
// of config share (jobImage, privileged, the host's Docker socket, jobMemory, jobCpus): both aws
// modes use it as is, and the docker platform's build runner adds its own keys
// (userdata/docker-runner-config.ts). A new job setting is added to the schema, here, and to
// runner-config.ts when config.toml gains a key.
import type { AwsRunnersConfig } from "../config/schema/aws-runners";
import type { DockerExecutorSettings } from "./runner-config";

export const DOCKER_SOCKET = "/var/run/docker.sock";

/** The config fields that shape a job's container, named as both platforms' runner sections name them. */
export type RunnerJobSettings = Pick<AwsRunnersConfig, "jobImage" | "privileged" | "dockerAccess"> & Partial<Pick<AwsRunnersConfig, "jobMemory" | "jobCpus">>;

/** config.toml's [runners.docker] for a job: the socket is the host's that runs the job (jobs mode: the worker's). */
export function jobContainer(s: RunnerJobSettings): DockerExecutorSettings {
  return {
    image: s.jobImage,
    privileged: s.privileged,
    pullPolicy: ["if-not-present"],
    volumes: ["/cache", ...(s.dockerAccess === "socket" ? [`${DOCKER_SOCKET}:${DOCKER_SOCKET}`] : [])],
    ...(s.jobMemory !== undefined ? { memory: s.jobMemory } : {}),
    ...(s.jobCpus !== undefined ? { cpus: s.jobCpus } : {}),
  };
}
