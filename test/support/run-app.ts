// Runs the app as cdktf does (cdktf.json's `node cli/run.cjs app`, the bundled app, cwd the
// project root), or from its TypeScript sources (`node --require tsx/cjs main.ts`;
// test/cli/bundle.test.ts keeps the two equal), as a child process, asynchronously (runs can
// overlap). runAppInProcess calls the same entry point (cli/app.ts's
// runApp, which main.ts and the bundle's `app` command call) in the test's own process: the
// many-cases tests use it, and keep a handful of child-process runs for what only a process
// shows (the exit code, what Node itself prints).
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runApp as appEntryPoint } from "../../cli/app";
import { CONFIG_DIR, REPO_ROOT } from "../helpers";
import { swapProcess } from "./in-process";

export interface AppRun {
  /** Exit code, or null when the process was killed by a signal. */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit. */
  readonly ms: number;
}

/** A fresh scratch directory holding `config/` with the examples; `outdir` is not created. */
export interface Scratch {
  readonly dir: string;
  readonly configDir: string;
  readonly outdir: string;
}

export const EXAMPLES = ["cluster.yaml", "homelab.yaml", "k3s-homelab.yaml", "production.yaml", "staging.yaml"] as const;

export function scratchWithExamples(prefix: string): Scratch {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const configDir = join(dir, "config");
  mkdirSync(configDir);
  for (const f of EXAMPLES) cpSync(join(CONFIG_DIR, f), join(configDir, f));
  return { dir, configDir, outdir: join(dir, "cdktf.out") };
}

/** The app as cdktf runs it, or from the TypeScript sources. */
const APP_ARGS = { bundle: ["cli/run.cjs", "app"], sources: ["--require", "tsx/cjs", "main.ts"] } as const;

/** The app in the project root with GITLAB_CONFIG_DIR and CDKTF_OUTDIR set. */
export function runApp(configDir: string, outdir: string, timeoutMs = 60_000, from: keyof typeof APP_ARGS = "bundle"): Promise<AppRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, GITLAB_CONFIG_DIR: configDir, CDKTF_OUTDIR: outdir };
  delete env.GITLAB_ENVIRONMENTS;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...APP_ARGS[from]], {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => stdout.push(c));
    child.stderr.on("data", (c: Buffer) => stderr.push(c));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({
        status,
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        ms: performance.now() - started,
      });
    });
  });
}

/**
 * cli/app.ts's runApp in this process, with GITLAB_CONFIG_DIR and CDKTF_OUTDIR set (and
 * `extra`, e.g. GITLAB_ENVIRONMENTS) in its process.env, its stdout and stderr captured
 * (./in-process.ts). An error it lets escape (a bug: the process would die with a
 * stack trace) comes back as Node would print it, exit 1, so the same assertions catch it.
 */
export function runAppInProcess(configDir: string, outdir: string, extra: NodeJS.ProcessEnv = {}): AppRun {
  const env: NodeJS.ProcessEnv = { ...process.env, GITLAB_CONFIG_DIR: configDir, CDKTF_OUTDIR: outdir };
  delete env.GITLAB_ENVIRONMENTS;
  delete env.CDKTF_CONTEXT_JSON;
  Object.assign(env, extra);
  const swap = swapProcess(env);
  const started = performance.now();
  let status: number;
  try {
    status = appEntryPoint(env);
  } catch (error) {
    status = swap.crashed(error);
  } finally {
    swap.restore();
  }
  return { status, signal: null, ...swap.captured, ms: performance.now() - started };
}

/** A Node stack frame, an uncaught error's name prefix, or Node's internals: never shown to users. */
export const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$/m;
export const NODE_ERROR_PREFIX = /^\s*(?:[A-Z][A-Za-z]*)?Error(?: \[[A-Z_]+\])?:/m;
export const NODE_INTERNAL = /node:internal/;
