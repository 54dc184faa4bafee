// What the homelab's periodic Docker cleanup removes and keeps, on a real Docker engine. The
// homelab host is shared: compose services stopped for maintenance, their volumes and their
// images are not the runners' to prune. Only what the runners created may go (containers and
// cache volumes labelled com.gitlab.gitlab-runner.managed=true), plus dangling images and
// build cache. The script is the one the homelab stack uploads into its cleanup scheduler,
// run with busybox's tools and the docker CLI, as in the docker:*-cli image.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { hostScript } from "../../userdata/host-scripts";
import { exampleStack, resources } from "../examples";
import { BUSYBOX_IMAGE, busyboxBin, describeWithDockerEngine, type DockerEngine } from "../support/docker-engine";

const stack = exampleStack("homelab");
const cleanup = resources(stack, "docker_container").find((c) => c.name === "docker-cleanup");
const uploaded = (path: string) => unescapeTemplate(cleanup.upload.find((u: any) => u.file === path).content as string);
const crontab = uploaded("/etc/crontabs/root");
const scriptPath = /^\S+ \S+ \S+ \S+ \S+ (\/\S+)$/m.exec(crontab)?.[1] as string;

const RUNNER = ["--label", "com.gitlab.gitlab-runner.managed=true"];

/** A distinct image (its own content), so it is not the one every test container uses. */
async function importImage(engine: DockerEngine, tag: string, marker: string): Promise<string> {
  const dir = join(engine.scratch, `img-${marker}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "marker"), marker);
  const tar = spawnSync("tar", ["-C", dir, "-cf", `${dir}.tar`, "."]);
  if (tar.status !== 0) throw new Error(String(tar.stderr));
  // From a file rather than stdin: asynchronous, so the other objects are created meanwhile.
  return engine.dockerOkAsync(["import", `${dir}.tar`, tag]);
}

function runCleanup(engine: DockerEngine, script: string, env: Record<string, string>) {
  const bin = busyboxBin(join(engine.scratch, "bin"));
  const file = join(engine.scratch, `cleanup-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, script);
  return spawnSync(join(bin, "sh"), [file], { encoding: "utf8", env: { PATH: bin, DOCKER_HOST: engine.host, ...env } });
}

const names = (engine: DockerEngine, kind: "container" | "volume", format: string) =>
  engine
    .dockerOk([kind, "ls", ...(kind === "container" ? ["-a"] : []), "--format", format])
    .split("\n")
    .filter(Boolean)
    .sort();

/**
 * The shared host's objects. Independent ones are created at the same time (each mostly waits
 * on dockerd): the volumes first, as the containers that mount them must find them labelled.
 */
async function createHost(engine: DockerEngine) {
  const d = engine.dockerOkAsync;
  await Promise.all([
    // Runner leftovers: an unused cache volume; and the cache volume of a job still running.
    d(["volume", "create", ...RUNNER, "--label", "com.gitlab.gitlab-runner.type=cache", "runner-abc-project-1-concurrent-0-cache-unused"]),
    d(["volume", "create", ...RUNNER, "--label", "com.gitlab.gitlab-runner.type=cache", "runner-abc-project-2-concurrent-0-cache-busy"]),
    // A compose service's volume, and another project's idle volume.
    d(["volume", "create", "--label", "com.docker.compose.project=home", "--label", "com.docker.compose.volume=db-data", "home_db-data"]),
    d(["volume", "create", "--label", "com.docker.compose.project=home", "--label", "com.docker.compose.volume=media", "home_media"]),
  ]);
  const [jobImage, dangling] = await Promise.all([
    // Images: one a job pulled (tagged, unused now), and one left dangling by a newer pull of its tag.
    importImage(engine, "local/job-image:1", "job"),
    importImage(engine, "local/app:1", "app-old").then(async (old) => {
      await importImage(engine, "local/app:1", "app-new");
      return old;
    }),
    // Runner leftovers: a finished job container.
    d(["run", "--name", "runner-job-done", ...RUNNER, "--label", "com.gitlab.gitlab-runner.type=build", "--network", "none", BUSYBOX_IMAGE, "true"]),
    // The job still running, its cache volume in use.
    d([
      "run",
      "-d",
      "--name",
      "runner-job-running",
      ...RUNNER,
      "--network",
      "none",
      "-v",
      "runner-abc-project-2-concurrent-0-cache-busy:/cache",
      BUSYBOX_IMAGE,
      "sleep",
      "600",
    ]),
    // The compose service, stopped for maintenance.
    d([
      "run",
      "--name",
      "home-db-1",
      "--label",
      "com.docker.compose.project=home",
      "--label",
      "com.docker.compose.service=db",
      "--network",
      "none",
      "-v",
      "home_db-data:/data",
      BUSYBOX_IMAGE,
      "true",
    ]),
    // A platform container that is stopped (e.g. during a restore).
    d(["run", "--name", "gitlab-backup-scheduler", "--label", "gitlab-platform.keep=true", "--network", "none", BUSYBOX_IMAGE, "true"]),
  ]);
  return { jobImage, dangling };
}

