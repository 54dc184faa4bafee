// /usr/bin/aws's answers for the warm CLI's comparison (warm-aws-cli.test.ts), kept between
// runs by everything an answer depends on: a cold call costs ~0.7 CPU-seconds of imports, and
// the same call to the same installed CLI gives the same bytes (the comparison itself relies on
// that: the warm CLI must give them exactly). The key is the call (arguments, environment,
// stdin), the recorder's state and source, and every installed Debian package's version
// (/var/lib/dpkg/status: the CLI, its Python, their libraries); the recorder's address, which
// changes per run, is kept as a placeholder. An answer holds what the CLI printed, its exit
// status and the requests it made. Without dpkg's status nothing is kept: every call runs, as
// does a call whose environment names files the CLI reads (HOME, PYTHONPATH).
//
// In the cache directory (cli/bundle-cache.cjs's), under cold-aws-answers/:
//   <key>.json    one call's answer; the KEEP most recently used are kept
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { AwsRecorder } from "./aws-recorder";

const REPO_ROOT = join(__dirname, "..", "..");
const { cacheDir } = createRequire(__filename)("../../cli/bundle-cache.cjs") as { cacheDir: (root: string) => string };

/** Bump when what an answer holds, or how a call is made, changes. */
const FORMAT = 1;
const KEEP = 64;
const DPKG_STATUS = "/var/lib/dpkg/status";
const RECORDER_SOURCE = join(__dirname, "aws-recorder.ts");
const PLACEHOLDER = "http://recorder.invalid";
/** Variables naming files the CLI or its interpreter reads. */
const FILES_READ = /^(HOME|PYTHON\w*|AWS_DATA_PATH|AWS_CA_BUNDLE)$/;

/** A request the CLI made, as the comparison reads it. */
export interface SentRequest {
  readonly action: string;
  readonly region: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** The body, base64: bytes survive the JSON file. */
  readonly body: string;
}

export interface Answer {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly requests: readonly SentRequest[];
}

export interface Call {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly input?: Buffer | string;
}

export class ColdAwsAnswers {
  /** Undefined where the installed packages cannot be read: nothing is kept then. */
  private readonly installed: string | undefined;
  /** The recorder's fault and groupInstances as it started, which answers are kept for. */
  private readonly defaults: readonly unknown[];

  constructor(
    private readonly recorder: AwsRecorder,
    readonly dir = join(cacheDir(REPO_ROOT), "cold-aws-answers"),
    dpkgStatus = DPKG_STATUS,
  ) {
    this.installed = existsSync(dpkgStatus) ? sha256(readFileSync(dpkgStatus)) : undefined;
    // The recorder answers from its secrets and images alone as long as no test replaced its
    // fault or groupInstances functions, which no key could show.
    this.defaults = [recorder.fault, recorder.groupInstances];
  }

  /** The key of `call` against the recorder as it is now, or undefined when it cannot be kept. */
  key(call: Call): string | undefined {
    if (this.installed === undefined) return undefined;
    // Files these name (a home directory's .aws, a sitecustomize) are inputs no key shows.
    if (Object.keys(call.env).some((name) => FILES_READ.test(name))) return undefined;
    if (this.recorder.fault !== this.defaults[0] || this.recorder.groupInstances !== this.defaults[1]) {
      throw new Error("cold AWS CLI answers are kept by the recorder's secrets and images: use another recorder for calls that set fault or groupInstances");
    }
    const state = { secrets: [...this.recorder.secrets].sort(), images: this.recorder.images };
    const input = call.input === undefined ? null : Buffer.from(call.input).toString("base64");
    return sha256(
      JSON.stringify([
        FORMAT,
        this.installed,
        sha256(readFileSync(RECORDER_SOURCE)),
        this.hide(call.args),
        this.hide(Object.entries(call.env).sort()),
        input,
        state,
      ]),
    ).slice(0, 32);
  }

  /** The kept answer to `call`, else `run`'s, then kept. */
  async answer(call: Call, run: () => Promise<Answer>): Promise<Answer> {
    const key = this.key(call);
    const file = key === undefined ? undefined : join(this.dir, `${key}.json`);
    if (file !== undefined && existsSync(file)) {
      const now = new Date();
      utimesSync(file, now, now);
      return this.show(JSON.parse(readFileSync(file, "utf8")) as Answer);
    }
    const answer = await run();
    if (file !== undefined) {
      mkdirSync(this.dir, { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(this.hide(answer)));
      renameSync(temporary, file);
      this.evict();
    }
    return answer;
  }

  /** The requests the recorder received since it had received `since`, as an answer holds them. */
  requestsSince(since: number): SentRequest[] {
    return this.recorder.requests.slice(since).map((r) => ({ action: r.action, region: r.region, params: r.params, body: r.body.toString("base64") }));
  }

  /** `value` with the recorder's address replaced by the placeholder (in every string it holds). */
  private hide<T>(value: T): T {
    return JSON.parse(JSON.stringify(value).replaceAll(this.recorder.url, PLACEHOLDER)) as T;
  }

  /** The reverse of hide, for this run's recorder. */
  private show(answer: Answer): Answer {
    return JSON.parse(JSON.stringify(answer).replaceAll(PLACEHOLDER, this.recorder.url)) as Answer;
  }

  private evict() {
    const files = readdirSync(this.dir).map((name) => ({ path: join(this.dir, name), used: statSync(join(this.dir, name)).mtimeMs }));
    for (const f of files.sort((a, b) => b.used - a.used).slice(KEEP)) rmSync(f.path, { force: true });
  }
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
