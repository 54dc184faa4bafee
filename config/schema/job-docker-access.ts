// Whether a runner's jobs get the Docker daemon of the host they run on: one name and one form
// (`dockerAccess: none | socket`) on every platform with docker-executor runners. Only the
// default differs, and the description says why.
import { z } from "zod";

/** The two forms of `dockerAccess`: no daemon, or the host's socket mounted into each job. */
export const DOCKER_ACCESS_MODES = ["none", "socket"] as const;
/** What a job's container gets of its host's Docker. */
export type DockerAccess = (typeof DOCKER_ACCESS_MODES)[number];

/** The `dockerAccess` field of a runner section, with this platform's default. */
export function jobDockerAccess(platformDefault: DockerAccess) {
  return z
    .enum(DOCKER_ACCESS_MODES)
    .default(platformDefault)
    .describe(
      "The Docker daemon of the host a job runs on (with aws scaling: jobs, the worker's). 'none': jobs cannot reach any Docker daemon. " +
        "'socket': the host's socket is mounted into every job, so `docker build` works, and a job can then control that host (root on it). " +
        "The default differs by platform: on aws build jobs run on disposable Spot instances of their own (socket), on docker on the host shared with GitLab (none). " +
        `@default '${platformDefault}'`,
    );
}
