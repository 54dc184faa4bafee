// The warm AWS CLI (warm-aws-cli.ts) is /usr/bin/aws, only cheaper to start: the same calls
// give the same bytes on stdout and stderr and the same exit status from both; what a call
// reads from its environment is read per call; calls run side by side; a killed client takes
// its call with it; a call it cannot make exactly (an interpreter setting) runs /usr/bin/aws.
// /usr/bin/aws's own answers are kept between runs by everything they depend on, the installed
// packages included (cold-aws-answers.ts): a fresh checkout, or a change to a call, the
// recorder or the machine, runs it again.
import { execFileSync, spawn } from "node:child_process";
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AWS_CLI, awsCliEnv, REAL_AWS_CLI, runAwsCliTests } from "./aws-cli";
import { AwsRecorder } from "./aws-recorder";
import { type Answer, ColdAwsAnswers, type SentRequest } from "./cold-aws-answers";

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one CLI call and collects its bytes (as latin1: byte for byte). `input` reaches its
 * stdin through a pipe, as in `printf … | aws …` (node's own stdin pipe is a socket, which
 * /dev/stdin cannot be opened on).
 */
function run(cli: string, args: readonly string[], env: Record<string, string>, input?: Buffer | string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child =
      input === undefined
        ? spawn(cli, args, { env, stdio: ["ignore", "pipe", "pipe"] })
        : spawn("bash", ["-c", 'cat | "$0" "$@"', cli, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("latin1").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("latin1").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    if (input !== undefined) child.stdin!.end(input);
  });
}

let recorder: AwsRecorder;
let env: Record<string, string>;
let coldAnswers: ColdAwsAnswers;
beforeAll(async () => {
  recorder = await new AwsRecorder().start();
  env = { PATH: "/usr/bin:/bin", ...awsCliEnv(recorder), AWS_REGION: "eu-west-3" };
  coldAnswers = new ColdAwsAnswers(recorder);
});
afterAll(() => recorder.stop());

/** A call's output and exit status, and the requests it made. */
interface Sent {
  readonly run: Run;
  readonly requests: readonly SentRequest[];
}

/**
 * Runs the call with the warm CLI, then with /usr/bin/aws: its answer kept from an earlier run
 * when the same call met the same recorder on the same machine (cold-aws-answers.ts). A cold
 * answer is kept only once the warm CLI gave the same: one that differs, a failure of the warm
 * CLI or a one-off of the cold one, is asked again on the next run.
 */
async function both(args: readonly string[], input?: Buffer | string, extraEnv: Record<string, string> = {}): Promise<{ warm: Sent; cold: Sent }> {
  const callEnv = { ...env, ...extraEnv };
  const sent = async (cli: string): Promise<Answer> => {
    const since = recorder.requests.length;
    const r = await run(cli, args, callEnv, input);
    return { ...r, requests: coldAnswers.requestsSince(since) };
  };
  const split = ({ requests, ...r }: Answer): Sent => ({ run: r, requests });
  const warm = split(await sent(AWS_CLI));
  const key = coldAnswers.key({ args, env: callEnv, input });
  const kept = coldAnswers.kept(key);
  const cold = split(kept ?? (await sent(REAL_AWS_CLI)));
  if (kept === undefined && isDeepStrictEqual(warm.run, cold.run)) coldAnswers.keep(key, { ...cold.run, requests: cold.requests });
  return { warm, cold };
}

/** The CLI's arguments for a call to `recorder` (this CLI predates AWS_ENDPOINT_URL: the scripts pass it). */
const at = (r: AwsRecorder, ...args: string[]) => ["--endpoint-url", r.url, ...args];

