// What the README and docs/operations.md tell aws users, checked against what the code does:
// commands they are told to run are run (the real AWS CLI against the recorder), and
// sections that must agree with the stack say what it does.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTOMATION_TOKEN_CONTAINER_PATH } from "../../constructs/gitlab-server/docker-names";
import { AUTOMATION_TOKEN_K8S } from "../../constructs/gitlab-server/kubernetes";
import { AUTOMATION_TOKEN_DEFAULTS } from "../../userdata/automation-token";
import { REPO_ROOT } from "../helpers";
import { AWS_CLI, awsCliEnv, runAwsCliTests } from "../support/aws-cli";
import { AwsRecorder } from "../support/aws-recorder";

const README = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const OPERATIONS = readFileSync(join(REPO_ROOT, "docs/operations.md"), "utf8");

/** The text of a markdown section, from its heading to the next heading of the same or a higher level. */
function section(doc: string, heading: string): string {
  const lines = doc.split("\n");
  const start = lines.findIndex((l) => /^#+ /.test(l) && l.replace(/^#+ /, "") === heading);
  if (start < 0) throw new Error(`no section "${heading}"`);
  const level = /^#+/.exec(lines[start]!)![0].length;
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && /^#+/.exec(l)![0].length <= level);
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}

/** The shell command in the first ```sh block of `text` that starts with `aws <service> <command>`. */
function documentedCommand(text: string, start: string): string {
  for (const block of text.matchAll(/^ *```sh\n([\s\S]*?)^ *```/gm)) {
    const command = block[1]!
      .replace(/\\\n\s*/g, "")
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l.startsWith(start));
    if (command) return command;
  }
  throw new Error(`no documented '${start}' command`);
}

