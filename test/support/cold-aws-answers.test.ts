// /usr/bin/aws's answers are kept by everything they depend on (cold-aws-answers.ts): each
// input gives a new key, a kept answer comes back with this run's recorder address, and calls
// no key can describe always run. The runs here are stand-ins: what is kept is checked, not the CLI.
import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsRecorder } from "./aws-recorder";
import { type Answer, type Call, ColdAwsAnswers } from "./cold-aws-answers";

let recorder: AwsRecorder;
let other: AwsRecorder;
beforeAll(async () => {
  recorder = await new AwsRecorder().start();
  other = await new AwsRecorder().start();
});
afterAll(async () => {
  await recorder.stop();
  await other.stop();
});

function dpkgStatus(text = "Package: awscli\nVersion: 2.9.19-1\n"): string {
  const file = join(mkdtempSync(join(tmpdir(), "dpkg-status-")), "status");
  writeFileSync(file, text);
  return file;
}

/** A stand-in for /usr/bin/aws that counts its runs and prints the address it was given. */
function counting(r: AwsRecorder) {
  let runs = 0;
  const run = async (): Promise<Answer> => {
    runs++;
    return {
      status: 0,
      stdout: `asked ${r.url}\n`,
      stderr: "",
      requests: [{ action: "GetSecretValue", region: "eu-west-3", params: { endpoint: r.url }, body: "" }],
    };
  };
  return { run, runs: () => runs };
}

/** Where `answers` keeps the answer to `c`. */
const answersFile = (answers: ColdAwsAnswers, c: Call) => join(answers.dir, `${answers.key(c)}.json`);

const call = (r: AwsRecorder, extra: Partial<Call> = {}): Call => ({
  args: ["--endpoint-url", r.url, "secretsmanager", "get-secret-value", "--secret-id", "kept"],
  env: { AWS_REGION: "eu-west-3", AWS_ENDPOINT_URL: r.url },
  ...extra,
});

describe("cold AWS CLI answers", () => {
  it("are kept: the same call runs once, and comes back with this run's recorder address", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cold-aws-"));
    const status = dpkgStatus();
    const first = counting(recorder);
    const answer = await new ColdAwsAnswers(recorder, dir, status).answer(call(recorder), first.run);
    expect(answer.stdout).toBe(`asked ${recorder.url}\n`);
    expect(await new ColdAwsAnswers(recorder, dir, status).answer(call(recorder), first.run)).toEqual(answer);
    expect(first.runs()).toBe(1);

    // Another run's recorder listens elsewhere: the same call, the same answer, at its address.
    const second = counting(other);
    const again = await new ColdAwsAnswers(other, dir, status).answer(call(other), second.run);
    expect(second.runs()).toBe(0);
    expect(again.stdout).toBe(`asked ${other.url}\n`);
    expect(again.requests[0]!.params).toEqual({ endpoint: other.url });
  });

  it("have a new key for other arguments, environment, stdin, recorder state or installed packages", () => {
    const status = dpkgStatus();
    const answers = new ColdAwsAnswers(recorder, mkdtempSync(join(tmpdir(), "cold-aws-")), status);
    const base = answers.key(call(recorder));
    expect(base).toMatch(/^[0-9a-f]{32}$/);
    const keys = [
      answers.key(call(recorder, { args: ["--version"] })),
      answers.key(call(recorder, { env: { AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: recorder.url } })),
      answers.key(call(recorder, { input: "stdin" })),
      answers.key(call(recorder, { input: Buffer.from([0xff]) })),
      new ColdAwsAnswers(recorder, mkdtempSync(join(tmpdir(), "cold-aws-")), dpkgStatus("Package: awscli\nVersion: 2.9.20-1\n")).key(call(recorder)),
    ];
    recorder.secrets.set("kept", "value");
    keys.push(answers.key(call(recorder)));
    recorder.images = [{ imageId: "ami-0123456789abcdef0", name: "noble", creationDate: "2026-01-01T00:00:00.000Z" }];
    keys.push(answers.key(call(recorder)));
    recorder.secrets.clear();
    recorder.images = [];
    expect(answers.key(call(recorder))).toBe(base);
    expect(new Set([base, ...keys]).size).toBe(keys.length + 1);
  });

  it("are not kept without dpkg's status, nor for calls naming files the CLI reads (HOME, PYTHONPATH)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cold-aws-"));
    const unknown = new ColdAwsAnswers(recorder, dir, join(dir, "no-dpkg-status"));
    const c = counting(recorder);
    await unknown.answer(call(recorder), c.run);
    await unknown.answer(call(recorder), c.run);
    expect(c.runs()).toBe(2);

    const answers = new ColdAwsAnswers(recorder, dir, dpkgStatus());
    for (const name of ["HOME", "PYTHONPATH", "PYTHONSTARTUP"]) {
      expect(answers.key(call(recorder, { env: { [name]: "/somewhere" } })), name).toBeUndefined();
    }
  });

  it("keep the 64 most recently used: an answer read again stays", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cold-aws-"));
    const answers = new ColdAwsAnswers(recorder, dir, dpkgStatus());
    const c = counting(recorder);
    const nth = (n: number) => call(recorder, { args: ["--version", String(n)] });
    await answers.answer(nth(0), c.run);
    const first = readdirSync(dir);
    utimesSync(join(dir, first[0]!), new Date(0), new Date(0));
    for (let n = 1; n <= 64; n++) await answers.answer(nth(n), c.run);
    expect(readdirSync(dir)).toHaveLength(64);
    expect(readdirSync(dir)).not.toContain(first[0]);

    for (const f of readdirSync(dir)) utimesSync(join(dir, f), new Date(1000), new Date(1000));
    // The least recently used, until read again.
    utimesSync(answersFile(answers, nth(1)), new Date(500), new Date(500));
    await answers.answer(nth(1), c.run);
    expect(c.runs()).toBe(65);
    await answers.answer(nth(65), c.run);
    expect(readdirSync(dir)).toContain(basename(answersFile(answers, nth(1))));
  });

  it("refuse a recorder whose fault or groupInstances a test replaced: no key shows what a function answers", () => {
    const r = new AwsRecorder();
    const answers = new ColdAwsAnswers(r, mkdtempSync(join(tmpdir(), "cold-aws-")), dpkgStatus());
    r.failFirst("GetSecretValue", 1, { code: "Throttling", message: "Rate exceeded", status: 400 });
    expect(() => answers.key(call(r))).toThrow(/use another recorder/);
  });
});
