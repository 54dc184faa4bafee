// What each example deploys, as reviewers will see it: any change to a stack shows up as a
// snapshot diff in the merge request. The property tests are the real assertions.
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { decodeUserData } from "../../scripts/verify/extract";
import { exampleEnvironments, exampleStack, REPO_ROOT, stackNamesOf } from "../examples";

const ENCODED_USER_DATA = new Set(["user_data", "user_data_base64"]);

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** A Grafana dashboard's JSON (it has panels). */
function isDashboard(text: string): boolean {
  if (!text.startsWith("{")) return false;
  try {
    return Array.isArray(JSON.parse(text).panels);
  } catch {
    return false;
  }
}

/**
 * The stack as a reviewer reads it: the structure of the synthesized JSON, with every
 * multi-line string (gitlab.rb, config files, units) split into its lines, so a one-line change
 * is a one-line diff. The long bodies that have tests of their own stand as a content hash and
 * a line count: EC2 user data (decoded: test/constructs/ec2-user-data.test.ts, `npm run
 * verify`), scripts (shellcheck and runtime tests in test/scripts/) and Grafana dashboards
 * (test/userdata/monitoring/grafana.test.ts). Any change to them still changes the snapshot.
 */
function reviewable(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    const decoded = ENCODED_USER_DATA.has(key) ? decodeUserData(value, true) : undefined;
    if (decoded && "text" in decoded) return { "user data (decoded)": { sha256: sha256(decoded.text), lines: decoded.text.split("\n").length } };
    if (!value.includes("\n")) return value;
    if (value.startsWith("#!")) return { script: { sha256: sha256(value), lines: value.split("\n").length, interpreter: value.slice(2, value.indexOf("\n")) } };
    if (isDashboard(value)) return { "grafana dashboard": { sha256: sha256(value), uid: JSON.parse(value).uid } };
    return { lines: value.split("\n") };
  }
  if (Array.isArray(value)) return value.map((v) => reviewable(v));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviewable(v, k)]));
  }
  return value;
}

describe("synthesized example environments", () => {
  it.each(stackNamesOf(exampleEnvironments().map((e) => e.name)).map((name) => [name] as const))("%s matches its snapshot", (name) => {
    const stack = exampleStack(name);
    const json = JSON.stringify(stack, null, 2);
    // Stable across machines: nothing from the checkout's location or the temp directory.
    expect(json).not.toContain(REPO_ROOT);
    expect(json).not.toContain(tmpdir());
    expect(JSON.stringify(reviewable(stack), null, 2)).toMatchSnapshot();
  });

  it("stands user data, scripts and dashboards as the hash of their content", () => {
    const staging = exampleStack("staging");
    const instance = Object.values(staging.resource.aws_instance!)[0] as { user_data_base64: string };
    const decoded = decodeUserData(instance.user_data_base64, true);
    if (!("text" in decoded)) throw new Error("staging's user data is not readable offline");
    expect(decoded.text.startsWith("#cloud-config")).toBe(true);
    expect(reviewable(instance.user_data_base64, "user_data_base64")).toEqual({
      "user data (decoded)": { sha256: sha256(decoded.text), lines: decoded.text.split("\n").length },
    });

    const homelab = exampleStack("homelab");
    const uploads = Object.values(homelab.resource.docker_container!).flatMap((c) => (c.upload ?? []) as { content: string }[]);
    const script = uploads.find((u) => u.content.startsWith("#!/bin/sh\n"))!.content;
    expect(reviewable(script)).toEqual({ script: { sha256: sha256(script), lines: script.split("\n").length, interpreter: "/bin/sh" } });
    const dashboards = uploads.filter((u) => isDashboard(u.content));
    expect(dashboards.length).toBe(5);
    expect(reviewable(dashboards[0]!.content)).toEqual({ "grafana dashboard": { sha256: sha256(dashboards[0]!.content), uid: "gitlab-overview" } });
    // Other multi-line files stay readable, one line per line.
    const gitlabRb = uploads.find((u) => u.content.includes("external_url"))!.content;
    expect(reviewable(gitlabRb)).toEqual({ lines: gitlabRb.split("\n") });
  });
});