describe.skipIf(!runAwsCliTests)("the warm AWS CLI", () => {
  // Off CI a server that could not start leaves the cold CLI in place, with the setup's warning.
  it.skipIf(AWS_CLI === REAL_AWS_CLI && process.env.CI !== "true")("is what the host script tests run", () => {
    expect(AWS_CLI).not.toBe(REAL_AWS_CLI);
  });

  it.each([
    ["a JSON answer", ["@", "secretsmanager", "get-secret-value", "--secret-id", "warm/json"]],
    [
      "--query with --output text, not ASCII",
      ["@", "secretsmanager", "get-secret-value", "--secret-id", "warm/json", "--query", "SecretString", "--output", "text"],
    ],
    ["a query-protocol answer as a table", ["@", "ec2", "describe-images", "--owners", "self", "--output", "table"]],
    ["an API error (254)", ["@", "secretsmanager", "get-secret-value", "--secret-id", "warm/missing"]],
    [
      "a misspelt option (252)",
      ["@", "autoscaling", "set-instance-health", "--instance-id", "i-0123456789abcdef0", "--health-status", "Unhealthy", "--no-respect-grace-period"],
    ],
    ["a value the CLI cannot convert (255)", ["@", "cloudwatch", "put-metric-data", "--namespace", "N", "--metric-name", "M", "--value", "not-a-number"]],
    ["no command at all (252)", []],
    ["an endpoint nobody answers (255)", ["--endpoint-url", "http://127.0.0.1:9", "sts", "get-caller-identity"]],
    ["--version", ["--version"]],
  ])("gives the same stdout, stderr and exit status as /usr/bin/aws: %s", async (_name, args) => {
    recorder.secrets.set("warm/json", "glrt-é✓\tvalue");
    recorder.images = [{ imageId: "ami-0123456789abcdef0", name: "ubuntu-noble-24.04", creationDate: "2026-01-01T00:00:00.000Z" }];
    const { warm, cold } = await both(args[0] === "@" ? at(recorder, ...args.slice(1)) : args);
    expect(warm.run).toEqual(cold.run);
    expect(warm.requests.map((r) => [r.action, r.region])).toEqual(cold.requests.map((r) => [r.action, r.region]));
    expect(cold.run.status).toBe(
      {
        "an API error (254)": 254,
        "a misspelt option (252)": 252,
        "a value the CLI cannot convert (255)": 255,
        "no command at all (252)": 252,
        "an endpoint nobody answers (255)": 255,
      }[_name] ?? 0,
    );
  });

  it("reads stdin as /usr/bin/aws does: file:///dev/stdin and s3 cp -, byte for byte", async () => {
    const value = "token-from-stdin\nsecond line é\n";
    const secret = await both(
      at(
        recorder,
        "secretsmanager",
        "put-secret-value",
        "--secret-id",
        "warm/stdin",
        "--secret-string",
        "file:///dev/stdin",
        "--query",
        "Name",
        "--output",
        "text",
      ),
      value,
    );
    expect(secret.warm.run).toEqual(secret.cold.run);
    expect(secret.warm.run.status).toBe(0);
    const secretStrings = (s: Sent) => s.requests.filter((r) => r.action === "PutSecretValue").map((r) => r.params.SecretString);
    expect([secretStrings(secret.warm), secretStrings(secret.cold)]).toEqual([[value], [value]]);

    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 10, 13, 10, ...Buffer.from("end")]);
    const upload = await both(at(recorder, "s3", "cp", "-", "s3://bucket/warm/stdin.bin"), bytes);
    expect(upload.warm.run).toEqual(upload.cold.run);
    expect(upload.warm.run.status).toBe(0);
    const bodies = (s: Sent) => s.requests.filter((r) => r.action === "PutObject").map((r) => Buffer.from(r.body, "base64"));
    expect([bodies(upload.warm), bodies(upload.cold)]).toEqual([[bytes], [bytes]]);
  });

  it("reads its environment per call: region, credentials, retries (the session is made per call)", async () => {
    const other = await new AwsRecorder().start();
    try {
      other.failFirst("PutMetricData", 1, { code: "Throttling", message: "Rate exceeded", status: 400 });
      const put = (r: AwsRecorder, name: string, callEnv: Record<string, string>) =>
        run(AWS_CLI, at(r, "cloudwatch", "put-metric-data", "--namespace", "N", "--metric-name", name, "--value", "1"), callEnv);
      const first = await put(recorder, "first", env);
      const { AWS_REGION: _region, ...noRegion } = env;
      const second = await put(other, "second", {
        ...noRegion,
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "AKIAOTHEREXAMPLE0000",
        AWS_MAX_ATTEMPTS: "2",
      });
      expect([first, second].map((r) => [r.status, r.stderr])).toEqual([
        [0, ""],
        [0, ""],
      ]);
      const seen = (r: AwsRecorder) =>
        r
          .calls("PutMetricData")
          .map((c) => [c.params["MetricData.member.1.MetricName"], c.region, /Credential=(\w+)/.exec(String(c.headers.authorization))?.[1]]);
      expect(seen(recorder).at(-1)).toEqual(["first", "eu-west-3", "AKIAIOSFODNN7EXAMPLE"]);
      // Two attempts (AWS_MAX_ATTEMPTS=2): one throttled, the second answered.
      expect(seen(other)).toEqual(Array(2).fill(["second", "us-east-1", "AKIAOTHEREXAMPLE0000"]));
    } finally {
      await other.stop();
    }
  });

  it("reads a config file in another home directory, as /usr/bin/aws does", async () => {
    const home = mkdtempSync(join(tmpdir(), "warm-aws-home-"));
    try {
      mkdirSync(join(home, ".aws"));
      writeFileSync(join(home, ".aws", "config"), "[default]\nregion = ap-southeast-2\noutput = text\n");
      const { AWS_CONFIG_FILE: _unset, AWS_REGION: _region, ...rest } = env;
      const homeEnv = { ...rest, HOME: home };
      const warm = await run(AWS_CLI, ["configure", "get", "region"], homeEnv);
      expect(warm).toEqual(await run(REAL_AWS_CLI, ["configure", "get", "region"], homeEnv));
      expect(warm.stdout).toBe("ap-southeast-2\n");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("runs calls side by side, each with its own answer", async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `warm/concurrent-${i}`);
    for (const id of ids) recorder.secrets.set(id, `value of ${id}`);
    const runs = await Promise.all(
      ids.map((id) => run(AWS_CLI, at(recorder, "secretsmanager", "get-secret-value", "--secret-id", id, "--query", "SecretString", "--output", "text"), env)),
    );
    expect(runs).toEqual(ids.map((id) => ({ status: 0, stdout: `value of ${id}\n`, stderr: "" })));
  });

  it("ends a call whose client is killed (a script killed on a timeout leaves no CLI behind)", async () => {
    // s3 cp - waits on stdin: a FIFO this test holds open, so it never ends. The CLI process
    // holds the client's stdout: the pipe reaches its end (and the child its 'close') only
    // once that process is gone too.
    const dir = mkdtempSync(join(tmpdir(), "warm-aws-killed-"));
    execFileSync("mkfifo", [join(dir, "stdin")]);
    const stdin = openSync(join(dir, "stdin"), constants.O_RDWR);
    try {
      const child = spawn(AWS_CLI, at(recorder, "s3", "cp", "-", "s3://bucket/warm/killed"), { env, stdio: [stdin, "pipe", "ignore"] });
      child.stdout!.resume();
      writeSync(stdin, "partial");
      await new Promise((resolve) => setTimeout(resolve, 500));
      const closed = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 5_000);
        child.once("close", () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      child.kill("SIGKILL");
      expect(await closed).toBe(true);
      expect(recorder.calls("PutObject").filter((c) => c.params.Key === "warm/killed")).toEqual([]);
    } finally {
      closeSync(stdin);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaves to /usr/bin/aws a call with an interpreter setting it cannot reproduce (PYTHONPATH)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "warm-aws-pythonpath-"));
    try {
      writeFileSync(join(dir, "sitecustomize.py"), "import sys\nsys.stderr.write('sitecustomize ran\\n')\n");
      const { warm, cold } = await both(["--version"], undefined, { PYTHONPATH: dir });
      expect(warm.run).toEqual(cold.run);
      expect(warm.run.stderr).toBe("sitecustomize ran\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The client where nothing compiles C (warm-aws-cli.ts): the same protocol as the C client
  // the cases above prove equal to /usr/bin/aws, so each case here is compared with that one.
  const pythonCli = inject("awsCliPython");
  it.skipIf(pythonCli === undefined && process.env.CI !== "true")(
    "has a Python client that answers as the C one does: output, exit status, stdin",
    async () => {
      recorder.secrets.set("warm/python", "glrt-é✓\tvalue");
      const bytes = Buffer.from([0, 1, 0xff, 0x80, 10, ...Buffer.from("python")]);
      const cases: [readonly string[], Buffer | undefined, number][] = [
        [at(recorder, "secretsmanager", "get-secret-value", "--secret-id", "warm/python"), undefined, 0],
        [at(recorder, "secretsmanager", "get-secret-value", "--secret-id", "warm/missing"), undefined, 254],
        [["sts"], undefined, 252],
        [at(recorder, "s3", "cp", "-", "s3://bucket/warm/python.bin"), bytes, 0],
      ];
      for (const [args, input, status] of cases) {
        const python = await run(pythonCli!, args, env, input);
        expect(python).toEqual(await run(AWS_CLI, args, env, input));
        expect(python.status).toBe(status);
      }
      expect(
        recorder
          .calls("PutObject")
          .filter((c) => c.params.Key === "warm/python.bin")
          .map((c) => c.body),
      ).toEqual([bytes, bytes]);
    },
  );
});
