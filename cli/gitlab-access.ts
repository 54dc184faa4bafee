// What `npm run plan|deploy` needs before Terraform runs in an environment's second stack
// (`<env>-gitlab`): GitLab answering on its API, and on docker the automation token, which
// Terraform's GitLab provider reads from GITLAB_TOKEN. Nothing here prints or stores the token.
import { spawnSync } from "node:child_process";
import type { Environment } from "../config/load";
import { AUTOMATION_TOKEN_CONTAINER_PATH, GITLAB_CONTAINER_NAME } from "../constructs/gitlab-server/docker-names";
import { hostNames } from "../stacks/host-names";
import { engineSocket, readContainerFile } from "./container-file";

/** The URL whose answer says GitLab's API is up: GITLAB_READINESS_URL, or https://<web host>/api/v4/version. */
export const readinessUrl = (env: Environment, vars: NodeJS.ProcessEnv = process.env): string =>
  vars.GITLAB_READINESS_URL || `https://${hostNames(env).web}/api/v4/version`;

/** One look at GitLab: whether its API answers, and what it answered. */
export interface Probe {
  readonly up: boolean;
  /** What was seen, for a person: an HTTP status or the connection error. */
  readonly detail: string;
  /** The token was sent and refused: waiting will not help. */
  readonly refused?: boolean;
}

/**
 * Asks GitLab's version endpoint. With a token, only 200 means up (and 401 that the token is
 * refused); without one, 401 also does: Rails answered, so GitLab is running behind the proxy.
 */
export async function probeGitLab(url: string, token?: string, timeoutMs = 10_000): Promise<Probe> {
  try {
    const response = await fetch(url, { headers: token ? { "PRIVATE-TOKEN": token } : {}, signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await response.body?.cancel();
    const detail = `HTTP ${response.status}`;
    if (response.status === 200) return { up: true, detail };
    if (response.status === 401) return token ? { up: false, detail: `${detail}: the automation token was refused`, refused: true } : { up: true, detail };
    return { up: false, detail };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { up: false, detail: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}

/**
 * The automation token from the GitLab container (docker), or why it could not be read:
 * `docker exec … cat` (any DOCKER_HOST, ssh:// included), or without a docker CLI the
 * Engine API on the unix socket (the pipeline's deploy jobs).
 */
export async function tokenFromContainer(container = GITLAB_CONTAINER_NAME): Promise<{ token?: string; problem?: string }> {
  const r = spawnSync(process.env.DOCKER ?? "docker", ["exec", container, "cat", AUTOMATION_TOKEN_CONTAINER_PATH], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") return tokenThroughEngine(container);
  const token = String(r.stdout ?? "").trim();
  if (r.status === 0 && token) return { token };
  const said = String(r.stderr ?? "")
    .trim()
    .split("\n")[0];
  return { problem: `docker exec ${container} cat ${AUTOMATION_TOKEN_CONTAINER_PATH}: ${said || `exit ${r.status}`}` };
}

async function tokenThroughEngine(container: string): Promise<{ token?: string; problem?: string }> {
  const socket = engineSocket();
  if (!socket)
    return { problem: `docker: not found on PATH, and DOCKER_HOST (${process.env.DOCKER_HOST}) is no unix socket to read the automation token through` };
  try {
    const token = (await readContainerFile(socket, container, AUTOMATION_TOKEN_CONTAINER_PATH)).trim();
    return token ? { token } : { problem: `${AUTOMATION_TOKEN_CONTAINER_PATH} in the container ${container} is empty` };
  } catch (error) {
    return { problem: `${AUTOMATION_TOKEN_CONTAINER_PATH} in the container ${container}, through ${socket}: ${(error as Error).message}` };
  }
}

/** Where Terraform's GitLab provider finds the token for this environment: GITLAB_TOKEN on docker, else the stack reads it itself. */
export async function providerEnvironment(env: Environment, vars: NodeJS.ProcessEnv = process.env): Promise<{ vars: NodeJS.ProcessEnv; problem?: string }> {
  if (env.platform !== "docker" || vars.GITLAB_TOKEN) return { vars: {} };
  const { token, problem } = await tokenFromContainer();
  return token ? { vars: { GITLAB_TOKEN: token } } : { vars: {}, ...(problem ? { problem } : {}) };
}

/** Whether the second stack can be planned now: GitLab answers, and (docker) the token is at hand. */
export async function gitlabReachable(env: Environment): Promise<{ vars: NodeJS.ProcessEnv; problem?: string }> {
  const access = await providerEnvironment(env);
  if (access.problem) return access;
  const probe = await probeGitLab(readinessUrl(env), access.vars.GITLAB_TOKEN ?? (env.platform === "docker" ? process.env.GITLAB_TOKEN : undefined));
  return probe.up ? access : { vars: {}, problem: `${readinessUrl(env)}: ${probe.detail}` };
}
