// Environments cannot collide: across every file of the config directory, what one Terraform
// state owns (the state itself, host names and their Cloudflare records, buckets, a Docker
// host) belongs to one environment. A copied example that was not edited fails, naming both
// files and the field to change; the README's "Adding an environment" edits make it pass.
import { cpSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/errors";
import { loadEnvironments } from "../../config/load";
import { CONFIG_DIR, exampleYaml, resources, synthEnvironment, validEnvironment } from "../helpers";

/** The examples in a scratch config directory, each dated `base`. */
function examplesDir(): string {
  const dir = join(mkdtempSync(join(tmpdir(), "collisions-")), "config");
  cpSync(CONFIG_DIR, dir, { recursive: true });
  for (const f of ["cluster", "homelab", "k3s-homelab", "production", "staging"]) utimesSync(join(dir, `${f}.yaml`), 1_000_000, 1_000_000);
  return dir;
}

/** `cp config/<from>.yaml config/<to>.yaml`, later than the examples, optionally edited. */
function copy(dir: string, from: string, to: string, edit: (text: string) => string = (t) => t): void {
  writeFileSync(join(dir, `${to}.yaml`), edit(readFileSync(join(dir, `${from}.yaml`), "utf8")));
  utimesSync(join(dir, `${to}.yaml`), 2_000_000, 2_000_000);
}

function problems(dir: string, only?: string[]): string[] {
  try {
    loadEnvironments(dir, only);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Files are shown relative to the working directory.
    const shownDir = relative(process.cwd(), dir);
    return error.message.split("\n").map((l) => l.replaceAll(shownDir, "config"));
  }
}

const lineOf = (dir: string, file: string, text: string) =>
  readFileSync(join(dir, file), "utf8")
    .split("\n")
    .findIndex((l) => l.includes(text)) + 1;

describe("environments cannot collide", () => {
  it("the examples do not collide with each other", () => {
    expect(problems(examplesDir())).toEqual([]);
  });

  it("an unedited copy of staging fails on its state key and every host name, naming both files and the field", () => {
    const dir = examplesDir();
    copy(dir, "staging", "qa");
    const found = problems(dir);
    const stateLine = lineOf(dir, "staging.yaml", "key: gitlab-platform/staging.tfstate");
    expect(found).toContain(
      `config/qa.yaml: state.key: Terraform state s3://example-gitlab-platform-tfstate/gitlab-platform/staging.tfstate is also config/staging.yaml's (state.key, line ${stateLine}): two environments would overwrite each other's state: give this one its own state.key (e.g. gitlab-platform/qa.tfstate) (line ${stateLine}, column 8)`,
    );
    for (const field of ["gitlab.hostname", "gitlab.sshHostname", "registry.hostname"]) {
      expect(
        found.find((l) => l.startsWith(`config/qa.yaml: ${field}: host name `)),
        field,
      ).toMatch(/is also config\/staging\.yaml's \(.+, line \d+\): each environment needs its own host names/);
    }
    expect(found.find((l) => l.includes("gitlab.hostname"))).toContain(
      "host name gitlab-staging.example.com (a Cloudflare record in zone 00000000000000000000000000000000)",
    );
    // Its buckets are named after the file (aws.bucketPrefix unset): they do not collide.
    expect(found.filter((l) => l.includes("bucket"))).toEqual([]);
    expect(found).toHaveLength(4);
  });

  it("an unedited copy of production also fails on the zone's SSL mode, which one environment owns", () => {
    const dir = examplesDir();
    copy(dir, "production", "qa");
    expect(problems(dir).find((l) => l.startsWith("config/qa.yaml: tls.strictSslMode: "))).toMatch(
      /the SSL mode of Cloudflare zone 0{32} is also config\/production\.yaml's \(tls\.strictSslMode, line \d+\): a zone has one SSL mode and one environment must own it: set tls\.strictSslMode: false here/,
    );
  });

  it("an unedited copy of homelab fails on its Docker host and host names", () => {
    const dir = examplesDir();
    copy(dir, "homelab", "lab2");
    const found = problems(dir);
    const line = (file: string) => lineOf(dir, file, "publicAddress:");
    expect(found).toContain(
      `config/lab2.yaml: docker.publicAddress: the Docker host at 192.0.2.10 is also config/homelab.yaml's (docker.publicAddress, line ${line("homelab.yaml")}): one environment per Docker host: two would create the same containers (their names are fixed) and both need ports 80 and 443 there: give this environment its own host and its address (line ${line("lab2.yaml")}, column 18)`,
    );
    expect(found.map((l) => l.split(": ")[1])).toEqual([
      "gitlab.hostname",
      "gitlab.sshHostname",
      "registry.hostname",
      "observability.grafanaHostname",
      "docker.publicAddress",
    ]);
  });

  it("an unedited copy of k3s-homelab fails on its host names, buckets and namespaces on the same cluster context", () => {
    const dir = examplesDir();
    copy(dir, "k3s-homelab", "k3s-lab2");
    const found = problems(dir);
    expect(found.map((l) => l.split(": ")[1])).toEqual([
      "gitlab.hostname",
      "gitlab.sshHostname",
      "registry.hostname",
      "kubernetes.argocd.hostname",
      "objectStorage.bucketPrefix",
      "backups.secretsBucket",
      "kubernetes.namespace",
      "runners.namespace",
    ]);
    expect(found.every((l) => l.startsWith("config/k3s-lab2.yaml: ") && l.includes("is also config/k3s-homelab.yaml's"))).toBe(true);
    expect(found.find((l) => l.includes("kubernetes.namespace: "))).toMatch(
      /namespace gitlab of kubeconfig context \S+ is also config\/k3s-homelab\.yaml's .*give this environment its own namespaces/,
    );
  });

  it("two identical new files fail too: the newer one is reported, naming the older", () => {
    const dir = examplesDir();
    copy(dir, "staging", "qa1", (t) =>
      t
        .replace("gitlab-staging", "gitlab-qa")
        .replace("ssh-gitlab-staging", "ssh-gitlab-qa")
        .replace("registry-staging", "registry-qa")
        .replace("staging.tfstate", "qa.tfstate"),
    );
    copy(dir, "qa1", "qa2");
    utimesSync(join(dir, "qa2.yaml"), 3_000_000, 3_000_000);
    const found = problems(dir);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((l) => l.startsWith("config/qa2.yaml: ") && l.includes("is also config/qa1.yaml's"))).toBe(true);
  });

  it("a copy edited as the README's 'Adding an environment' says passes", () => {
    const dir = examplesDir();
    copy(dir, "staging", "qa", (t) =>
      t
        .replace("key: gitlab-platform/staging.tfstate", "key: gitlab-platform/qa.tfstate")
        .replace("hostname: gitlab-staging", "hostname: gitlab-qa")
        .replace("sshHostname: ssh-gitlab-staging", "sshHostname: ssh-gitlab-qa")
        .replace("hostname: registry-staging", "hostname: registry-qa"),
    );
    copy(dir, "homelab", "lab2", (t) =>
      t.replace(/^domain: .*$/m, "domain: lab2.example.com").replace("publicAddress: 192.0.2.10", "publicAddress: 192.0.2.20"),
    );
    expect(problems(dir)).toEqual([]);
  });

  it("a state key that is another environment's second stack's (<env>-gitlab) collides too", () => {
    const dir = examplesDir();
    copy(dir, "staging", "qa", (t) =>
      t
        .replace("key: gitlab-platform/staging.tfstate", "key: gitlab-platform/staging-gitlab.tfstate")
        .replaceAll("gitlab-staging", "gitlab-qa")
        .replace("registry-staging", "registry-qa"),
    );
    expect(problems(dir).filter((l) => l.includes("state.key"))).toEqual([
      expect.stringMatching(
        /^config\/qa\.yaml: state\.key: Terraform state s3:\/\/example-gitlab-platform-tfstate\/gitlab-platform\/staging-gitlab\.tfstate is also config\/staging\.yaml's/,
      ),
    ]);
  });

  it("bucket prefixes written out collide like any other name", () => {
    const dir = examplesDir();
    const withPrefix = (t: string) => t.replace("  instanceType: t3a.xlarge\n", "  instanceType: t3a.xlarge\n  bucketPrefix: acme-gitlab\n");
    writeFileSync(join(dir, "staging.yaml"), withPrefix(readFileSync(join(dir, "staging.yaml"), "utf8")));
    writeFileSync(join(dir, "production.yaml"), withPrefix(readFileSync(join(dir, "production.yaml"), "utf8")));
    utimesSync(join(dir, "production.yaml"), 1_000_000, 1_000_000);
    utimesSync(join(dir, "staging.yaml"), 2_000_000, 2_000_000);
    expect(problems(dir)).toEqual([
      expect.stringMatching(
        /^config\/staging\.yaml: aws\.bucketPrefix: S3 bucket acme-gitlab-registry is also config\/production\.yaml's \(aws\.bucketPrefix, line \d+\): bucket names are global and each environment writes its own: set a different aws\.bucketPrefix \(line \d+, column \d+\)$/,
      ),
    ]);
  });

  it("with some environments selected, a collision is reported on the selected one, and other files' own problems are not", () => {
    const dir = examplesDir();
    copy(dir, "staging", "qa");
    writeFileSync(join(dir, "broken.yaml"), "platform: aws\n");
    // staging is the older file, but it is the one being synthesized.
    const found = problems(dir, ["staging"]);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((l) => l.startsWith("config/staging.yaml: ") && l.includes("is also config/qa.yaml's"))).toBe(true);
    expect(problems(dir, ["homelab"])).toEqual([]);
  });

  it("two docker environments on one host would indeed share container names and ports 80/443", () => {
    const other = exampleYaml("homelab");
    other.domain = "lab2.example.com";
    const a = synthEnvironment(validEnvironment(exampleYaml("homelab"), "homelab"));
    const b = synthEnvironment(validEnvironment(other, "lab2"));
    const names = (s: typeof a) => resources(s, "docker_container").map((c) => c.name as string);
    expect(names(a).filter((n) => names(b).includes(n)).length).toBeGreaterThan(0);
    const published = (s: typeof a) => resources(s, "docker_container").flatMap((c) => (c.ports ?? []).map((p: { external: number }) => p.external));
    expect(published(b)).toEqual(expect.arrayContaining([80, 443]));
    expect(published(a)).toEqual(expect.arrayContaining([80, 443]));
  });

  it("a suppression copied from another environment's file says whose it is, with file and line", () => {
    const dir = examplesDir();
    const suppression =
      "policy:\n  suppressions:\n    - rule: AWS-SG-INGRESS\n      path: staging/gitlab-server/ingress-git-ssh-ipv6\n      reason: IPv6 git SSH for the Berlin office until their VPN lands\n";
    copy(
      dir,
      "staging",
      "qa",
      (t) =>
        `${t
          .replace("key: gitlab-platform/staging.tfstate", "key: gitlab-platform/qa.tfstate")
          .replace("hostname: gitlab-staging", "hostname: gitlab-qa")
          .replace("sshHostname: ssh-gitlab-staging", "sshHostname: ssh-gitlab-qa")
          .replace("hostname: registry-staging", "hostname: registry-qa")}\n${suppression}`,
    );
    const line = lineOf(dir, "qa.yaml", "path: staging/gitlab-server");
    expect(problems(dir)).toEqual([
      `config/qa.yaml: policy.suppressions[0].path: 'staging/gitlab-server/ingress-git-ssh-ipv6' belongs to environment 'staging' (config/staging.yaml): a path starts with its stack's name, here 'qa/' (line ${line}, column 13)`,
    ]);
  });
});
