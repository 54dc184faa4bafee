// A stand-in for GitLab's API (./fake-gitlab-server.cjs): answers each request to
// /api/v4/version with the next status of a list (the last repeats), and records whether each
// request carried a PRIVATE-TOKEN and which. In its own process for commands run as child
// processes, which the test waits for synchronously (that would block a server in the test's
// own); in the test's process for commands run there (cliInProcess), which reach it with fetch.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SERVER = join(__dirname, "fake-gitlab-server.cjs");

export interface FakeGitLab {
  /** The readiness URL to hand the CLI (GITLAB_READINESS_URL). */
  readonly url: string;
  /** The requests so far: path, the PRIVATE-TOKEN sent (or null) and the status answered. */
  requests(): { path: string; token: string | null; status: number }[];
  stop(): void;
}

/** Starts the fake API; `statuses` are answered in order, the last one repeatedly. */
export async function startFakeGitLab(statuses: readonly number[], where: "own process" | "this process" = "own process"): Promise<FakeGitLab> {
  const log = join(mkdtempSync(join(tmpdir(), "fake-gitlab-")), "requests.jsonl");
  const { port, stop } = where === "own process" ? await inOwnProcess(statuses, log) : await inThisProcess(statuses, log);
  return {
    url: `http://127.0.0.1:${port}/api/v4/version`,
    requests: () =>
      existsSync(log)
        ? readFileSync(log, "utf8")
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l))
        : [],
    stop,
  };
}

async function inOwnProcess(statuses: readonly number[], log: string): Promise<{ port: string; stop: () => void }> {
  const child: ChildProcess = spawn(process.execPath, [SERVER], {
    env: { ...process.env, FAKE_GITLAB_STATUSES: JSON.stringify(statuses), FAKE_GITLAB_LOG: log },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (chunk) => resolve(String(chunk).trim()));
    child.once("exit", (code) => reject(new Error(`fake GitLab exited with ${code}`)));
  });
  return { port, stop: () => child.kill() };
}

async function inThisProcess(statuses: readonly number[], log: string): Promise<{ port: string; stop: () => void }> {
  const { serve } = createRequire(__filename)(SERVER) as { serve: (statuses: readonly number[], log: string) => Promise<Server> };
  const server = await serve(statuses, log);
  return {
    port: String((server.address() as { port: number }).port),
    stop: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
