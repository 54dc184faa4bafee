// Config errors a person can act on: the misspelled key's likely meaning, the key whose
// indentation broke the file, a config directory that is not there.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigDirectoryError } from "../../config/errors";
import { loadEnvironments } from "../../config/load";
import { didYouMean } from "../../config/schema-keys";
import { editDistance } from "../../config/schema/did-you-mean";
import { CONFIG_DIR, exampleYaml, parseConfig, problemsOf } from "../helpers";

const staging = readFileSync(join(CONFIG_DIR, "staging.yaml"), "utf8");
const lineOf = (text: string, needle: string) => text.split("\n").findIndex((l) => l.includes(needle)) + 1;

describe("unknown keys: did you mean", () => {
  it.each([
    ["aws", "instanceTpye", "instanceType"],
    ["aws", "dataVolumeGB", "dataVolumeGb"],
    ["runners", "maxsize", "maxSize"],
    ["backups", "snapshotRetention", undefined],
  ])("%s.%s", (section, key, suggestion) => {
    const c = exampleYaml("staging");
    c[section][key] = 1;
    const line = problemsOf(c, "staging").find((l) => l.includes(`${section}.${key}:`));
    expect(line).toBe(
      `config/staging.yaml: ${section}.${key}: ${suggestion ? `unknown key; did you mean '${suggestion}'?` : "unknown key; check its spelling against config/environment.schema.json"}`,
    );
  });

  it("looks in the right place: nested sections, list items, the platform's own schema", () => {
    const homelab = exampleYaml("homelab");
    homelab.runners.build.jobimage = "alpine:3.20";
    homelab.backups.nfs.exprt = "/mnt/x";
    expect(problemsOf(homelab, "homelab")).toEqual(
      expect.arrayContaining([
        "config/homelab.yaml: runners.build.jobimage: unknown key; did you mean 'jobImage'?",
        "config/homelab.yaml: backups.nfs.exprt: unknown key; did you mean 'export'?",
      ]),
    );
    const withSuppression = exampleYaml("staging");
    withSuppression.policy = { suppressions: [{ rule: "AWS-SG-INGRESS", path: "staging/x/y", reason: "long enough reason for the test", reasn: "x" }] };
    expect(problemsOf(withSuppression, "staging")).toContain("config/staging.yaml: policy.suppressions[0].reasn: unknown key; did you mean 'reason'?");
  });

  it("suggests only close keys", () => {
    expect(editDistance("hostnmae", "hostname")).toBe(1);
    expect(didYouMean("hostnmae", ["hostname", "sshHostname"])).toBe("hostname");
    expect(didYouMean("x", ["hostname"])).toBeUndefined();
    expect(didYouMean("monitoring", ["observability", "backups"])).toBeUndefined();
  });
});

describe("YAML indentation errors name the field they broke", () => {
  const cases = [
    {
      what: "a key indented deeper than the one above it",
      text: staging.replace("  vpcId:", "   vpcId:"),
      line: lineOf(staging, "  vpcId:"),
      expected:
        "config/staging.yaml: aws.vpcId: YAML: 'vpcId' (line 18) is indented deeper than 'region' above it, so it reads as part of region's value: start it in column 3, like region",
    },
    {
      what: "a key indented less than its neighbours",
      text: staging.replace("  vpcCidr:", " vpcCidr:"),
      line: lineOf(staging, "  vpcCidr:"),
      expected: "config/staging.yaml: aws.vpcCidr: YAML: 'vpcCidr' starts in column 2; the other keys of its section start in column 3: indent it the same",
    },
    {
      what: "a nested key under a scalar",
      text: staging.replace("  dataVolumeGb: 200", "  dataVolumeGb: 200\n    rootVolumeGb: 40"),
      line: lineOf(staging, "  dataVolumeGb: 200") + 1,
      expected: `config/staging.yaml: aws.rootVolumeGb: YAML: 'rootVolumeGb' (line ${lineOf(staging, "  dataVolumeGb: 200") + 1}) is indented deeper than 'dataVolumeGb' above it, so it reads as part of dataVolumeGb's value: start it in column 3, like dataVolumeGb`,
    },
    {
      what: "no space after the colon",
      text: staging.replace("  dataVolumeGb: 200", "  dataVolumeGb:200"),
      line: lineOf(staging, "  dataVolumeGb: 200"),
      expected: "config/staging.yaml: aws.dataVolumeGb: YAML: put a space after the colon: 'dataVolumeGb: 200'",
    },
  ];
  it.each(cases.map((c) => [c.what, c] as const))("%s", (_what, c) => {
    // One problem, not the cascade of parser errors on every line after it, at the key to move.
    expect(problemsOf(c.text, "staging")).toEqual([c.expected]);
    expect(parseConfig(c.text, "staging").problems[0]).toMatchObject({ line: c.line });
  });
});

describe("a file with almost nothing in it", () => {
  it("lists the missing sections instead of stopping with a stack trace", () => {
    const found = problemsOf("platform: aws\ndomain: example.com\n", "qa");
    expect(found).toEqual(expect.arrayContaining(["config/qa.yaml: aws: is required (object)", "config/qa.yaml: runners: is required (object)"]));
  });
});

describe("the config directory", () => {
  it("a missing one is one line, naming it (and GITLAB_CONFIG_DIR when that is what points there)", () => {
    const previous = process.env.GITLAB_CONFIG_DIR;
    process.env.GITLAB_CONFIG_DIR = "/nowhere/config";
    try {
      expect(() => loadEnvironments("/nowhere/config")).toThrow(ConfigDirectoryError);
      expect(() => loadEnvironments("/nowhere/config")).toThrow(
        /^\/nowhere\/config: no such directory; it should hold the environment files \(<env>\.yaml\) — GITLAB_CONFIG_DIR points there: fix it, or unset it to use config\/$/,
      );
    } finally {
      if (previous === undefined) delete process.env.GITLAB_CONFIG_DIR;
      else process.env.GITLAB_CONFIG_DIR = previous;
    }
    expect(() => loadEnvironments(join(CONFIG_DIR, "staging.yaml"))).toThrow(/staging\.yaml: not a directory/);
  });
});
