// A private Docker engine for tests that need real Docker behaviour (what a prune removes,
// stop signals and grace periods, `docker exec` flows, firewall rules against real bridges).
// Each test file starts its own dockerd in a short temporary directory and stops it after:
//
//   dockerd --iptables=false --ip6tables=false --bridge=none --data-root T/data --exec-root T/exec
//           -H unix://T/d.sock --pidfile T/pid --storage-driver overlay2
//
// No image can be pulled here: the engine imports `local/busybox:1`, made from the host's
// static busybox (busybox-static) with its applets linked, so containers have a shell.
// Storage is overlay2 where the kernel and /tmp's filesystem allow it: vfs copies the image
// for every container created (twice, with its init layer), half the CPU of a container start.
// Containers run with `--network none`, except on an engine started with `{ netns: true }`:
// that one runs in a fresh network namespace of its own with Docker's iptables rules and
// default bridge enabled, so firewall rules can be exercised without touching the host's.
//
// Availability: dockerd, a docker client and a static busybox, as root. Outside CI a missing
// piece skips the suite with the reason; with CI=true it is a failure (.ci/run installs them
// through scripts/install-validators.sh).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { run } from "../../scripts/verify/tools";

const SBIN_PATH = `${process.env.PATH ?? ""}:/usr/local/sbin:/usr/sbin:/sbin`;
/** Where the host's static busybox lives (Debian's busybox-static). */
const BUSYBOX = "/bin/busybox";
export const BUSYBOX_IMAGE = "local/busybox:1";

export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function which(binary: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${binary}`], { encoding: "utf8", env: { ...process.env, PATH: SBIN_PATH } });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function isStaticBusybox(path: string): boolean {
  if (!existsSync(path)) return false;
  // A dynamically linked binary names its interpreter (ld-linux) in its first kilobytes.
  const head = readFileSync(path).subarray(0, 4096).toString("latin1");
  return !head.includes("ld-linux");
}

/** Why no private engine can start here, or undefined when one can. */
export function dockerEngineUnavailable(): string | undefined {
  const missing: string[] = [];
  if (!which("dockerd")) missing.push("dockerd (Debian package docker.io)");
  if (!which("docker")) missing.push("a docker client (docker.io)");
  if (!isStaticBusybox(BUSYBOX)) missing.push(`a static ${BUSYBOX} (busybox-static)`);
  if (process.getuid?.() !== 0) missing.push("root (dockerd needs it)");
  return missing.length ? `no private Docker engine: missing ${missing.join(", ")}; run scripts/install-validators.sh as root` : undefined;
}

/** Applet names of the host's busybox, for a userland that looks like the docker:*-cli image's. */
export function busyboxApplets(): string[] {
  const r = spawnSync(BUSYBOX, ["--list"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${BUSYBOX} --list failed: ${r.stderr}`);
  return r.stdout.split("\n").filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== "busybox");
}

/**
 * A directory of busybox applets plus the host's docker client: put it alone on PATH and a
 * script runs with the tools the platform's Alpine-based scheduler images give it.
 */
export function busyboxBin(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const applet of busyboxApplets()) {
    const link = join(dir, applet);
    if (!existsSync(link)) symlinkSync(BUSYBOX, link);
  }
  const docker = which("docker");
  if (docker && !existsSync(join(dir, "docker"))) symlinkSync(docker, join(dir, "docker"));
  return dir;
}

