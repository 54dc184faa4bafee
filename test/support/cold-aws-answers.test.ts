// /usr/bin/aws's answers are kept by everything they depend on (cold-aws-answers.ts): each
// input gives a new key, a kept answer comes back with this run's recorder address, and calls
// no key can describe are never kept. The answers here are stand-ins: what is kept is checked,
// not the CLI (warm-aws-cli.test.ts compares the CLI's own).
import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsRecorder } from "./aws-recorder";
import { type Answer, type Call, ColdAwsAnswers, type Machine, thisMachine } from "./cold-aws-answers";

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

const scratch = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/** A machine of files in a new directory: dpkg's status, a time zone, and a home holding .aws. */
function machine(dpkg = "Package: awscli\nVersion: 2.9.19-1\n"): Machine & { readonly home: string } {
  const dir = scratch("cold-aws-machine-");
  writeFileSync(join(dir, "status"), dpkg);
  writeFileSync(join(dir, "localtime"), "TZif UTC");
  mkdirSync(join(dir, "home"));
  return { dpkgStatus: join(dir, "status"), localtime: join(dir, "localtime"), trees: [join(dir, "home", ".aws")], home: join(dir, "home") };
}

/** An answer of the stand-in CLI, naming the address it was given as the real one's messages can. */
const answerFrom = (r: AwsRecorder): Answer => ({
  status: 0,
  stdout: `asked ${r.url}\n`,
  stderr: "",
  requests: [{ action: "GetSecretValue", region: "eu-west-3", params: { endpoint: r.url }, body: "" }],
});

const call = (r: AwsRecorder, extra: Partial<Call> = {}): Call => ({
  args: ["--endpoint-url", r.url, "secretsmanager", "get-secret-value", "--secret-id", "kept"],
  env: { AWS_REGION: "eu-west-3", AWS_ENDPOINT_URL: r.url },
  ...extra,
});

describe("cold AWS CLI answers", () => {
  it("are found once kept, with this run's recorder address", () => {
    const dir = scratch("cold-aws-");
    const m = machine();
    const answers = new ColdAwsAnswers(recorder, dir, m);
    const key = answers.key(call(recorder));
    expect(answers.kept(key)).toBeUndefined();
    answers.keep(key, answerFrom(recorder));
    expect(new ColdAwsAnswers(recorder, dir, m).kept(key)).toEqual(answerFrom(recorder));

    // Another run's recorder listens elsewhere: the same call has the same key, its answer that run's address.
    const again = new ColdAwsAnswers(other, dir, m);
    const otherKey = again.key(call(other));
    expect(otherKey).toBe(key);
    expect(again.kept(otherKey)).toEqual(answerFrom(other));
  });

  it("have a new key for other arguments, environment, stdin or recorder state", () => {
    const answers = new ColdAwsAnswers(recorder, scratch("cold-aws-"), machine());
    const base = answers.key(call(recorder));
    expect(base).toMatch(/^[0-9a-f]{32}$/);
    const keys = [
      answers.key(call(recorder, { args: ["--version"] })),
      answers.key(call(recorder, { env: { AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: recorder.url } })),
      answers.key(call(recorder, { input: "stdin" })),
      answers.key(call(recorder, { input: Buffer.from([0xff]) })),
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

  it("have a new key on another machine: packages, time zone, files in ~/.aws, pip's packages", () => {
    const m = machine();
    const keyOn = (on: Machine) => new ColdAwsAnswers(recorder, scratch("cold-aws-"), on).key(call(recorder));
    const base = keyOn(m);
    expect(keyOn(m)).toBe(base);
    const keys = [keyOn(machine("Package: awscli\nVersion: 2.9.20-1\n"))];
    writeFileSync(m.localtime, "TZif Europe/Paris");
    keys.push(keyOn(m));
    mkdirSync(join(m.home, ".aws", "cli"), { recursive: true });
    keys.push(keyOn(m));
    writeFileSync(join(m.home, ".aws", "cli", "alias"), "[toplevel]\nwhoami = sts get-caller-identity\n");
    keys.push(keyOn(m));
    writeFileSync(join(m.home, ".aws", "cli", "alias"), "[toplevel]\nwhoami = sts get-caller-identity --output text\n");
    keys.push(keyOn(m));
    expect(new Set([base, ...keys]).size).toBe(keys.length + 1);
  });

  it("are not kept without dpkg's status, nor for calls naming files the CLI reads (HOME, PYTHONPATH)", () => {
    const m = machine();
    expect(new ColdAwsAnswers(recorder, scratch("cold-aws-"), { ...m, dpkgStatus: join(m.home, "no-dpkg-status") }).key(call(recorder))).toBeUndefined();
    const answers = new ColdAwsAnswers(recorder, scratch("cold-aws-"), m);
    for (const name of ["HOME", "PYTHONPATH", "PYTHONSTARTUP"]) {
      expect(answers.key(call(recorder, { env: { [name]: "/somewhere" } })), name).toBeUndefined();
    }
    // Nothing to find, nothing written.
    expect(answers.kept(undefined)).toBeUndefined();
    answers.keep(undefined, answerFrom(recorder));
    expect(readdirSync(answers.dir)).toEqual([]);
  });

  it("keep the 64 most recently used: an answer read again stays", () => {
    const answers = new ColdAwsAnswers(recorder, scratch("cold-aws-"), machine());
    const nth = (n: number) => answers.key(call(recorder, { args: ["--version", String(n)] }));
    const file = (n: number) => join(answers.dir, `${nth(n)}.json`);
    for (let n = 0; n < 64; n++) answers.keep(nth(n), answerFrom(recorder));
    for (let n = 0; n < 64; n++) utimesSync(file(n), new Date(1000 + n), new Date(1000 + n));
    // The least recently used until read again; then the second is.
    expect(answers.kept(nth(0))).toBeDefined();
    answers.keep(nth(64), answerFrom(recorder));
    expect(readdirSync(answers.dir)).toHaveLength(64);
    expect(readdirSync(answers.dir).sort()).toEqual([0, ...Array.from({ length: 63 }, (_, i) => i + 2)].map((n) => `${nth(n)}.json`).sort());
  });

  it("refuse a recorder whose fault or groupInstances a test replaced: no key shows what a function answers", () => {
    const r = new AwsRecorder();
    const answers = new ColdAwsAnswers(r, scratch("cold-aws-"), machine());
    r.failFirst("GetSecretValue", 1, { code: "Throttling", message: "Rate exceeded", status: 400 });
    expect(() => answers.key(call(r))).toThrow(/use another recorder/);
  });

  it("on this machine: Debian's packages, the time zone, ~/.aws of the passwd home, the user's and pip's Python packages", () => {
    const m = thisMachine();
    expect([m.dpkgStatus, m.localtime]).toEqual(["/var/lib/dpkg/status", "/etc/localtime"]);
    expect(m.trees).toContain(join(homedir(), ".aws"));
  });
});
