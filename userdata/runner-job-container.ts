// The job container both aws runner modes start, from the settings they share in config
// (runners.jobImage, privileged, mountDockerSocket, jobMemory, jobCpus): a new job setting is
// added to the schema, here, and to runner-config.ts when config.toml gains a key.
import type { AwsRunnersConfig } from "../config/schema/aws-runners";
import type { DockerExecutorSettings } from "./runner-config";

export const DOCKER_SOCKET = "/var/run/docker.sock";

/** The config fields that shape a job's container. */
export type RunnerJobSettings = Pick<AwsRunnersConfig, "jobImage" | "privileged" | "mountDockerSocket" | "jobMemory" | "jobCpus">;

/** config.toml's [runners.docker] for a job: the socket is the host's that runs the job (jobs mode: the worker's). */
export function jobContainer(s: RunnerJobSettings): DockerExecutorSettings {
  return {
    image: s.jobImage,
    privileged: s.privileged,
    pullPolicy: ["if-not-present"],
    volumes: ["/cache", ...(s.mountDockerSocket ? [`${DOCKER_SOCKET}:${DOCKER_SOCKET}`] : [])],
    ...(s.jobMemory !== undefined ? { memory: s.jobMemory } : {}),
    cpus: s.jobCpus,
  };
}
