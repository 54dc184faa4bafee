// What a child process would have of its own, for an entry point called in the test's own
// process (test/support/run-app.ts's runAppInProcess, test/support/cli.ts's cliInProcess):
// its environment, its stdout and stderr, no terminal on stdin, the repository as working
// directory. Child processes it starts (terraform with stdio "inherit") write to this
// process's own descriptors, which nothing here captures.
import { isatty } from "node:tty";
import { REPO_ROOT } from "../examples";

export interface Captured {
  stdout: string;
  stderr: string;
}

export interface ProcessSwap {
  readonly captured: Captured;
  /** Records an error that escaped the entry point as Node prints it when a process dies of it; returns its exit code, 1. */
  crashed(error: unknown): number;
  /** Puts back what swapProcess replaced. */
  restore(): void;
}

/** Until restore(): process.env is `env`, writes to process.stdout and stderr are captured, stdin is no terminal, cwd is the repository. */
export function swapProcess(env: NodeJS.ProcessEnv): ProcessSwap {
  const saved = {
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout.write,
    stderr: process.stderr.write,
    // Read only when fd 0 is a terminal: reading process.stdin opens it.
    isTTY: isatty(0) ? Object.getOwnPropertyDescriptor(process.stdin, "isTTY") : undefined,
  };
  const captured: Captured = { stdout: "", stderr: "" };
  const capture = (stream: keyof Captured) =>
    ((chunk: string | Uint8Array) => {
      captured[stream] += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      return true;
    }) as typeof process.stdout.write;
  process.env = env;
  if (saved.cwd !== REPO_ROOT) process.chdir(REPO_ROOT);
  // A child process run by spawnSync gets a pipe: deploy must not take this process's stdin for a terminal to ask on.
  if (saved.isTTY) Object.defineProperty(process.stdin, "isTTY", { value: false, configurable: true, writable: true });
  process.stdout.write = capture("stdout");
  process.stderr.write = capture("stderr");
  return {
    captured,
    crashed(error) {
      captured.stderr += `${error instanceof Error ? (error.stack ?? String(error)) : String(error)}\n`;
      return 1;
    },
    restore() {
      process.stdout.write = saved.stdout;
      process.stderr.write = saved.stderr;
      if (saved.isTTY) Object.defineProperty(process.stdin, "isTTY", saved.isTTY);
      if (process.cwd() !== saved.cwd) process.chdir(saved.cwd);
      process.env = saved.env;
    },
  };
}
