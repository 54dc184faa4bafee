// Runs the real Spot interruption watcher and termination handler against a fake instance
// metadata service (IMDSv2: token PUT with TTL, token-checked GETs) that also serves the
// runner's Prometheus metrics, with fake gitlab-runner and systemctl commands that log what
// they are asked to do, and the real AWS CLI sending its API requests to a local recorder
// (the CLI checks every option and parameter; the tests assert on the request that arrives).
// Intervals and caps are shortened through the scripts' env.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, type TestContext } from "vitest";
import { findTool } from "../../scripts/verify/tools";
import { shippedScript } from "../helpers";
import { AWS_CLI, awsCliEnv, type RunningScript, runAwsCliTests, startScript } from "../support/aws-cli";
import { AwsRecorder } from "../support/aws-recorder";
import { FakeMetadata, FAKE_INSTANCE_ID as INSTANCE_ID } from "../support/fake-imds";

// Run as shipped in the user data (comments stripped); the commented source is what is read.
const WATCHER = shippedScript("spot-interruption-watcher.sh");
const HANDLER = shippedScript("runner-termination-handler.sh");
const ASG = "staging-gitlab-runner";

interface Action {
  readonly at: number;
  readonly argv: string;
}

/**
 * A scratch dir with fake gitlab-runner and systemctl that log their argv with a timestamp,
 * and the recorder the real AWS CLI talks to; actions() merges both, in time order, an API
 * request rendered as `API <service> <Action> <Param>=<value>…` (parameters sorted).
 */
class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), "spot-"));
  readonly actionsLog = join(this.dir, "actions.log");
  readonly stateDir = join(this.dir, "state");
  /** The handler as the watcher runs it: an executable (the checkout's .sh may not be one). */
  readonly handler = join(this.dir, "runner-termination-handler");

  constructor(
    readonly recorder: AwsRecorder,
    failing: string[] = [],
  ) {
    for (const name of ["gitlab-runner", "systemctl"]) {
      const exit = failing.some((f) => f === name || f.startsWith(`${name} `)) ? failing.find((f) => f.startsWith(name)) : undefined;
      const failCase = exit === name ? "exit 1" : exit ? `case "$*" in ${exit.slice(name.length + 1)}*) exit 1 ;; esac` : "";
      writeFileSync(join(this.dir, name), `#!/bin/sh\nprintf '%s %s\\n' "$(date +%s%3N)" "${name} $*" >> "${this.actionsLog}"\n${failCase}\nexit 0\n`);
      chmodSync(join(this.dir, name), 0o755);
    }
    writeFileSync(this.handler, `#!/bin/sh\nexec bash "${HANDLER}" "$@"\n`);
    chmodSync(this.handler, 0o755);
  }

  actions(): Action[] {
    const commands = existsSync(this.actionsLog)
      ? readFileSync(this.actionsLog, "utf8")
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((line) => ({ at: Number(line.slice(0, line.indexOf(" "))), argv: line.slice(line.indexOf(" ") + 1) }))
      : [];
    const api = this.recorder.requests.map((r) => {
      const params = Object.entries(r.params)
        .filter(([k]) => k !== "Action" && k !== "Version")
        .map(([k, v]) => `${k}=${String(v)}`)
        .sort();
      return { at: r.at, argv: [`API ${r.service} ${r.action}`, ...params].join(" ") };
    });
    return [...commands, ...api].sort((a, b) => a.at - b.at);
  }

  env(imds: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: `${this.dir}:/usr/bin:/bin`,
      ...awsCliEnv(this.recorder),
      AWS: AWS_CLI,
      IMDS_URL: imds,
      METRICS_URL: `${imds}/metrics`,
      STATE_DIR: this.stateDir,
      HANDLER: this.handler,
      ASG_NAME: ASG,
      AWS_REGION: "eu-west-3",
      JOB_POLL_SECONDS: "1",
      ...extra,
    };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A `sleep` command for the front of a script's PATH that logs the duration asked for and
 * sleeps `factor` of it: a script's production intervals, checked in a fraction of the time.
 */
function fastClock(parent: string, factor: number): { dir: string; requested(): string[] } {
  const dir = join(parent, "fast-clock");
  const log = join(dir, "sleeps.log");
  mkdirSync(dir);
  writeFileSync(join(dir, "sleep"), `#!/bin/sh\nprintf '%s\\n' "$1" >> "${log}"\nexec /bin/sleep "$(awk -v s="$1" 'BEGIN { print s * ${factor} }')"\n`);
  chmodSync(join(dir, "sleep"), 0o755);
  return { dir, requested: () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : []) };
}

/**
 * The test's own fake IMDS, recorder and sandbox (the tests run concurrently: nothing is
 * shared), removed when it finishes, after the scripts it started (`start`) are stopped:
 * vitest runs a test's onTestFinished callbacks last registered first, each awaited.
 */
