// Starts and stops the warm AWS CLI (warm-aws-cli.py): the real /usr/bin/aws, imported once and
// forked per call, behind a tiny `aws` client (warm-aws-cli-client.c, compiled per run). A cold
// call costs ~0.4 CPU-seconds of imports; a warm one ~0.02. Output, exit status and stdin
// behave as /usr/bin/aws's (test/support/warm-aws-cli.test.ts compares them byte for byte).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/** Debian's AWS CLI (scripts/install-validators.sh), which the warm one runs. */
export const REAL_AWS_CLI = "/usr/bin/aws";
/** The interpreter of /usr/bin/aws (Debian's awscli lives in its dist-packages). */
const PYTHON = "/usr/bin/python3";
const SERVER = join(import.meta.dirname, "warm-aws-cli.py");
const CLIENT = join(import.meta.dirname, "warm-aws-cli-client.c");
/** The same client in Python, where nothing compiles C: ~5 ms more CPU per call. */
const PYTHON_CLIENT = join(import.meta.dirname, "warm-aws-cli-client.py");

/** A running warm AWS CLI server and its client. */
export interface WarmAwsCli {
  /** The client: an executable to use wherever /usr/bin/aws would be. */
  readonly cli: string;
  /** The Python client of the same server (the client where nothing compiles C). */
  readonly pythonCli: string;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts the server and resolves once its socket accepts calls (the warm-up continues behind
 * it; early calls wait). Rejects when the server cannot start; a failed warm-up is the
 * server's to report (calls then run the cold /usr/bin/aws, or fail with CI=true). Without a
 * working C compiler the client is the Python one, with a warning; with CI=true that rejects.
 */
export async function startWarmAwsCli(): Promise<WarmAwsCli> {
  const dir = mkdtempSync(join(tmpdir(), "warm-aws-"));
  const socket = join(dir, "socket");
  // Called `aws` as well: the CLI names itself after its argv[0] in its messages.
  mkdirSync(join(dir, "python"));
  const pythonCli = join(dir, "python", "aws");
  writeFileSync(pythonCli, readFileSync(PYTHON_CLIENT, "utf8").replace(/^SOCKET = None$/m, `SOCKET = ${JSON.stringify(socket)}`));
  chmodSync(pythonCli, 0o755);
  // Its stdin is a lifeline: it exits when this process does. Its environment is the one a
  // test's `aws` most often has (no locale, no PYTHON* settings), with this user's home.
  const server = spawn(PYTHON, [SERVER, socket], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? homedir(), PYTHONDONTWRITEBYTECODE: "1", ...(process.env.CI ? { CI: process.env.CI } : {}) },
  });
  const stop = async () => {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    if (server.exitCode === null && server.signalCode === null) {
      server.stdin?.end();
      server.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The compiler runs while the server starts.
    const [cli] = await Promise.all([clientFor(socket, join(dir, "aws"), pythonCli), listening(server)]);
    return { cli, pythonCli, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The C client for socket, compiled to path; else (not with CI=true) the Python one, with a warning. */
async function clientFor(socket: string, path: string, pythonCli: string): Promise<string> {
  try {
    // JSON's string escapes are C's for any path a temporary directory has.
    await promisify(execFile)("cc", ["-O2", `-DWARM_AWS_SOCKET=${JSON.stringify(socket)}`, "-o", path, CLIENT]);
    return path;
  } catch (e) {
    const message = `the warm AWS CLI's C client did not compile (${(e as Error).message.trim()})`;
    if (process.env.CI === "true") throw new Error(`${message}: scripts/install-validators.sh installs gcc and libc6-dev`);
    console.warn(`${message}: its Python client runs instead, ~5 ms more CPU per call`);
    return pythonCli;
  }
}

function listening(server: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("the warm AWS CLI server did not start listening within 10 s")), 10_000);
    server.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    server.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the warm AWS CLI server exited (${signal ?? code}) before listening`));
    });
    server.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (out.includes("listening\n")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
