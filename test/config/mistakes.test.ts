// Config mistakes users make, and the message each one gets: `<file>: <field.path>: <what>`.
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { deepClone, exampleYaml, parseConfig, problemsOf } from "../helpers";

const homelab = () => deepClone(exampleYaml("homelab"));
const staging = () => deepClone(exampleYaml("staging"));

interface Mistake {
  readonly what: string;
  readonly config: () => unknown;
  /** Every problem line must be one of these (regexps on the full line). */
  readonly expected: readonly RegExp[];
}

const mistakes: Mistake[] = [
  {
    what: "a suppression of a rule that does not exist",
    config: () => ({
      ...staging(),
      policy: { suppressions: [{ rule: "AWS-IMDS", path: "staging/gitlab-server/instance", reason: "vendor agent still needs IMDSv1 here" }] },
    }),
    expected: [
      /^config\/test\.yaml: policy\.suppressions\[0\]\.rule: must be one of 'AWS-EC2-IMDSV2', .*'DOCKER-PUBLISHED-PORTS', .*'K8S-NAMESPACE-PROTECTED', .*'GITLAB-TOKEN-SENSITIVE'$/,
    ],
  },
  {
    what: "a suppression for a whole stack instead of one resource",
    config: () => ({ ...staging(), policy: { suppressions: [{ rule: "AWS-EC2-IMDSV2", path: "staging", reason: "vendor agent still needs IMDSv1 here" }] } }),
    expected: [/^config\/test\.yaml: policy\.suppressions\[0\]\.path: must be a resource's construct path like 'staging\/gitlab-server\/sg'/],
  },
  {
    what: "a log retention CloudWatch does not offer",
    config: () => ({ ...staging(), observability: { ...staging().observability, appLogRetentionDays: 45 } }),
    expected: [/^config\/test\.yaml: observability\.appLogRetentionDays: must be one of '1', '3', '5', '7', '14', '30', '60', '90', .*'3653'$/],
  },
  {
    what: "a backup age longer than a CloudWatch alarm can look back",
    config: () => ({ ...staging(), backups: { ...staging().backups, maxAgeHours: 200 } }),
    expected: [/^config\/test\.yaml: backups\.maxAgeHours: must be at most 168, got 200/],
  },
  {
    what: "no AMI for the GitLab instance (a replacement must not pick a newer image by itself)",
    config: () => {
      const c = staging();
      delete c.aws.ami;
      return c;
    },
    expected: [/^config\/test\.yaml: aws\.ami: is required: pin the image of the GitLab instance, .*`aws ec2 describe-images.*README/],
  },
  {
    what: "an AMI name with a wildcard (it would match every newer image)",
    config: () => ({ ...staging(), aws: { ...staging().aws, ami: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*" } }),
    expected: [/^config\/test\.yaml: aws\.ami: must be an AMI id like 'ami-0123456789abcdef0' or an exact dated Canonical Ubuntu LTS image name/],
  },
  {
    what: "a misspelt instance type (the pattern alone accepted it)",
    config: () => ({ ...staging(), aws: { ...staging().aws, instanceType: "t3a.xlrage" } }),
    expected: [/^config\/test\.yaml: aws\.instanceType: unknown EC2 instance type 't3a\.xlrage'; did you mean 't3a\.xlarge'\?/],
  },
  {
    what: "an instance type that does not exist, in the runners' list",
    config: () => ({ ...staging(), runners: { ...staging().runners, instanceTypes: ["t3a.large", "t3.huge"] } }),
    expected: [
      /^config\/test\.yaml: runners\.instanceTypes\[1\]: unknown EC2 instance type 't3\.huge'; did you mean one of 't3\.2xlarge', 't3\.large', .*'t3\.xlarge'\?/,
    ],
  },
  {
    what: "the reference AWS installation's 6g per job × 2 jobs on an 8 GiB t3a.large",
    config: () => ({ ...staging(), runners: { ...staging().runners, jobMemory: "6g" } }),
    expected: [
      /^config\/test\.yaml: runners\.jobMemory: 6g × concurrent 2 = 12288 MiB, more than the 7168 MiB a t3a\.large leaves for jobs \(8 GiB less 1 GiB for the system, Docker and the runner\): set jobMemory to at most 3584m, lower concurrent, or choose larger instanceTypes$/,
    ],
  },
  {
    what: "so many jobs per instance that each would get next to no memory",
    config: () => ({ ...staging(), runners: { ...staging().runners, concurrent: 16 } }),
    expected: [
      /^config\/test\.yaml: runners\.concurrent: 16 jobs on a t3a\.large leave 448 MiB each \(8 GiB less 1 GiB for the system, Docker and the runner\); a job needs at least 512 MiB: lower concurrent or choose larger instanceTypes$/,
    ],
  },
  {
    what: "a runner instance type whose memory the platform cannot check jobs against",
    config: () => ({ ...staging(), runners: { ...staging().runners, instanceTypes: ["g4dn.xlarge"] } }),
    expected: [
      /^config\/test\.yaml: runners\.instanceTypes\[0\]: no memory size known for g4dn\.xlarge to fit the jobs in; runners use the x86 families t2, t3, t3a, .* \(config\/schema\/instance-memory\.ts\)$/,
    ],
  },
  {
    what: "misspelled key",
    config: () => ({ ...homelab(), gitlab: { ...homelab().gitlab, hostnmae: "git" } }),
    expected: [/^config\/test\.yaml: gitlab\.hostnmae: unknown key; did you mean 'hostname'\?/],
  },
  {
    what: "unknown top-level key",
    config: () => ({ ...homelab(), monitoring: {} }),
    expected: [/^config\/test\.yaml: monitoring: unknown key/],
  },
  {
    what: "another platform's section",
    config: () => ({ ...homelab(), aws: { region: "eu-west-3" } }),
    expected: [/^config\/test\.yaml: aws: only valid when platform is 'aws' \(this environment's platform is 'docker'\)/],
  },
  {
    what: "unknown platform",
    config: () => ({ ...homelab(), platform: "openshift" }),
    expected: [/^config\/test\.yaml: platform: must be 'aws', 'docker' or 'kubernetes'/],
  },
  {
    what: "wrong type",
    config: () => ({ ...homelab(), gitlab: { ...homelab().gitlab, sshPort: "2222" } }),
    expected: [/^config\/test\.yaml: gitlab\.sshPort: must be number, got the string '2222'/],
  },
  {
    what: "port out of range",
    config: () => ({ ...homelab(), gitlab: { ...homelab().gitlab, sshPort: 70000 } }),
    expected: [/^config\/test\.yaml: gitlab\.sshPort: must be at most 65535, got 70000/],
  },
  {
    what: "missing required field",
    config: () => {
      const c = homelab();
      delete c.gitlab.version;
      return c;
    },
    expected: [/^config\/test\.yaml: gitlab\.version: is required \(string\)/],
  },
  {
    what: "unpinned GitLab version",
    config: () => ({ ...homelab(), gitlab: { ...homelab().gitlab, version: "latest" } }),
    expected: [/^config\/test\.yaml: gitlab\.version: must be an exact GitLab CE version like '18\.5\.1-ce\.0' \(no 'latest'\)/],
  },
  {
    what: "job image on the latest tag",
    config: () => {
      const c = homelab();
      c.runners.build.jobImage = "alpine:latest";
      return c;
    },
    expected: [/^config\/test\.yaml: runners\.build\.jobImage: must not use the 'latest' tag: pin a version/],
  },
  {
    what: "untagged job image",
    config: () => {
      const c = homelab();
      c.runners.build.jobImage = "alpine";
      return c;
    },
    expected: [/^config\/test\.yaml: runners\.build\.jobImage: must pin a tag or digest/],
  },
  {
    what: "runner token pasted as a literal (docker)",
    config: () => {
      const c = homelab();
      c.runners.build.token = "glrt-abcdefghijklmnopqrst";
      return c;
    },
    expected: [
      /^config\/test\.yaml: runners\.build\.token: looks like a GitLab runner authentication token pasted into config; secrets are never written in config — write it to a root-only file under <docker\.dataRoot>\/secrets\/ on the Docker host and write \{ hostFile: <file name> \}/,
    ],
  },
  {
    what: "personal access token pasted anywhere (aws)",
    config: () => ({ ...staging(), gitlab: { ...staging().gitlab, emailFrom: "glpat-0123456789abcdefghij" } }),
    expected: [/^config\/test\.yaml: gitlab\.emailFrom: looks like a GitLab access token pasted into config; .*secretsManagerArn/],
  },
  {
    what: "password pasted as a literal",
    config: () => {
      const c = staging();
      c.gitlab.smtp.password = "hunter2";
      return c;
    },
    expected: [/^config\/test\.yaml: gitlab\.smtp\.password: looks like a literal value for the secret field 'password' pasted into config; .*Secrets Manager/],
  },
  {
    what: "a Terraform variable where aws needs a Secrets Manager ARN",
    config: () => {
      const c = staging();
      c.runners.token = { terraformVariable: "runner_token" };
      return c;
    },
    expected: [/^config\/test\.yaml: runners\.token\.secretsManagerArn: is required/, /^config\/test\.yaml: runners\.token\.terraformVariable: unknown key/],
  },
  {
    what: "malformed secret ARN",
    config: () => {
      const c = staging();
      c.runners.token = { secretsManagerArn: "my-runner-token" };
      return c;
    },
    expected: [/^config\/test\.yaml: runners\.token\.secretsManagerArn: must be a Secrets Manager secret ARN/],
  },
  {
    what: "git SSH port other than 22 on aws",
    config: () => ({ ...staging(), gitlab: { ...staging().gitlab, sshPort: 2222 } }),
    expected: [/^config\/test\.yaml: gitlab\.sshPort: must be 22 on aws/],
  },
  {
    what: "runner group sizes out of order",
    config: () => ({ ...staging(), runners: { ...staging().runners, minSize: 2, desiredCapacity: 1 } }),
    expected: [/^config\/test\.yaml: runners\.desiredCapacity: must satisfy minSize <= desiredCapacity <= maxSize/],
  },
  {
    what: "the registry on GitLab's own host name",
    config: () => ({ ...homelab(), registry: { hostname: "gitlab" } }),
    expected: [/^config\/test\.yaml: registry\.hostname: is 'gitlab', the same host name as gitlab\.hostname: give each service its own host name$/],
  },
  {
    what: "git SSH on the web host name on aws (it must be DNS-only, the web host is proxied)",
    config: () => ({ ...staging(), gitlab: { ...staging().gitlab, sshHostname: "gitlab-staging" } }),
    expected: [/^config\/test\.yaml: gitlab\.sshHostname: is 'gitlab-staging', the same host name as gitlab\.hostname/],
  },
  {
    what: "Grafana on the registry's host name",
    config: () => ({ ...homelab(), observability: { ...homelab().observability, grafanaHostname: "registry" } }),
    expected: [/^config\/test\.yaml: observability\.grafanaHostname: is 'registry', the same host name as registry\.hostname/],
  },
  {
    what: "git SSH on a port Traefik publishes",
    config: () => ({ ...homelab(), gitlab: { ...homelab().gitlab, sshPort: 443 } }),
    expected: [/^config\/test\.yaml: gitlab\.sshPort: must not be 80 or 443: Traefik publishes those on the Docker host$/],
  },
  {
    what: "wrong enum value",
    config: () => ({ ...homelab(), gitlab: { ...homelab().gitlab, memoryProfile: "tiny" } }),
    expected: [/^config\/test\.yaml: gitlab\.memoryProfile: must be one of 'standard', 'small'/],
  },
  {
    what: "invalid domain",
    config: () => ({ ...homelab(), domain: "Example.COM" }),
    expected: [/^config\/test\.yaml: domain: must be a lower-case domain name/],
  },
  {
    what: "zone id that YAML read as a number",
    config: () => ({ ...homelab(), dns: { ...homelab().dns, zoneId: 0 } }),
    expected: [/^config\/test\.yaml: dns\.zoneId: must be string, got number 0/],
  },
  {
    what: "cron schedule busybox would silently misread",
    config: () => ({ ...homelab(), backups: { ...homelab().backups, schedule: "0 25 * * *" } }),
    expected: [/^config\/test\.yaml: backups\.schedule: invalid cron schedule: hour '25' is out of range 0-23/],
  },
  {
    what: "a list where a mapping belongs",
    config: () => ({ ...homelab(), backups: ["daily"] }),
    expected: [/^config\/test\.yaml: backups: must be object, got a list/],
  },
  {
    what: "a suppression without a reason",
    config: () => ({ ...staging(), policy: { suppressions: [{ rule: "AWS-EC2-IMDSV2", path: "staging/gitlab-server/instance" }] } }),
    expected: [/^config\/test\.yaml: policy\.suppressions\[0\]\.reason: is required \(string\)$/],
  },
  {
    what: "a suppression whose reason is too short to explain the accepted risk",
    config: () => ({
      ...staging(),
      policy: { suppressions: [{ rule: "AWS-EC2-IMDSV2", path: "staging/gitlab-server/instance", reason: "  legacy agent      " }] },
    }),
    expected: [/^config\/test\.yaml: policy\.suppressions\[0\]\.reason: must explain in at least 20 characters why the risk is accepted$/],
  },
];

describe("config mistakes", () => {
  it.each(mistakes.map((m) => [m.what, m] as const))("%s", (_what, mistake) => {
    const problems = problemsOf(mistake.config());
    expect(problems.length).toBeGreaterThan(0);
    for (const line of problems) {
      expect(
        mistake.expected.some((re) => re.test(line)),
        `unexpected problem: ${line}`,
      ).toBe(true);
    }
    for (const re of mistake.expected) {
      expect(
        problems.some((line) => re.test(line)),
        `missing problem ${re}: got\n${problems.join("\n")}`,
      ).toBe(true);
    }
  });

  it("covers at least 10 distinct kinds of mistake", () => {
    expect(mistakes.length).toBeGreaterThanOrEqual(10);
  });

  it("reports all problems of a file at once", () => {
    const c = homelab();
    c.gitlab.version = "latest";
    c.gitlab.sshPort = 0;
    c.runners.build.token = "glrt-xyz";
    c.extra = true;
    const problems = problemsOf(c);
    expect(problems).toHaveLength(4);
    expect(problems.map((p) => p.split(": ")[1]).sort()).toEqual(["extra", "gitlab.sshPort", "gitlab.version", "runners.build.token"]);
  });

  it("reports cross-field problems beside problems elsewhere in the file", () => {
    const aws = staging();
    aws.gitlab.sshPort = 2222;
    aws.runners.minSize = 3;
    aws.runners.desiredCapacity = 1;
    aws.registry = { hostname: aws.gitlab.hostname };
    aws.extra = true;
    expect(
      problemsOf(aws)
        .map((p) => p.split(": ")[1])
        .sort(),
    ).toEqual(["extra", "gitlab.sshPort", "registry.hostname", "runners.desiredCapacity"]);
  });

  it("gives git SSH port 2222 on docker by default, where the host's own OpenSSH has 22", () => {
    const c = homelab();
    delete c.gitlab.sshPort;
    expect(parseConfig(c).environment?.gitlab.sshPort).toBe(2222);
    const aws = staging();
    delete aws.gitlab.sshPort;
    expect(parseConfig(aws).environment?.gitlab.sshPort).toBe(22);
  });

  it("proxies the web records through Cloudflare by default on aws only (docker does not manage the zone's SSL mode)", () => {
    const c = homelab();
    delete c.dns.proxied;
    expect(parseConfig(c).environment?.dns.proxied).toBe(false);
    const aws = staging();
    delete aws.dns.proxied;
    expect(parseConfig(aws).environment?.dns.proxied).toBe(true);
  });

  it("points unknown keys at the key, and bad values at the value", () => {
    const result = parseConfig("platform: docker\ndomain: example.com\ngitlab:\n  hostnmae: git\n  version: latest\n");
    expect(result.problems.find((p) => p.path === "gitlab.hostnmae")).toMatchObject({ line: 4, column: 3 });
    expect(result.problems.find((p) => p.path === "gitlab.version")).toMatchObject({ line: 5, column: 12 });
  });

  it("reports a cascade of identical problems once, and at most 30 per file", () => {
    const lines = Array.from({ length: 60 }, (_, i) => `  unknown${i}: 1`).join("\n");
    const problems = parseConfig(`platform: docker\ndomain: example.com\ngitlab:\n${lines}\n`).problems;
    expect(problems).toHaveLength(31);
    expect(problems[30]?.message).toMatch(/^… and \d+ more problem\(s\)/);
  });

  it("points a misspelt instance type at its line", () => {
    const text = stringify(staging()).replace("instanceType: t3a.xlarge", "instanceType: t3a.xlrage");
    const problem = parseConfig(text).problems.find((p) => p.path === "aws.instanceType");
    expect(problem?.line).toBe(text.split("\n").findIndex((l) => l.includes("t3a.xlrage")) + 1);
  });

  it("gives the line and column of each problem", () => {
    const text = "platform: docker\ndomain: example.com\ngitlab:\n  version: latest\n";
    const result = parseConfig(text);
    const version = result.problems.find((p) => p.path === "gitlab.version");
    expect(version).toMatchObject({ line: 4, column: 12 });
  });
});

describe("YAML-level mistakes", () => {
  it("syntax errors name the line and column", () => {
    const result = parseConfig("platform: docker\ngitlab:\n  version: [1, 2\n");
    expect(result.environment).toBeUndefined();
    expect(result.problems[0]?.message).toMatch(/^YAML: /);
    expect(result.problems[0]?.line).toBeGreaterThanOrEqual(3);
    expect(result.problems[0]?.column).toBeGreaterThanOrEqual(1);
  });

  it("duplicate keys are errors with their position and path", () => {
    const result = parseConfig("platform: docker\ngitlab:\n  version: 18.5.1-ce.0\n  version: 18.4.0-ce.0\n");
    const dup = result.problems.find((p) => /duplicate|unique/i.test(p.message));
    expect(dup).toMatchObject({ path: "gitlab.version", line: 4, column: 3 });
  });

  it("a duplicate key does not hide the file's other problems", () => {
    const y = exampleYaml("staging");
    const text = stringify({ ...y, gitlab: { ...y.gitlab, hostnmae: "git" }, runners: { ...y.runners, token: "glrt-0123456789abcdefghij" } }).replace(
      /^domain: example\.com$/m,
      "domain: example.com\ndomain: example.org",
    );
    const lines = problemsOf(text);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^config\/test\.yaml: domain: YAML: .*(duplicate|unique)/i),
        expect.stringMatching(/^config\/test\.yaml: gitlab\.hostnmae: unknown key/),
        expect.stringMatching(/^config\/test\.yaml: runners\.token: looks like a GitLab runner authentication token/),
      ]),
    );
    expect(parseConfig(text).environment).toBeUndefined();
  });

  it("a duplicate key alone still fails the file", () => {
    const text = stringify(exampleYaml("staging")).replace(/^domain: example\.com$/m, "domain: example.com\ndomain: example.com");
    expect(problemsOf(text)).toEqual([expect.stringMatching(/^config\/test\.yaml: domain: YAML: /)]);
  });

  it("tabs used for indentation are errors", () => {
    const result = parseConfig("platform: docker\ngitlab:\n\tversion: 18.5.1-ce.0\n");
    expect(result.environment).toBeUndefined();
    expect(result.problems[0]?.message).toMatch(/^YAML: .*tab/i);
    expect(result.problems[0]?.line).toBe(3);
  });

  it("an empty file says so", () => {
    expect(problemsOf("")).toEqual(["config/test.yaml: (file): file is empty; start from one of the examples in config/"]);
    expect(problemsOf("# only a comment\n")).toEqual(["config/test.yaml: (file): file is empty; start from one of the examples in config/"]);
  });

  it("a document that is not a mapping says what it must be", () => {
    expect(problemsOf("- a\n- b\n")[0]).toMatch(/\(file\): must be a YAML mapping of settings/);
  });

  it("alias bombs are refused without expanding them", () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 8; i++)
      lines.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(",")}]`,
      );
    const started = performance.now();
    const problems = problemsOf(lines.join("\n"));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(problems[0]).toMatch(/config\/test\.yaml: \(file\): YAML: .*alias/i);
  });

  it("a file that is not UTF-8 is refused", () => {
    const result = parseConfigBytes(new Uint8Array([0x70, 0x6c, 0x61, 0x74, 0xff, 0xfe, 0x0a]));
    expect(result.problems.map((p) => p.message)).toEqual(["file is not valid UTF-8; save it as UTF-8"]);
  });

  it("an environment file name must be a valid stack name", () => {
    expect(problemsOf(exampleYaml("homelab"), "My_Env")[0]).toMatch(
      /config\/My_Env\.yaml: \(file\): the file name 'My_Env' must be a lower-case environment name/,
    );
  });
});

import { parseEnvironment } from "../../config/load";
function parseConfigBytes(bytes: Uint8Array) {
  return parseEnvironment("config/test.yaml", bytes);
}