async function setup(t: TestContext, failing: string[] = []) {
  const imds = await new FakeMetadata().start();
  t.onTestFinished(() => imds.stop());
  const recorder = await new AwsRecorder().start();
  t.onTestFinished(() => recorder.stop());
  const box = new Sandbox(recorder, failing);
  t.onTestFinished(() => box.remove());
  /** The script running in a process group of its own, stopped after the test. */
  const start = (script: string, env: Record<string, string>, args: string[] = []): RunningScript => {
    const running = startScript(script, args, env);
    t.onTestFinished(() => running.stop());
    return running;
  };
  return { imds, box, start };
}

/** CompleteLifecycleAction as the Auto Scaling API receives it (parameters sorted). */
const COMPLETE = `API autoscaling CompleteLifecycleAction AutoScalingGroupName=${ASG} InstanceId=${INSTANCE_ID} LifecycleActionResult=CONTINUE LifecycleHookName=termination-wait`;
const SEQUENCE = ["systemctl kill --kill-who=main --signal=SIGQUIT gitlab-runner", "gitlab-runner stop", "gitlab-runner unregister --all-runners", COMPLETE];

describe.skipIf(!runAwsCliTests)("spot-interruption-watcher + runner-termination-handler", { concurrent: true }, () => {
  it("on scale-in: stops taking jobs, waits for them, stops, unregisters, completes the hook with CONTINUE — once", async (t) => {
    const { imds, box, start } = await setup(t);
    imds.jobs = 2;
    // Done before the handler's second scrape (it polls the metrics every JOB_POLL_SECONDS=1).
    imds.jobsFinishAfterMs = 500;
    const watcher = start(WATCHER, box.env(imds.url, { POLL_INTERVAL: "0.2" }));
    await waitFor(() => imds.gets("autoscaling/target-lifecycle-state").length >= 2, 5000, "the watcher to poll");
    expect(box.actions()).toEqual([]);

    imds.lifecycleState = "Terminated";
    await waitFor(() => box.actions().some((a) => a.argv.startsWith("API ")), 10_000, "complete-lifecycle-action");
    const actions = box.actions();
    expect(actions.map((a) => a.argv)).toEqual(SEQUENCE);

    // The wait sits between "stop taking jobs" and "stop": the metrics were polled until the jobs finished.
    const [quit, stop] = [actions[0]!.at, actions[1]!.at];
    const scrapes = imds.requests.filter((r) => r.path === "/metrics").map((r) => r.at);
    expect(scrapes.length).toBeGreaterThanOrEqual(2);
    expect(scrapes.every((t) => t >= quit && t <= stop)).toBe(true);
    expect(stop - scrapes[0]!).toBeGreaterThanOrEqual(imds.jobsFinishAfterMs);
    expect(watcher.output()).toContain("termination detected (scale-in)");

    // It keeps seeing Terminated, and even restarted it does not run the handler again.
    const polls = imds.gets("autoscaling/target-lifecycle-state").length;
    await waitFor(() => imds.gets("autoscaling/target-lifecycle-state").length >= polls + 3, 5000, "more polls");
    await watcher.stop();
    const restarted = start(WATCHER, box.env(imds.url, { POLL_INTERVAL: "0.2" }));
    const before = imds.gets("autoscaling/target-lifecycle-state").length;
    await waitFor(() => imds.gets("autoscaling/target-lifecycle-state").length >= before + 3, 5000, "the restarted watcher to poll");
    expect(restarted.alive()).toBe(true);
    expect(box.actions()).toHaveLength(SEQUENCE.length);
    expect(existsSync(join(box.stateDir, "termination-handled"))).toBe(true);
  });

  it("on a Spot interruption notice: the same sequence, with the shorter Spot wait", async (t) => {
    const { imds, box, start } = await setup(t);
    imds.jobs = 1; // never finishes
    const watcher = start(WATCHER, box.env(imds.url, { POLL_INTERVAL: "0.2", SPOT_JOB_WAIT_SECONDS: "1", JOB_WAIT_SECONDS: "30" }));
    await waitFor(() => imds.gets("spot/instance-action").length >= 1, 5000, "the watcher to poll");
    imds.spotAction = '{"action": "terminate", "time": "2026-05-01T10:00:00Z"}';
    await waitFor(() => box.actions().length === SEQUENCE.length, 8000, "the handler");
    const actions = box.actions();
    expect(actions.map((a) => a.argv)).toEqual(SEQUENCE);
    const waited = actions[1]!.at - actions[0]!.at;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(3000);
    expect(watcher.output()).toContain('termination detected (spot-interruption: {"action": "terminate"');
  });

  it("polls every 5 s by default (on a clock ten times faster)", async (t) => {
    const source = readFileSync(WATCHER, "utf8");
    expect(source).toContain('POLL_INTERVAL="${POLL_INTERVAL:-5}"');
    const { imds, box, start } = await setup(t);
    const clock = fastClock(box.dir, 0.1);
    const env = { ...box.env(imds.url), PATH: `${clock.dir}:${box.env(imds.url).PATH}` };
    delete (env as Record<string, string | undefined>).POLL_INTERVAL;
    start(WATCHER, env);
    await waitFor(() => imds.gets("spot/instance-action").length >= 4, 5000, "four polls");
    // The watcher asked for 5 s between polls, every time, and got them (0.5 s on this clock).
    const polls = imds.gets("spot/instance-action").length;
    expect(clock.requested().slice(0, polls - 1)).toEqual(Array(polls - 1).fill("5"));
    const at = imds.gets("spot/instance-action").map((r) => r.at);
    for (let i = 1; i < at.length; i++) {
      expect(at[i]! - at[i - 1]!).toBeGreaterThan(480);
      expect(at[i]! - at[i - 1]!).toBeLessThan(1500);
    }
  });

  it("polls at the interval it is given, on the real clock (half a second)", async (t) => {
    const { imds, box, start } = await setup(t);
    start(WATCHER, box.env(imds.url, { POLL_INTERVAL: "0.5" }));
    await waitFor(() => imds.gets("spot/instance-action").length >= 4, 4000, "four polls");
    const at = imds.gets("spot/instance-action").map((r) => r.at);
    for (let i = 1; i < at.length; i++) {
      expect(at[i]! - at[i - 1]!).toBeGreaterThan(480);
      expect(at[i]! - at[i - 1]!).toBeLessThan(1100);
    }
  });

  it("keeps its token for half the TTL by bash's own clock, and stamps its log in UTC: no date process", async (t) => {
    const { imds, box, start } = await setup(t);
    // Only what the watcher runs between notices (and bash, which runs it): no `date` to fork.
    const bin = join(box.dir, "no-date");
    mkdirSync(bin);
    for (const tool of ["bash", "curl", "sleep"]) symlinkSync(findTool(tool)!, join(bin, tool));
    const watcher = start(WATCHER, { ...box.env(imds.url, { POLL_INTERVAL: "0.2" }), PATH: bin, TZ: "Asia/Tokyo" });
    await waitFor(() => imds.gets("spot/instance-action").length >= 5, 5000, "five polls");
    // One token (TTL 600 s by default) for every poll, and nothing else said.
    expect(imds.requests.filter((r) => r.method === "PUT")).toHaveLength(1);
    const lines = watcher.output().trim().split("\n");
    expect(lines).toEqual([expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ spot-interruption-watcher: watching http:\S+ every 0\.2s$/)]);
    expect(Math.abs(Date.parse(lines[0]!.slice(0, 20)) - Date.now())).toBeLessThan(10_000);
  });

  it("uses IMDSv2 only: a TTL on every token request, a token on every read, tokens renewed", async (t) => {
    const { imds, box, start } = await setup(t);
    const watcher = start(WATCHER, box.env(imds.url, { POLL_INTERVAL: "0.2", TOKEN_TTL: "2" }));
    await waitFor(() => imds.requests.filter((r) => r.method === "PUT").length >= 3, 6000, "token renewals");

    // The service revokes every token: the next read gets 401 and the watcher takes a new token.
    imds.tokens.clear();
    const puts = imds.requests.filter((r) => r.method === "PUT").length;
    await waitFor(() => imds.requests.filter((r) => r.method === "PUT").length > puts, 3000, "a new token after a 401");
    await watcher.stop();

    const puts2 = imds.requests.filter((r) => r.method === "PUT");
    expect(puts2.every((r) => r.path === "/latest/api/token" && r.ttl === "2" && r.status === 200)).toBe(true);
    const gets = imds.requests.filter((r) => r.method === "GET");
    expect(gets.length).toBeGreaterThan(5);
    expect(gets.every((r) => r.token?.startsWith("token-"))).toBe(true);
    expect(new Set(gets.map((r) => r.token)).size).toBeGreaterThanOrEqual(3);
    expect(gets.filter((r) => r.status === 401).length).toBeLessThanOrEqual(2);
    expect(box.actions()).toEqual([]);
  });

  it("keeps polling through HTTP 500s without taking them for a termination, and recovers", async (t) => {
    const { imds, box, start } = await setup(t);
    imds.failWith = 500;
    const watcher = start(WATCHER, box.env(imds.url, { POLL_INTERVAL: "0.2" }));
    await waitFor(() => imds.requests.length >= 8, 5000, "requests during the outage");
    expect(watcher.alive()).toBe(true);
    expect(box.actions()).toEqual([]);
    expect(watcher.output()).toMatch(/no IMDSv2 token|HTTP 500/);
    // Logged once, not on every poll.
    expect(
      watcher
        .output()
        .split("\n")
        .filter((l) => /no IMDSv2 token/.test(l)),
    ).toHaveLength(1);

    imds.failWith = null;
    imds.spotAction = '{"action": "terminate", "time": "2026-05-01T10:00:00Z"}';
    await waitFor(() => box.actions().length === SEQUENCE.length, 8000, "the handler after recovery");
    expect(watcher.output()).toContain("metadata service answers again");
  });

  it("keeps polling when the metadata service refuses connections", async (t) => {
    const { imds, box, start } = await setup(t);
    const port = Number(new URL(imds.url).port);
    await imds.stop(); // nothing listens there now
    const watcher = start(WATCHER, box.env(`http://127.0.0.1:${port}`, { POLL_INTERVAL: "0.2" }));
    await sleep(1500);
    expect(watcher.alive()).toBe(true);
    expect(box.actions()).toEqual([]);
    expect(watcher.output()).toContain("no IMDSv2 token");
    expect(existsSync(join(box.stateDir, "termination-handled"))).toBe(false);

    // The service comes back on the same address and announces a scale-in.
    await imds.start(port);
    imds.lifecycleState = "Terminated";
    await waitFor(() => box.actions().length === SEQUENCE.length, 8000, "the handler once the service is back");
    expect(box.actions().map((a) => a.argv)).toEqual(SEQUENCE);
  });
});

