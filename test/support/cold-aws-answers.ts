// /usr/bin/aws's answers for the warm CLI's comparison (warm-aws-cli.test.ts), kept between
// runs by everything an answer depends on: a cold call costs ~0.7 CPU-seconds of imports, and
// the same call to the same installed CLI gives the same bytes (the comparison itself relies on
// that: the warm CLI must give them exactly). The key is the call (arguments, environment,
// stdin), the recorder's state and source, and the machine's part (thisMachine): every
// installed Debian package's version (/var/lib/dpkg/status: the CLI, its Python, their
// libraries), the time zone, and what else the CLI reads (~/.aws, pip's and the user's Python
// packages). The recorder's address, which changes per run, is kept as a placeholder. An answer
// holds what the CLI printed, its exit status and the requests it made (the recorder does not
// see a kept answer's requests). Without dpkg's status nothing is kept: every call runs, as does
// a call whose environment names files the CLI reads (HOME, PYTHONPATH).
//
// In the cache directory (cli/bundle-cache.cjs's), under cold-aws-answers/:
//   <key>.json    one call's answer; the KEEP most recently used, and any used within the hour, are kept
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import type { AwsRecorder } from "./aws-recorder";
import { evictLeastRecentlyUsed, testCacheDir } from "./kept-entries";

/** Bump when what an answer holds, or how a call is made, changes. */
const FORMAT = 1;
/** Answers kept (the least recently used go first, none used within the hour): the comparison keeps about a dozen per change. */
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

/** Where the CLI's answers can come from beyond the call, all in the key. */
export interface Machine {
  /** dpkg's record of the installed packages, by content. */
  readonly dpkgStatus: string;
  /** The time zone the CLI prints dates in, by content. */
  readonly localtime: string;
  /** Directories the CLI or its Python reads when present, by every file's path, size and mtime. */
  readonly trees: readonly string[];
}

/**
 * This machine: besides Debian's packages, the CLI reads ~/.aws (aliases, models) of the
 * passwd home, as the calls set no HOME, and Python the user's site-packages and
 * /usr/local's dist-packages (pip's installs, .pth files).
 */
export function thisMachine(): Machine {
  const homes = [...new Set([userInfo().homedir, homedir()])];
  return {
    dpkgStatus: DPKG_STATUS,
    localtime: "/etc/localtime",
    trees: [
      ...homes.flatMap((h) => [join(h, ".aws"), ...pythonDirs(join(h, ".local", "lib"), "site-packages")]),
      ...pythonDirs("/usr/local/lib", "dist-packages"),
    ],
  };
}

/** `<base>/python3.<n>/<leaf>` for each Python 3 under `base`. */
function pythonDirs(base: string, leaf: string): string[] {
  try {
    return readdirSync(base)
      .filter((name) => /^python3\.\d+$/.test(name))
      .map((name) => join(base, name, leaf));
  } catch {
    return [];
  }
}

/** Every file under `dir` (links not followed) by path, size and mtime; "absent" when there is no `dir`. */
function treeFingerprint(dir: string): string {
  const lines: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(d, name);
      const stats = lstatSync(path, { throwIfNoEntry: false });
      if (stats === undefined) continue;
      lines.push(`${path}\0${stats.size}\0${stats.mtimeMs}`);
      if (stats.isDirectory()) walk(path);
    }
  };
  if (!existsSync(dir)) return `${dir}\0absent`;
  walk(dir);
  return `${dir}\0${lines.join("\n")}`;
}

export class ColdAwsAnswers {
  /** The machine's part of every key; undefined without dpkg's status: nothing is kept then. */
  private readonly installed: string | undefined;
  /** The recorder's fault and groupInstances as it started, which answers are kept for. */
  private readonly defaults: readonly unknown[];

  constructor(
    private readonly recorder: AwsRecorder,
    readonly dir = testCacheDir("cold-aws-answers"),
    machine: Machine = thisMachine(),
  ) {
    this.installed = existsSync(machine.dpkgStatus)
      ? sha256(
          [
            sha256(readFileSync(machine.dpkgStatus)),
            existsSync(machine.localtime) ? sha256(readFileSync(machine.localtime)) : "no localtime",
            ...machine.trees.map(treeFingerprint),
          ].join("\0"),
        )
      : undefined;
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

  /** The answer kept for `key` (from key()), with this run's recorder address; undefined when none is. */
  kept(key: string | undefined): Answer | undefined {
    if (key === undefined) return undefined;
    const file = join(this.dir, `${key}.json`);
    try {
      const answer = JSON.parse(readFileSync(file, "utf8")) as Answer;
      const now = new Date();
      utimesSync(file, now, now);
      return this.show(answer);
    } catch {
      return undefined; // none, or evicted by another run just now
    }
  }

  /** Keeps `answer` for `key`: the caller keeps only an answer it has checked. */
  keep(key: string | undefined, answer: Answer): void {
    if (key === undefined) return;
    mkdirSync(this.dir, { recursive: true });
    const temporary = join(this.dir, `.${key}.${process.pid}.tmp`);
    writeFileSync(temporary, JSON.stringify(this.hide(answer)));
    renameSync(temporary, join(this.dir, `${key}.json`));
    evictLeastRecentlyUsed(this.dir, KEEP);
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
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
