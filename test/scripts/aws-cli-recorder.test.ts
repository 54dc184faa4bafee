// The test seam the host script tests stand on: the real AWS CLI talking to the local recorder.
// Each protocol the scripts use round-trips (JSON, query with XML answers, S3 REST), a
// parameter arrives as the API names it, and a mistyped option never reaches the API.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_CLI, awsCliEnv, REAL_AWS_CLI, runAwsCliTests } from "../support/aws-cli";
import { AwsRecorder } from "../support/aws-recorder";

let recorder: AwsRecorder;
beforeAll(async () => {
  recorder = await new AwsRecorder().start();
});
afterAll(() => recorder.stop());

function aws(...args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(AWS_CLI, ["--endpoint-url", recorder.url, "--region", "eu-west-3", ...args], {
      env: { PATH: "/usr/bin:/bin", ...awsCliEnv(recorder) },
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

describe("the AWS CLI the host script tests use", () => {
  it.runIf(process.env.CI === "true")("is installed at /usr/bin/aws in CI (scripts/install-validators.sh)", () => {
    expect(existsSync(REAL_AWS_CLI), `${REAL_AWS_CLI} is missing: run scripts/install-validators.sh`).toBe(true);
  });
});

describe.skipIf(!runAwsCliTests)("the real AWS CLI against the recorder", () => {
  it("JSON protocol: a secret's value comes back; an unknown secret is the API's error", async () => {
    recorder.secrets.set("arn:aws:secretsmanager:eu-west-3:111111111111:secret:t-AbCdEf", "glrt-example");
    const ok = await aws(
      "secretsmanager",
      "get-secret-value",
      "--secret-id",
      "arn:aws:secretsmanager:eu-west-3:111111111111:secret:t-AbCdEf",
      "--query",
      "SecretString",
      "--output",
      "text",
    );
    expect(ok).toEqual({ code: 0, out: "glrt-example\n" });
    const missing = await aws("secretsmanager", "get-secret-value", "--secret-id", "nope");
    expect(missing.code).toBe(254);
    expect(missing.out).toContain("ResourceNotFoundException");
    expect(recorder.calls("GetSecretValue").map((r) => [r.service, r.region, r.params])).toEqual([
      ["secretsmanager", "eu-west-3", { SecretId: "arn:aws:secretsmanager:eu-west-3:111111111111:secret:t-AbCdEf" }],
      ["secretsmanager", "eu-west-3", { SecretId: "nope" }],
    ]);
  });

  it("query protocol: a boolean flag arrives as the API's parameter (set-instance-health --no-should-respect-grace-period)", async () => {
    const r = await aws(
      "autoscaling",
      "set-instance-health",
      "--instance-id",
      "i-0123456789abcdef0",
      "--health-status",
      "Unhealthy",
      "--no-should-respect-grace-period",
    );
    expect(r.code).toBe(0);
    expect(recorder.calls("SetInstanceHealth").at(-1)!.params).toEqual({
      Action: "SetInstanceHealth",
      Version: "2011-01-01",
      InstanceId: "i-0123456789abcdef0",
      HealthStatus: "Unhealthy",
      ShouldRespectGracePeriod: "false",
    });
  });

  it("S3 REST: s3 cp is a PutObject of the file's bytes, with the encryption asked for", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aws-cli-"));
    try {
      writeFileSync(join(dir, "f.txt"), "payload");
      expect((await aws("s3", "cp", "--only-show-errors", "--sse", "AES256", join(dir, "f.txt"), "s3://bucket/config/f.txt")).code).toBe(0);
      const put = recorder.calls("PutObject").at(-1)!;
      expect(put.params).toMatchObject({ Bucket: "bucket", Key: "config/f.txt" });
      expect(put.body.toString()).toBe("payload");
      expect(put.headers["x-amz-server-side-encryption"]).toBe("AES256");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a misspelt option before sending anything (exit 252)", async () => {
    const before = recorder.requests.length;
    const r = await aws(
      "autoscaling",
      "set-instance-health",
      "--instance-id",
      "i-0123456789abcdef0",
      "--health-status",
      "Unhealthy",
      "--no-respect-grace-period",
    );
    expect(r.code).toBe(252);
    expect(r.out).toContain("Unknown options: --no-respect-grace-period");
    expect(recorder.requests.length).toBe(before);
  });
});
