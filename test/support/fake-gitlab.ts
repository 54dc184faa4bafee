// A stand-in for GitLab's API: answers each request to /api/v4/version with the next status of
// a list (the last repeats), and records whether each request carried a PRIVATE-TOKEN and which.
// It serves from the test's own process: commands run there (cliInProcess) reach it with fetch;
// child processes are waited for asynchronously (test/support/cli.ts's cliAsync, spawnCaptured),
// which leaves its event loop free to answer them.
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface FakeGitLab {
  /** The readiness URL to hand the CLI (GITLAB_READINESS_URL). */
  readonly url: string;
  /** The requests so far: path, the PRIVATE-TOKEN sent (or null) and the status answered. */
  requests(): { path: string; token: string | null; status: number }[];
  stop(): void;
}

/** Starts the fake API; `statuses` are answered in order, the last one repeatedly. */
export async function startFakeGitLab(statuses: readonly number[]): Promise<FakeGitLab> {
  const log = join(mkdtempSync(join(tmpdir(), "fake-gitlab-")), "requests.jsonl");
  const { port, stop } = await listen(statuses, log);
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

/** Listens on a free port of 127.0.0.1; appends what each request carried, and the status answered, to `log`. */
function serve(statuses: readonly number[], log: string): Promise<Server> {
  let n = 0;
  const server = createServer((req, res) => {
    const status = statuses[Math.min(n++, statuses.length - 1)]!;
    appendFileSync(log, `${JSON.stringify({ path: req.url, token: req.headers["private-token"] ?? null, status })}\n`);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(status === 200 ? '{"version":"18.5.1","revision":"x"}' : `{"message":"${status}"}`);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function listen(statuses: readonly number[], log: string): Promise<{ port: string; stop: () => void }> {
  const server = await serve(statuses, log);
  return {
    port: String((server.address() as { port: number }).port),
    stop: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