/** Runs a documented `aws …` line as a user's shell would, with the real CLI pointed at the recorder. */
function runDocumented(recorder: AwsRecorder, command: string, env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", command.replace(/^aws /, `${AWS_CLI} --endpoint-url ${recorder.url} `)], {
      env: { PATH: "/usr/bin:/bin", ...awsCliEnv(recorder), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

const AWS_SETUP = section(README, "aws: set up once");

describe("external PostgreSQL (README, aws: set up once; operations.md 1.2)", () => {
  const ops = section(OPERATIONS, "1.2 Secrets (never in the YAML)");
  const gitlabMajor = Number(/^\s+version: (\d+)\./m.exec(readFileSync(join(REPO_ROOT, "config/staging.yaml"), "utf8"))![1]);

  it("gives the PostgreSQL version the pinned GitLab needs, the extensions to create, and what removing the block does", () => {
    // GitLab's requirements: 18.x needs PostgreSQL 16 or newer (19.x: 17); amcheck from 18.4.
    const minimum = { 18: 16, 19: 17 }[gitlabMajor];
    expect(minimum, `add GitLab ${gitlabMajor}'s PostgreSQL minimum here and to the docs`).toBeDefined();
    for (const text of [AWS_SETUP, ops]) {
      expect(text).toContain(`PostgreSQL ${minimum}`);
      for (const extension of ["pg_trgm", "btree_gist", "plpgsql", "amcheck"]) expect(text).toContain(extension);
      expect(text).toContain("server_security_group_id");
      expect(text).toMatch(/bundled\s+PostgreSQL/);
    }
  });

  describe.skipIf(!runAwsCliTests)("the documented security group rule", () => {
    let recorder: AwsRecorder;
    beforeAll(async () => {
      recorder = await new AwsRecorder().start();
    });
    afterAll(() => recorder.stop());

    it("is valid for the AWS CLI and opens 5432 on the database's group to the GitLab server's group only", async () => {
      const command = documentedCommand(AWS_SETUP, "aws ec2 authorize-security-group-ingress");
      expect(documentedCommand(OPERATIONS, "aws ec2 authorize-security-group-ingress")).toBe(command);
      const run = await runDocumented(recorder, command.replace("<rds-security-group-id>", "sg-0aaaaaaaaaaaaaaa1"), { SERVER_SG: "sg-0bbbbbbbbbbbbbbb2" });
      expect(run.err).toBe("");
      expect(run.code).toBe(0);
      expect(recorder.calls("AuthorizeSecurityGroupIngress").map((r) => r.params)).toEqual([
        {
          Action: "AuthorizeSecurityGroupIngress",
          Version: "2016-11-15",
          GroupId: "sg-0aaaaaaaaaaaaaaa1",
          "IpPermissions.1.IpProtocol": "tcp",
          "IpPermissions.1.FromPort": "5432",
          "IpPermissions.1.ToPort": "5432",
          "IpPermissions.1.Groups.1.GroupId": "sg-0bbbbbbbbbbbbbbb2",
        },
      ]);
    });
  });
});

describe("Cloudflare's 100 MB request limit (README)", () => {
  it("names everything it cuts off when proxied, not only registry layers", () => {
    const paragraph = AWS_SETUP.split("\n\n").find((p) => p.includes("100 MB"))!;
    for (const what of ["registry", "artifacts", "LFS", "git push"]) expect(paragraph).toContain(what);
  });
});

describe("the zone's SSL mode (README, operations.md 1.5)", () => {
  it("says the environment that owns it is deployed first, and that the plan checks it", () => {
    for (const text of [AWS_SETUP, section(OPERATIONS, "1.5 Deploy")]) {
      expect(text).toContain("strictSslMode");
      expect(text).toMatch(/first/);
    }
  });
});

describe("the GitLab instance's AMI (README, Upgrades; operations.md 3.2)", () => {
  const upgrades = section(README, "Upgrades and data safety");
  const ops = section(OPERATIONS, "3.2 The Ubuntu AMI (aws)");

  it("say the AMI changes only when aws.ami changes, and no longer that it is looked up and ignored", () => {
    for (const text of [upgrades, ops]) {
      expect(text).toContain("aws.ami");
      expect(text).not.toMatch(/looked up once|ignore_changes|-replace=aws_instance/);
    }
  });

  describe.skipIf(!runAwsCliTests)("the documented command that finds the current image", () => {
    let recorder: AwsRecorder;
    beforeAll(async () => {
      recorder = await new AwsRecorder().start();
    });
    afterAll(() => recorder.stop());

    it("is valid for the AWS CLI, asks Canonical's account for the release, and prints the newest image's id and name", async () => {
      const command = documentedCommand(README, "aws ec2 describe-images");
      expect(documentedCommand(OPERATIONS, "aws ec2 describe-images")).toBe(command);
      recorder.images = [
        {
          imageId: "ami-0aaaaaaaaaaaaaaa1",
          name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250115",
          creationDate: "2025-01-15T08:00:00.000Z",
        },
        {
          imageId: "ami-0bbbbbbbbbbbbbbb2",
          name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20251105",
          creationDate: "2025-11-05T08:00:00.000Z",
        },
        {
          imageId: "ami-0ccccccccccccccc3",
          name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610",
          creationDate: "2025-06-10T08:00:00.000Z",
        },
      ];
      const run = await runDocumented(recorder, command);
      expect(run.err).toBe("");
      expect(run.code).toBe(0);
      expect(run.out).toBe("ami-0bbbbbbbbbbbbbbb2\tubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20251105\n");
      expect(recorder.calls("DescribeImages").map((r) => r.params)).toEqual([
        {
          Action: "DescribeImages",
          Version: "2016-11-15",
          "Owner.1": "099720109477",
          "Filter.1.Name": "name",
          "Filter.1.Value.1": "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*",
        },
      ]);
    });
  });
});

describe("the automation token (operations.md)", () => {
  const ops = section(OPERATIONS, "Automation token");

  it("names the stores, the renewal and the numbers the code uses", () => {
    for (const text of [
      "`<env>-gitlab/automation-token`",
      "`gitlab-automation-token.timer`",
      "`/etc/gitlab/gitlab-platform/automation-token`",
      "Secret `gitlab-automation-token` (key `token`)",
      "90 days",
      "30 days or fewer",
      "`scripts/kubernetes-automation-token.sh <namespace>`",
    ]) {
      expect(ops).toContain(text);
    }
    expect(AUTOMATION_TOKEN_DEFAULTS).toMatchObject({ expiryDays: 90, renewDays: 30 });
    expect(AUTOMATION_TOKEN_CONTAINER_PATH).toBe("/etc/gitlab/gitlab-platform/automation-token");
    expect(AUTOMATION_TOKEN_K8S).toMatchObject({ secret: "gitlab-automation-token", key: "token" });
    expect(ops).toContain("docker exec gitlab gitlab-automation-token --rotate");
    expect(ops).toContain("scripts/kubernetes-automation-token.sh gitlab --rotate");
  });

  it.skipIf(!runAwsCliTests)("its aws rotation command is valid for the AWS CLI and runs the script with --rotate on the instance", async () => {
    const recorder = await new AwsRecorder().start();
    try {
      const command = documentedCommand(ops, "aws ssm send-command")
        .replaceAll("<region>", "eu-west-3")
        .replaceAll("<instance_id>", "i-0123456789abcdef0")
        .replaceAll("<env>", "staging");
      const run = await runDocumented(recorder, command);
      expect(run.err).toBe("");
      expect(run.code).toBe(0);
      const [send] = recorder.calls("SendCommand");
      expect(send!.region).toBe("eu-west-3");
      expect(send!.params).toEqual({
        InstanceIds: ["i-0123456789abcdef0"],
        DocumentName: "AWS-RunShellScript",
        Parameters: {
          commands: [
            "AUTOMATION_TOKEN_STORE=aws-secret:staging-gitlab/automation-token AWS_REGION=eu-west-3 PATH=/usr/bin:/bin:/snap/bin /usr/local/sbin/gitlab-automation-token --rotate",
          ],
        },
      });
    } finally {
      await recorder.stop();
    }
  });
});

describe("deviations from the reference AWS installation (README)", () => {
  it("owns up to each one, with the option that does as the reference does where there is one", () => {
    const deviations = section(README, "Deviations from the reference installation (aws)");
    for (const point of [
      /Ubuntu 24\.04, not 22\.04/,
      /Names from the environment/,
      /backups\.existingBucket/,
      /protected branches/,
      /admin personal access token/,
      /AmazonSSMManagedInstanceCore/,
      /3584m per job, not 6g/,
    ]) {
      expect(deviations).toMatch(point);
    }
  });
});