export interface DockerEngine {
  /** DOCKER_HOST of this engine, e.g. unix:///tmp/de-AbCd/d.sock. */
  readonly host: string;
  /** Path of its socket (to mount into containers that drive it). */
  readonly socket: string;
  /** A scratch directory beside the engine's, removed with it. */
  readonly scratch: string;
  /** The engine's network namespace, when started with { netns: true }. */
  readonly netns?: string;
  /** Runs the docker client against this engine. */
  docker(args: readonly string[], input?: string | Buffer): CommandResult;
  /** Like docker(), but throws with the output when the command fails; returns stdout trimmed. */
  dockerOk(args: readonly string[], input?: string | Buffer): string;
  /** Like docker(), without blocking this process: for commands that run at the same time as others. */
  dockerAsync(args: readonly string[]): Promise<CommandResult>;
  /** Like dockerOk(), without blocking this process: for commands that must run at the same time. */
  dockerOkAsync(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface EngineOptions {
  /** Run in a fresh network namespace with Docker's iptables rules and default bridge (docker0). @default false */
  readonly netns?: boolean;
}

/** overlay2 on the backing filesystems Docker supports it on, when the kernel has overlay; else vfs. */
function storageDriver(): "overlay2" | "vfs" {
  const kernel = existsSync("/proc/filesystems") && /\toverlay$/m.test(readFileSync("/proc/filesystems", "utf8"));
  const backing = spawnSync("stat", ["-f", "-c", "%T", "/tmp"], { encoding: "utf8" }).stdout.trim();
  return kernel && ["ext2/ext3", "xfs", "tmpfs"].includes(backing) ? "overlay2" : "vfs";
}

function makeBusyboxRoot(dir: string): void {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "busybox"), readFileSync(BUSYBOX));
  chmodSync(join(bin, "busybox"), 0o755);
  for (const applet of busyboxApplets()) {
    const link = join(bin, applet);
    if (!existsSync(link)) symlinkSync("busybox", link);
  }
  for (const d of ["etc", "tmp", "var/run", "usr/local/bin"]) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, "tmp"), 0o1777);
  writeFileSync(join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
  writeFileSync(join(dir, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
}

let imageTar: Buffer | undefined;

/** The busybox image's root as a tar, made once per process (test files share a worker's). */
function busyboxImageTar(): Buffer {
  if (imageTar) return imageTar;
  const dir = mkdtempSync(join(tmpdir(), "de-image-"));
  try {
    makeBusyboxRoot(dir);
    const tar = spawnSync("tar", ["-C", dir, "-c", "."], { maxBuffer: 64 * 1024 * 1024 });
    if (tar.status !== 0) throw new Error(`tar of the busybox root failed: ${tar.stderr}`);
    imageTar = tar.stdout;
    return imageTar;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

/** Whether process `pid` has exited: gone, or a zombie not reaped yet. */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? true;
  } catch {
    return true;
  }
}

/**
 * Resolves once dockerd has exited, or has logged that its shutdown is complete and its
 * containerd (`containerd`, the pid in its pidfile) has exited too: dockerd then only waits on a
 * dial to that containerd, which takes a second to fail.
 */
function shutDown(daemon: ChildProcess, containerd: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    void exited(daemon).then(resolve);
    if (containerd === undefined) return;
    const watch = async (chunk: Buffer) => {
      if (!chunk.toString().includes("Daemon shutdown complete")) return;
      while (!gone(containerd) && daemon.exitCode === null && daemon.signalCode === null) await sleep(20);
      resolve();
    };
    daemon.stdout?.on("data", watch);
    daemon.stderr?.on("data", watch);
  });
}

function containerdPid(root: string): number | undefined {
  const file = join(root, "exec", "containerd", "containerd.pid");
  const pid = existsSync(file) ? Number(readFileSync(file, "utf8").trim()) : Number.NaN;
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** A fresh network namespace named after the engine's directory, its loopback up. */
function addNetns(root: string, env: NodeJS.ProcessEnv): string {
  const netns = `gp-${root
    .slice(-6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "x")}`;
  const add = spawnSync("ip", ["netns", "add", netns], { encoding: "utf8", env });
  if (add.status !== 0) throw new Error(`ip netns add ${netns} failed: ${add.stderr}`);
  spawnSync("ip", ["-n", netns, "link", "set", "lo", "up"], { env });
  return netns;
}

/** dockerd's command line for an engine in `root`: inside `netns` with its bridge and iptables rules, or without either. */
function daemonCommand(root: string, host: string, netns: string | undefined): { command: string; args: string[] } {
  const dockerd = which("dockerd") as string;
  const daemonArgs = ["--data-root", join(root, "data"), "--exec-root", join(root, "exec"), "-H", host, "--pidfile", join(root, "pid")];
  daemonArgs.push("--storage-driver", storageDriver());
  // nsenter, not `ip netns exec`: the latter remounts /sys, hiding the cgroup mounts dockerd needs.
  if (netns) return { command: which("nsenter") as string, args: [`--net=/run/netns/${netns}`, dockerd, ...daemonArgs] };
  return { command: dockerd, args: [...daemonArgs, "--iptables=false", "--ip6tables=false", "--bridge=none"] };
}

/** Waits until dockerd answers, failing with its last output if it exits or takes over 60 s. */
async function answering(daemon: ChildProcess, docker: (a: readonly string[]) => CommandResult, host: string, tail: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (docker(["version", "--format", "{{.Server.Version}}"]).status !== 0) {
    if (daemon.exitCode !== null) throw new Error(`dockerd exited ${daemon.exitCode}:\n${tail()}`);
    if (Date.now() > deadline) throw new Error(`dockerd did not answer on ${host} within 60 s:\n${tail()}`);
    await sleep(200);
  }
}

interface DaemonFiles {
  readonly root: string;
  readonly netns: string | undefined;
  readonly output: Buffer[];
  readonly env: NodeJS.ProcessEnv;
}

/** Stops dockerd (SIGKILL once it only waits on its stopped containerd, or after 20 s), keeps its log, unmounts and removes what it left. */
async function stopDaemon(daemon: ChildProcess, docker: (a: readonly string[]) => CommandResult, { root, netns, output, env }: DaemonFiles): Promise<void> {
  if (daemon.exitCode === null && daemon.signalCode === null) {
    // dockerd stops running containers with their stop timeout (10 s for a `sleep` as PID 1,
    // which ignores SIGTERM): kill them first, nothing is left to test by then.
    const running = docker(["ps", "-q"]).stdout.split("\n").filter(Boolean);
    if (running.length) docker(["kill", ...running]);
    const done = shutDown(daemon, containerdPid(root));
    daemon.kill("SIGTERM");
    await Promise.race([done, sleep(20_000)]);
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill("SIGKILL");
      await exited(daemon);
    }
  }
  writeFileSync(join(root, "dockerd.log"), Buffer.concat(output));
  spawnSync("sh", ["-c", `grep " ${root}/" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l`], { env });
  rmSync(root, { recursive: true, force: true });
  if (netns) spawnSync("ip", ["netns", "delete", netns], { env });
}