describe.skipIf(!runAwsCliTests)("runner-termination-handler", { concurrent: true }, () => {
  it("waits at most 5 minutes by default for running jobs", () => {
    const source = readFileSync(HANDLER, "utf8");
    expect(source).toContain('JOB_WAIT_SECONDS="${JOB_WAIT_SECONDS:-300}"');
    expect(source).toContain('LIFECYCLE_HOOK_NAME="${LIFECYCLE_HOOK_NAME:-termination-wait}"');
    expect(source).toContain('METRICS_URL="${METRICS_URL:-http://127.0.0.1:9252/metrics}"');
  });

  it("gives up on jobs that never finish after the cap and goes on", async (t) => {
    const { imds, box, start } = await setup(t);
    imds.jobs = 2;
    const handler = start(HANDLER, box.env(imds.url, { JOB_WAIT_SECONDS: "1" }), ["scale-in"]);
    expect(await handler.exited).toBe(0);
    const actions = box.actions();
    expect(actions.map((a) => a.argv)).toEqual(SEQUENCE);
    const waited = actions[1]!.at - actions[0]!.at;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(2500);
    expect(handler.output()).toContain("2 job(s) running");
    expect(handler.output()).toContain("giving up waiting after 1s: 2 job(s) still running");
  });

  it("does not wait when the runner has no job, or has exited (nothing listens on its metrics port)", async (t) => {
    const { imds, box, start } = await setup(t);
    const idle = start(HANDLER, box.env(imds.url, { JOB_WAIT_SECONDS: "10" }));
    expect(await idle.exited).toBe(0);
    expect(idle.output()).toContain("no job running");

    const box2 = new Sandbox(await new AwsRecorder().start());
    t.onTestFinished(() => box2.recorder.stop());
    t.onTestFinished(() => box2.remove());
    const gone = start(HANDLER, { ...box2.env(imds.url, { JOB_WAIT_SECONDS: "10" }), METRICS_URL: "http://127.0.0.1:9/metrics" });
    expect(await gone.exited).toBe(0);
    const actions = box2.actions();
    expect(actions.map((a) => a.argv)).toEqual(SEQUENCE);
    expect(actions[1]!.at - actions[0]!.at).toBeLessThan(1000);
  });

  it("still completes the hook when unregistering fails, and reports the failure", async (t) => {
    const { imds, box, start } = await setup(t, ["gitlab-runner unregister"]);
    const handler = start(HANDLER, box.env(imds.url), ["scale-in"]);
    expect(await handler.exited).toBe(1);
    expect(box.actions().map((a) => a.argv)).toEqual(SEQUENCE);
    expect(handler.output()).toContain("FAILED (1): unregister this runner manager");
  });

  it("refuses to run without the group it must complete the hook of", async (t) => {
    const { imds, box, start } = await setup(t);
    const env = box.env(imds.url);
    delete (env as Record<string, string | undefined>).ASG_NAME;
    const handler = start(HANDLER, env);
    expect(await handler.exited).not.toBe(0);
    expect(handler.output()).toContain("ASG_NAME is not set");
    expect(box.actions()).toEqual([]);
  });
});
