import { describe, expect, it } from "vitest";
import { exampleEnvironments, exampleYaml, synthEnvironment, synthToDisk, validEnvironment } from "../helpers";

const withState = (name: string, state: unknown) => {
  const c = exampleYaml(name);
  c.state = state;
  return synthEnvironment(validEnvironment(c, name)).terraform;
};

/** Anything that looks like a credential in a backend block. */
const CREDENTIAL_KEYS = /password|token|secret|access_key|username|credentials|headers/i;

describe("state backends", () => {
  it.each(["homelab", "staging"])("%s defaults (no state: section) to local state in the project root, outside cdktf.out", (name) => {
    const c = exampleYaml(name);
    delete c.state;
    expect(synthEnvironment(validEnvironment(c, name)).terraform.backend).toEqual({ local: { path: `../../../terraform.${name}.tfstate` } });
  });

  it("the examples keep their state where the pipeline can reach it: GitLab for the homelabs, S3 on aws and the cluster — one backend each, as cdktf synth writes them", () => {
    // A full synth: cdktf adds a default local backend to any stack without a backend construct.
    const stacks = synthToDisk(exampleEnvironments());
    const backends = Object.fromEntries(Object.entries(stacks).map(([name, stack]) => [name, stack.terraform.backend]));
    expect(backends).toEqual({
      cluster: { s3: expect.objectContaining({ bucket: "example-gitlab-platform-tfstate", key: "gitlab-platform/cluster.tfstate" }) },
      homelab: { http: {} },
      "k3s-homelab": { http: {} },
      production: { s3: expect.objectContaining({ bucket: "example-gitlab-platform-tfstate", key: "gitlab-platform/production.tfstate" }) },
      staging: { s3: expect.objectContaining({ bucket: "example-gitlab-platform-tfstate", key: "gitlab-platform/staging.tfstate" }) },
    });
  });

  it("every backend choice synthesizes exactly one backend block", () => {
    const c = exampleYaml("homelab");
    const variants = [{ backend: "local" }, { backend: "gitlab" }, { backend: "s3", bucket: "b-state", region: "eu-west-3" }].map((state, i) =>
      validEnvironment({ ...c, state }, `homelab-${i}`),
    );
    const blocks = Object.values(synthToDisk(variants)).map((s) => Object.keys(s.terraform.backend));
    expect(blocks).toEqual([["local"], ["http"], ["s3"]]);
  });

  it("S3: encrypted, with Terraform's native lock file and a per-environment key", () => {
    expect(withState("staging", { backend: "s3", bucket: "example-tf-state", region: "eu-west-3" }).backend).toEqual({
      s3: { bucket: "example-tf-state", key: "gitlab-platform/staging.tfstate", region: "eu-west-3", encrypt: true, use_lockfile: true },
    });
    const kms = "arn:aws:kms:eu-west-3:111111111111:key/00000000-0000-0000-0000-000000000000";
    expect(withState("staging", { backend: "s3", bucket: "b-state", region: "eu-west-3", key: "x/y.tfstate", kmsKeyId: kms }).backend.s3).toMatchObject({
      key: "x/y.tfstate",
      kms_key_id: kms,
    });
  });

  it("GitLab-managed: an empty http block; address and credentials come from TF_HTTP_* in CI", () => {
    expect(withState("homelab", { backend: "gitlab" }).backend).toEqual({ http: {} });
  });

  it("never writes credentials into a backend block", () => {
    for (const state of [{ backend: "local" }, { backend: "s3", bucket: "b-state", region: "eu-west-3" }, { backend: "gitlab" }]) {
      const backend = withState("staging", state).backend;
      const keys = JSON.stringify(backend).match(/"([a-z_]+)":/g) ?? [];
      expect(keys.filter((k) => CREDENTIAL_KEYS.test(k))).toEqual([]);
    }
  });

  it("refuses credentials or addresses in config", () => {
    const c = exampleYaml("staging");
    c.state = { backend: "gitlab", address: "https://gitlab.example.com/api/v4/projects/1/terraform/state/staging", password: "glpat-0123456789abcdefghij" };
    expect(() => validEnvironment(c, "staging")).toThrow(/expected a valid config/);
  });
});