export async function startDockerEngine(options: EngineOptions = {}): Promise<DockerEngine> {
  const unavailable = dockerEngineUnavailable();
  if (unavailable) throw new Error(unavailable);
  // Short: unix socket paths are limited to ~100 characters, and containerd's live below.
  const root = mkdtempSync("/tmp/de-");
  const socket = join(root, "d.sock");
  const host = `unix://${socket}`;
  const scratch = join(root, "scratch");
  mkdirSync(scratch);
  const client = which("docker") as string;
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: SBIN_PATH };
  delete env.DOCKER_HOST;
  delete env.DOCKER_CONTEXT;

  const netns = options.netns ? addNetns(root, env) : undefined;
  const { command, args } = daemonCommand(root, host, netns);
  const daemon = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: false });
  const output: Buffer[] = [];
  daemon.stdout?.on("data", (c: Buffer) => output.push(c));
  daemon.stderr?.on("data", (c: Buffer) => output.push(c));

  const docker = (a: readonly string[], input?: string | Buffer): CommandResult => {
    const r = spawnSync(client, ["-H", host, ...a], { encoding: "utf8", env, input, timeout: 120_000 });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  };
  const dockerOk = (a: readonly string[], input?: string | Buffer): string => {
    const r = docker(a, input);
    if (r.status !== 0) throw new Error(`docker ${a.join(" ")} exited ${r.status}:\n${r.stdout}${r.stderr}`);
    return r.stdout.trim();
  };

  const dockerAsync = async (a: readonly string[]): Promise<CommandResult> => {
    const r = await run(client, ["-H", host, ...a], { env });
    return { status: r.code, stdout: r.stdout, stderr: r.stderr };
  };
  const dockerOkAsync = async (a: readonly string[]): Promise<string> => {
    const r = await dockerAsync(a);
    if (r.status !== 0) throw new Error(`docker ${a.join(" ")} exited ${r.status}:\n${r.stdout}${r.stderr}`);
    return r.stdout.trim();
  };

  const stop = () => stopDaemon(daemon, docker, { root, netns, output, env });
  try {
    await answering(daemon, docker, host, () => Buffer.concat(output).toString().slice(-3000));
    dockerOk(["import", "-", BUSYBOX_IMAGE], busyboxImageTar());
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, socket, scratch, ...(netns ? { netns } : {}), docker, dockerOk, dockerAsync, dockerOkAsync, stop };
}

/**
 * A describe block with a private engine started before its tests and stopped after. Without
 * dockerd (and friends) it is skipped with the reason, except under CI=true, where that is a
 * failure: CI must run these.
 */
export function describeWithDockerEngine(name: string, body: (engine: () => DockerEngine) => void, options: EngineOptions = {}): void {
  const unavailable = dockerEngineUnavailable();
  if (unavailable) {
    if (process.env.CI === "true") {
      describe(name, () => {
        it("has a private Docker engine (required with CI=true)", () => {
          throw new Error(unavailable);
        });
      });
    } else {
      describe.skip(`${name} (skipped: ${unavailable})`, () => body(() => undefined as never));
    }
    return;
  }
  describe(name, () => {
    let engine: DockerEngine | undefined;
    beforeAll(async () => {
      engine = await startDockerEngine(options);
    }, 90_000);
    afterAll(async () => {
      await engine?.stop();
    }, 60_000);
    body(() => {
      if (!engine) throw new Error("the Docker engine did not start");
      return engine;
    });
  });
}
