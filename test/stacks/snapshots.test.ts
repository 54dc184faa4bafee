// What each example deploys, as reviewers will see it: any change to a stack shows up as a
// snapshot diff in the merge request. The property tests are the real assertions.
import { describe, expect, it } from "vitest";
import { tmpdir } from "node:os";
import { decodeUserData } from "../../scripts/verify/extract";
import { exampleEnvironments, REPO_ROOT, synthEnvironment } from "../helpers";

const ENCODED_USER_DATA = new Set(["user_data", "user_data_base64"]);

/**
 * The stack as a reviewer reads it: EC2 user data decoded (it is one gzipped, escaped line in
 * the JSON) and every multi-line string (gitlab.rb, scripts, units) split into its lines, so a
 * one-line change is a one-line diff. Everything else is the synthesized JSON itself.
 */
function reviewable(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    const decoded = ENCODED_USER_DATA.has(key) ? decodeUserData(value, true) : undefined;
    const text = decoded && "text" in decoded ? decoded.text : value;
    if (!text.includes("\n")) return value;
    return { [decoded && "text" in decoded ? "decoded lines" : "lines"]: text.split("\n") };
  }
  if (Array.isArray(value)) return value.map((v) => reviewable(v));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviewable(v, k)]));
  }
  return value;
}

describe("synthesized example environments", () => {
  it.each(exampleEnvironments().map((e) => [e.name, e] as const))("%s matches its snapshot", (_name, env) => {
    const stack = synthEnvironment(env);
    const json = JSON.stringify(stack, null, 2);
    // Stable across machines: nothing from the checkout's location or the temp directory.
    expect(json).not.toContain(REPO_ROOT);
    expect(json).not.toContain(tmpdir());
    expect(JSON.stringify(reviewable(stack), null, 2)).toMatchSnapshot();
  });

  it("shows user data decoded, one line per line", () => {
    const staging = reviewable(synthEnvironment(exampleEnvironments().find((e) => e.name === "staging")!)) as any;
    const instance = Object.values(staging.resource.aws_instance)[0] as any;
    const lines: string[] = instance.user_data_base64["decoded lines"];
    expect(lines[0]).toBe("#cloud-config");
    expect(lines).toContain("      external_url 'https://gitlab-staging.example.com'");
  });
});