/** Docker compares creation times with an `until` cutoff to the second: lets the current second pass. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1100 - (Date.now() % 1000)));

// One engine, one shared host: the homelab's cleanup runs on it first, then the broad prune on
// what that kept.
describeWithDockerEngine("Docker cleanup of a shared host, on a real engine", (engine) => {
  let images: Awaited<ReturnType<typeof createHost>>;
  beforeAll(async () => {
    images = await createHost(engine());
    // Every age limit at zero below: anything old enough by age alone would go.
    await nextSecond();
  }, 120_000);

  describe("the homelab's Docker cleanup", () => {
    let result: ReturnType<typeof runCleanup>;
    beforeAll(() => {
      const env = Object.fromEntries((cleanup.env as string[]).map((e) => e.split("=", 2) as [string, string]));
      result = runCleanup(engine(), uploaded(scriptPath), { ...env, CLEANUP_OLDER_THAN: "0s", CLEANUP_CACHE_OLDER_THAN: "0s" });
    }, 120_000);

    it("runs cleanly", () => {
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    });

    it("removes the runners' finished job containers and unused cache volumes", () => {
      expect(names(engine(), "container", "{{.Names}}")).not.toContain("runner-job-done");
      expect(names(engine(), "volume", "{{.Name}}")).not.toContain("runner-abc-project-1-concurrent-0-cache-unused");
    });

    it("keeps a running job and the cache volume it uses", () => {
      expect(names(engine(), "container", "{{.Names}}")).toContain("runner-job-running");
      expect(names(engine(), "volume", "{{.Name}}")).toContain("runner-abc-project-2-concurrent-0-cache-busy");
    });

    it("keeps a stopped compose service, its volume and other projects' idle volumes", () => {
      expect(names(engine(), "container", "{{.Names}}")).toEqual(expect.arrayContaining(["home-db-1", "gitlab-backup-scheduler"]));
      expect(names(engine(), "volume", "{{.Name}}")).toEqual(expect.arrayContaining(["home_db-data", "home_media"]));
    });

    it("keeps tagged images (the job and helper images runners reuse) and removes dangling ones", () => {
      const ids = engine().dockerOk(["image", "ls", "-q", "--no-trunc"]).split("\n");
      expect(ids).toContain(images.jobImage);
      expect(ids).not.toContain(images.dangling);
    });
  });

  describe("the broad prune of dedicated runner hosts (the reference AWS installation), on a shared host", () => {
    it("would delete a stopped compose service and its data: it is for the AWS fleet only", () => {
      // There still, whether the homelab's cleanup ran before or not.
      expect(names(engine(), "container", "{{.Names}}")).toContain("home-db-1");
      expect(names(engine(), "volume", "{{.Name}}")).toContain("home_db-data");
      const r = runCleanup(engine(), hostScript("docker-cleanup.sh"), { CLEANUP_OLDER_THAN: "0s" });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      expect(names(engine(), "container", "{{.Names}}")).not.toContain("home-db-1");
      expect(names(engine(), "volume", "{{.Name}}")).not.toContain("home_db-data");
      expect(cleanup.upload.map((u: any) => unescapeTemplate(u.content))).not.toContain(hostScript("docker-cleanup.sh"));
    }, 120_000);
  });
});
