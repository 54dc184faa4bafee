// A fake instance metadata service for host script tests: IMDSv2 as EC2 serves it (a token
// PUT with a TTL, token-checked GETs, 401 for a missing or expired token), plus the runner's
// Prometheus /metrics, under the test's control. Scripts reach it through their IMDS_URL
// (and METRICS_URL) seams; every request is recorded.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const FAKE_INSTANCE_ID = "i-0123456789abcdef0";

export interface MetadataRequest {
  readonly method: string;
  readonly path: string;
  readonly token?: string;
  readonly ttl?: string;
  readonly status: number;
  readonly at: number;
}

/** IMDSv2 as EC2 serves it, plus the runner's /metrics, under the test's control. */
export class FakeMetadata {
  readonly requests: MetadataRequest[] = [];
  /** token → expiry (ms). */
  readonly tokens = new Map<string, number>();
  /** What instance-id answers. */
  instanceId = FAKE_INSTANCE_ID;
  spotAction: string | null = null;
  lifecycleState = "InService";
  /** When set, every request gets this status. */
  failWith: number | null = null;
  /** Running jobs reported by /metrics; they finish `jobsFinishAfterMs` after the first scrape. */
  jobs = 0;
  jobsFinishAfterMs = Number.POSITIVE_INFINITY;
  private firstScrape: number | undefined;
  private issued = 0;
  private server: Server | undefined;
  url = "";

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  gets(path: string): MetadataRequest[] {
    return this.requests.filter((r) => r.method === "GET" && r.path === `/latest/meta-data/${path}`);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const now = Date.now();
    const token = req.headers["x-aws-ec2-metadata-token"] as string | undefined;
    const ttl = req.headers["x-aws-ec2-metadata-token-ttl-seconds"] as string | undefined;
    const reply = (status: number, body = "") => {
      this.requests.push({ method: req.method ?? "", path: req.url ?? "", ...(token ? { token } : {}), ...(ttl ? { ttl } : {}), status, at: now });
      res.writeHead(status, { "content-type": "text/plain" }).end(body);
    };
    if (this.failWith !== null) {
      reply(this.failWith, "Internal Server Error");
      return;
    }
    if (req.url === "/metrics") {
      reply(200, this.metrics(now));
      return;
    }
    if (req.method === "PUT" && req.url === "/latest/api/token") {
      const seconds = Number(ttl);
      if (!ttl || !Number.isInteger(seconds) || seconds < 1 || seconds > 21600) {
        reply(400, "missing or invalid TTL");
        return;
      }
      const issued = `token-${++this.issued}`;
      this.tokens.set(issued, now + seconds * 1000);
      reply(200, issued);
      return;
    }
    if (req.method !== "GET" || !req.url?.startsWith("/latest/meta-data/")) {
      reply(405);
      return;
    }
    const expiry = token ? this.tokens.get(token) : undefined;
    if (expiry === undefined || expiry < now) {
      reply(401, "Unauthorized");
      return;
    }
    const path = req.url.slice("/latest/meta-data/".length);
    if (path === "instance-id") {
      reply(200, this.instanceId);
      return;
    }
    if (path === "spot/instance-action") {
      if (this.spotAction) reply(200, this.spotAction);
      else reply(404, "Not Found");
      return;
    }
    if (path === "autoscaling/target-lifecycle-state") {
      reply(200, this.lifecycleState);
      return;
    }
    reply(404, "Not Found");
  }

  private metrics(now: number): string {
    this.firstScrape ??= now;
    const running = now - this.firstScrape >= this.jobsFinishAfterMs ? 0 : this.jobs;
    const lines = ["# HELP gitlab_runner_jobs The current number of running builds.", "# TYPE gitlab_runner_jobs gauge"];
    for (let i = 0; i < running; i++) {
      lines.push(`gitlab_runner_jobs{executor_stage="docker_run",runner="abc${i}",stage="step_script",state="running",system_id="s_1"} 1`);
    }
    lines.push('gitlab_runner_jobs_total{runner="abc0",system_id="s_1"} 42', "gitlab_runner_concurrent 2");
    return `${lines.join("\n")}\n`;
  }
}
