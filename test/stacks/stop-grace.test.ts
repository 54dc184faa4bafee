// A replaced container must get its stop signal and time to shut down cleanly. The docker
// provider's delete (kreuzwerker/docker v3.6.2, internal/provider/resource_docker_container_funcs.go,
// resourceDockerContainerDelete) stops the container with an explicit timeout of
// destroy_grace_seconds, or 0 when it is unset: that overrides the container's own
// stop_timeout, so without it every replacement is SIGTERM followed at once by SIGKILL
// (PostgreSQL, Gitaly and Redis killed mid-write on every GitLab upgrade).
//
// The synthesized settings are checked on every container, then exercised on a real engine:
// a stand-in container created with each container's generated stop signal and timeout,
// stopped exactly as the provider's delete stops it.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exampleStack, resources } from "../examples";
import { BUSYBOX_IMAGE, describeWithDockerEngine, type DockerEngine } from "../support/docker-engine";

const stack = exampleStack("homelab");
// The homelab's containers, both stacks' (the runners are homelab-gitlab's).
const containers = [...resources(stack, "docker_container"), ...resources(exampleStack("homelab-gitlab"), "docker_container")];
const byName = (name: string) => containers.find((c) => c.name === name);

/** The timeout resourceDockerContainerDelete passes to ContainerStop. */
function providerDeleteTimeout(container: { destroy_grace_seconds?: number }): number {
  return (container.destroy_grace_seconds ?? 0) > 0 ? (container.destroy_grace_seconds as number) : 0;
}

/** The signal Docker sends first: the container's stop_signal, or the image's (SIGTERM here). */
const stopSignal = (c: { stop_signal?: string }) => (c.stop_signal ?? "SIGTERM").replace(/^SIG/, "");

describe("stop grace of every homelab container", () => {
  it("gives every container a grace period on replacement at least as long as its own stop timeout", () => {
    expect(containers.length).toBeGreaterThan(5);
    for (const c of containers) {
      expect(c.destroy_grace_seconds, c.name).toBeGreaterThan(0);
      expect(c.stop_timeout, c.name).toBeGreaterThan(0);
      expect(c.destroy_grace_seconds, c.name).toBeGreaterThanOrEqual(c.stop_timeout);
    }
  });

  it("gives the containers that hold state time to write it out", () => {
    expect(providerDeleteTimeout(byName("gitlab"))).toBeGreaterThanOrEqual(120);
    expect(providerDeleteTimeout(byName("prometheus"))).toBeGreaterThanOrEqual(60);
    for (const name of ["grafana", "alertmanager", "gitlab-backup-scheduler"]) expect(providerDeleteTimeout(byName(name)), name).toBeGreaterThanOrEqual(30);
  });

  it("stops the runners gracefully: SIGQUIT lets running jobs finish within the grace period", () => {
    for (const name of ["gitlab-runner-build", "gitlab-runner-deploy"]) {
      expect(byName(name).stop_signal, name).toBe("SIGQUIT");
      expect(providerDeleteTimeout(byName(name)), name).toBeGreaterThanOrEqual(300);
    }
  });
});

/**
 * A stand-in for a container: PID 1 traps its stop signal, records it, takes `flushSeconds`
 * to "write its data", records a clean exit and exits 0. Killed instead, it leaves no record.
 */
function createStandIn(engine: DockerEngine, name: string, c: { stop_signal?: string; stop_timeout?: number }, flushSeconds: number): Promise<string> {
  const signal = stopSignal(c);
  const script = [
    `trap 'echo "$(date +%s) ${signal}" > /out/signal; sleep ${flushSeconds}; echo clean > /out/exit; exit 0' ${signal}`,
    "echo started > /out/started",
    "while :; do sleep 1 & wait $!; done",
  ].join("\n");
  const out = join(engine.scratch, name);
  mkdirSync(out, { mode: 0o777 });
  return engine.dockerOkAsync([
    "run",
    "-d",
    "--network",
    "none",
    "--name",
    name,
    "--stop-signal",
    `SIG${signal}`,
    ...(c.stop_timeout ? ["--stop-timeout", String(c.stop_timeout)] : []),
    "-v",
    `${out}:/out`,
    BUSYBOX_IMAGE,
    "sh",
    "-c",
    script,
  ]);
}

async function waitFor(engine: DockerEngine, name: string, file: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!existsSync(join(engine.scratch, name, file))) {
    if (Date.now() > deadline) throw new Error(`${name} never wrote /out/${file}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function outcome(engine: DockerEngine, name: string) {
  const read = (file: string) => {
    const path = join(engine.scratch, name, file);
    return existsSync(path) ? readFileSync(path, "utf8").trim() : "";
  };
  return {
    exitCode: Number(engine.dockerOk(["inspect", "--format", "{{.State.ExitCode}}", name])),
    signal: read("signal").split(" ")[1] ?? "",
    clean: read("exit") === "clean",
  };
}

/** What a stand-in is made of: containers alike in these are the same experiment. */
const settings = (c: { stop_signal?: string; stop_timeout?: number; destroy_grace_seconds?: number }) =>
  `grace-${stopSignal(c)}-${c.stop_timeout ?? "none"}-${providerDeleteTimeout(c)}`.toLowerCase();

// The two tests use stand-ins of their own names, and mostly wait (container starts, the
// flush, stops): they run at the same time.
describeWithDockerEngine("stop grace against a real Docker engine", (engine) => {
  it.concurrent("a container stopped as the provider's delete stops it gets its stop signal and time to finish", async () => {
    // One stand-in per distinct signal, stop timeout and delete timeout (each needs 1 s, less
    // than any grace, to flush); all stopped at once, as Terraform deletes containers in parallel.
    const standIns = new Map(containers.map((c) => [settings(c), c]));
    expect(standIns.size).toBeGreaterThan(1);
    await Promise.all([...standIns].map(([name, c]) => createStandIn(engine(), name, c, 1)));
    await Promise.all([...standIns.keys()].map((name) => waitFor(engine(), name, "started")));
    await Promise.all([...standIns].map(([name, c]) => engine().dockerOkAsync(["stop", "-t", String(providerDeleteTimeout(c)), name])));
    for (const c of containers) {
      expect(outcome(engine(), settings(c)), c.name).toEqual({ exitCode: 0, signal: stopSignal(c), clean: true });
    }
  }, 120_000);

  it.concurrent("without destroy_grace_seconds the same container is killed before it can finish (the provider passes 0)", async () => {
    const name = "grace-unset";
    await createStandIn(engine(), name, { stop_timeout: 120 }, 1);
    await waitFor(engine(), name, "started");
    await engine().dockerOkAsync(["stop", "-t", String(providerDeleteTimeout({})), name]);
    const o = outcome(engine(), name);
    expect(o.clean).toBe(false);
    expect(o.exitCode).toBe(137);
  }, 60_000);
});
