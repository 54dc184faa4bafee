// Runs the real secrets-export script (as the CronJob does: bash, the mounted Secrets laid out
// the way the kubelet mounts them, with ..data symlinks) and the real AWS CLI, which sends its
// PutObject to a local recorder standing in for S3. The archive the recorder receives is
// unpacked and compared with what was mounted.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { run } from "../../scripts/verify/tools";
import { AWS_CLI, REAL_AWS_CLI } from "../support/aws-cli";
import { filesUnder } from "../support/files";
import { REPO_ROOT } from "../helpers";

const AWS = AWS_CLI;
const SCRIPT = join(REPO_ROOT, "userdata/scripts/gitlab-secrets-export.sh");
/** Debian's AWS CLI (run warm); another `aws` may come first on PATH. Missing: a skip off CI, a failure in CI. */
const haveAws = existsSync(REAL_AWS_CLI);

interface Put {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
}

let server: Server;
let endpoint: string;
let puts: Put[] = [];
let refuse = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      puts.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      if (refuse) {
        res.writeHead(403, { "content-type": "application/xml" });
        res.end('<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
        return;
      }
      res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let dir: string;
beforeEach(() => {
  puts = [];
  refuse = false;
  dir = mkdtempSync(join(tmpdir(), "secrets-export-"));
  return () => rmSync(dir, { recursive: true, force: true });
});

/** A Secret volume as the kubelet writes it: the files in a timestamped dir, ..data pointing at it, each key a symlink. */
function mountSecret(name: string, files: Record<string, string>): string {
  const root = join(dir, name);
  const data = join(root, "..2026_11_23_02_00_00.000000001");
  mkdirSync(data, { recursive: true });
  for (const [key, content] of Object.entries(files)) writeFileSync(join(data, key), content, { mode: 0o440 });
  symlinkSync("..2026_11_23_02_00_00.000000001", join(root, "..data"));
  for (const key of Object.keys(files)) symlinkSync(join("..data", key), join(root, key));
  return root;
}

const SECRETS_YML = "production:\n  secret_key_base: 0123abcd\n  db_key_base: 4567ef01\n";
const HOST_KEYS = {
  ssh_host_ed25519_key: "-----BEGIN OPENSSH KEY-----\nfake\n",
  "ssh_host_ed25519_key.pub": "ssh-ed25519 AAAA fake\n",
  ssh_host_rsa_key: "rsa\n",
  "ssh_host_rsa_key.pub": "ssh-rsa AAAA\n",
};

async function exportSecrets(env: Record<string, string>) {
  const scratch = join(dir, "scratch");
  mkdirSync(scratch, { recursive: true });
  return run("env", [
    "-i",
    `PATH=${process.env.PATH}`,
    `TMPDIR=${scratch}`,
    "SECRETS_BUCKET=k3s-homelab-restore-secrets",
    "ENVIRONMENT=k3s-homelab",
    `RAILS_SECRET_DIR=${mountSecret("rails", { "secrets.yml": SECRETS_YML })}`,
    `SHELL_HOST_KEYS_DIR=${mountSecret("ssh", HOST_KEYS)}`,
    "AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY",
    "AWS_DEFAULT_REGION=us-east-1",
    "AWS_EC2_METADATA_DISABLED=true",
    "AWS_CONFIG_FILE=/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
    `AWS_CLI=${AWS}`,
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    "bash",
    SCRIPT,
  ]);
}

function unpack(body: Buffer): { files: string[]; read: (f: string) => string } {
  const out = join(dir, "unpacked");
  mkdirSync(out);
  writeFileSync(join(dir, "archive.tar.gz"), body);
  execFileSync("tar", ["-xzf", join(dir, "archive.tar.gz"), "-C", out]);
  return { files: filesUnder(out), read: (f) => readFileSync(join(out, f), "utf8") };
}

// In CI the AWS CLI is installed by scripts/install-validators.sh: without it this must fail, not skip.
describe.runIf(haveAws || process.env.CI === "true")("gitlab-secrets-export.sh with the AWS CLI", () => {
  it("uploads the Rails secret and GitLab Shell's host keys, archived, to the secrets bucket of an S3-compatible store", async () => {
    expect(haveAws, `${REAL_AWS_CLI} is missing: run scripts/install-validators.sh`).toBe(true);
    const r = await exportSecrets({ S3_ENDPOINT: endpoint, AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED" });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(puts.map((p) => p.method)).toEqual(["PUT"]);
    expect(puts[0]!.path).toMatch(/^\/k3s-homelab-restore-secrets\/gitlab-secrets-k3s-homelab-\d{8}T\d{6}Z\.tar\.gz$/);
    expect(puts[0]!.headers["x-amz-server-side-encryption"]).toBeUndefined();
    const archive = unpack(puts[0]!.body);
    expect(archive.files).toEqual([
      "gitlab-secrets.yml",
      ...Object.keys(HOST_KEYS)
        .map((k) => `ssh/${k}`)
        .sort(),
    ]);
    expect(archive.read("gitlab-secrets.yml")).toBe(SECRETS_YML);
    expect(archive.read("ssh/ssh_host_ed25519_key")).toBe(HOST_KEYS.ssh_host_ed25519_key);
    expect(r.stdout).toMatch(/uploaded s3:\/\/k3s-homelab-restore-secrets\/gitlab-secrets-k3s-homelab-.*\(Rails secret and 4 SSH host key files\)/);
    // Nothing left behind in the pod's scratch directory.
    expect(filesUnder(join(dir, "scratch"))).toEqual([]);
  });

  it("on AWS S3 asks for server-side encryption", async () => {
    // The script's AWS_CLI seam: the real CLI, sent to the recorder instead of AWS.
    const wrapper = join(dir, "aws-to-recorder");
    writeFileSync(wrapper, `#!/bin/sh\nexec ${AWS} --endpoint-url ${endpoint} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const r = await exportSecrets({ AWS_CLI: wrapper });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(puts).toHaveLength(1);
    expect(puts[0]!.headers["x-amz-server-side-encryption"]).toBe("AES256");
  });

  it("fails, uploading nothing, when the Rails secret is not mounted", async () => {
    const r = await exportSecrets({ S3_ENDPOINT: endpoint, RAILS_SECRET_DIR: join(dir, "nowhere") });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/no secrets\.yml in .*nowhere: is the Rails secret mounted\?/);
    expect(puts).toEqual([]);
  });

  it("fails when the upload is refused, naming the step", async () => {
    refuse = true;
    const r = await exportSecrets({ S3_ENDPOINT: endpoint });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/AccessDenied|Access Denied/);
    expect(r.stdout + r.stderr).toContain("FAILED at step: upload");
  });
});
