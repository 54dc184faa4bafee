// A stand-in for GitLab's API in its own process (the commands under test run synchronously
// in child processes, which would block a server in the test's own): answers each request to
// /api/v4/version with the next status of a list (the last repeats), and records whether
// each request carried a PRIVATE-TOKEN and which.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SERVER = `
const http = require("node:http");
const fs = require("node:fs");
const statuses = JSON.parse(process.env.FAKE_GITLAB_STATUSES);
let n = 0;
http.createServer((req, res) => {
  const status = statuses[Math.min(n++, statuses.length - 1)];
  fs.appendFileSync(process.env.FAKE_GITLAB_LOG, JSON.stringify({ path: req.url, token: req.headers["private-token"] ?? null, status }) + "\\n");
  res.writeHead(status, { "content-type": "application/json" });
  res.end(status === 200 ? '{"version":"18.5.1","revision":"x"}' : '{"message":"' + status + '"}');
}).listen(0, "127.0.0.1", function () { process.stdout.write(String(this.address().port) + "\\n"); });
`;

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
  const child: ChildProcess = spawn(process.execPath, ["-e", SERVER], {
    env: { ...process.env, FAKE_GITLAB_STATUSES: JSON.stringify(statuses), FAKE_GITLAB_LOG: log },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (chunk) => resolve(String(chunk).trim()));
    child.once("exit", (code) => reject(new Error(`fake GitLab exited with ${code}`)));
  });
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
    stop: () => {
      child.kill();
    },
  };
}
