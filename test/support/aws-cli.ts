// The real AWS CLI (Debian's awscli, installed by scripts/install-validators.sh) for host
// script tests, warm (test/support/warm-aws-cli.ts). Always by full path: another `aws` (a
// pyenv shim, a v1 CLI) may come first on PATH. Outside CI a machine without it skips those tests with a message; with CI=true a
// missing CLI is a failure, like any missing validator.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import type { AwsRecorder } from "./aws-recorder";
import { REAL_AWS_CLI } from "./warm-aws-cli";

export { REAL_AWS_CLI };

/**
 * The `aws` to run: /usr/bin/aws itself, warm (test/setup/warm-aws-cli.ts starts one server
 * per run and provides its client; the same program, without re-importing it per call).
 */
export const AWS_CLI = inject("awsCli") ?? REAL_AWS_CLI;

/** Run the real-CLI tests: the CLI is there, or CI demands it (and the tests then fail loudly). */
export const runAwsCliTests = existsSync(REAL_AWS_CLI) || process.env.CI === "true";
if (!runAwsCliTests) console.warn(`skipping host script tests against the real AWS CLI: ${REAL_AWS_CLI} is missing (run scripts/install-validators.sh)`);

/**
 * Environment for the CLI: dummy credentials, no config or credentials files, no instance
 * metadata, and the scripts' seam AWS_ENDPOINT_URL pointing at the recorder.
 */
export function awsCliEnv(recorder: AwsRecorder): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: recorder.url,
    AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
    AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    AWS_CONFIG_FILE: "/nonexistent/aws-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
    // One attempt: a test that makes the recorder fail a call sees exactly the script's retries.
    AWS_MAX_ATTEMPTS: "1",
    AWS_RETRY_MODE: "standard",
  };
}

/** A directory holding only `aws` → the (warm) real CLI, to put first on a script's PATH. */
export function awsCliBinDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "aws-cli-"));
  mkdirSync(dir, { recursive: true });
  symlinkSync(AWS_CLI, join(dir, "aws"));
  return dir;
}

export interface ScriptRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr interleaved as they arrived: what a console (or cloud-init's log) shows. */
  readonly output: string;
}

/** Collects a child's stdout and stderr as text, each apart and both interleaved. */
function collectOutput(child: ChildProcess): () => Omit<ScriptRun, "status"> {
  let stdout = "";
  let stderr = "";
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    output += d;
  });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    output += d;
  });
  return () => ({ stdout, stderr, output });
}

/**
 * A script's environment: `env`, with the run's TMPDIR (test/setup/run-tmpdir.ts) unless `env`
 * names its own. Without one, a script's mktemp writes to /tmp, which no run removes.
 */
function scriptEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return { TMPDIR: tmpdir(), ...env };
}

/**
 * Runs a host script with bash, asynchronously: the recorder that answers its AWS CLI calls
 * lives in this process, so a synchronous spawn would wait on itself.
 */
export function runScript(script: string, args: readonly string[], env: Readonly<Record<string, string>>): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script, ...args], { env: scriptEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    const collected = collectOutput(child);
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, ...collected() }));
  });
}

/** A host script left running by startScript(). */
export interface RunningScript {
  /** stdout and stderr so far, interleaved. */
  output(): string;
  alive(): boolean;
  /** Its exit status, once it exits. */
  readonly exited: Promise<number | null>;
  /** SIGTERM to its whole process group (bash and its sleep/curl children), then its exit. */
  stop(): Promise<void>;
}

/** Starts a host script with bash in a process group of its own, for a daemon or a script a test signals. */
export function startScript(script: string, args: readonly string[], env: Readonly<Record<string, string>>): RunningScript {
  const child = spawn("bash", [script, ...args], { env: scriptEnv(env), detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const collected = collectOutput(child);
  let done = false;
  child.on("exit", () => (done = true));
  // On 'close', not 'exit': 'exit' can come before the last of the script's output is read,
  // and a test reads output() once this resolves (seen under load: an empty output).
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    output: () => collected().output,
    alive: () => !done,
    exited,
    stop: async () => {
      if (!done) {
        try {
          process.kill(-child.pid!, "SIGTERM");
        } catch {
          // already gone
        }
      }
      // Exited or not, its output is whole only once 'close' has come.
      await exited;
    },
  };
}
