// The GitLab container's name and where the automation token lives in it, apart from the
// construct: the CLI's gitlab-ready (cli/gitlab-access.ts) reads the token in the pipeline's
// deploy jobs, and needs neither cdktf nor the providers to know where.

/** The GitLab container's name on docker: DockerGitLabServer's default. */
export const GITLAB_CONTAINER_NAME = "gitlab";

/**
 * Where the automation token lives in the container (under /etc/gitlab, so on the host under
 * the config directory): the second stack's deploy reads it with `docker exec <gitlab> cat`.
 */
export const AUTOMATION_TOKEN_CONTAINER_PATH = "/etc/gitlab/gitlab-platform/automation-token";
