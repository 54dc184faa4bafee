// What each example deploys, as reviewers will see it: any change to a stack shows up as a
// snapshot diff in the merge request. The property tests are the real assertions.
import { describe, expect, it } from "vitest";
import { tmpdir } from "node:os";
import { exampleEnvironments, REPO_ROOT, synthEnvironment } from "../helpers";

describe("synthesized example environments", () => {
  it.each(exampleEnvironments().map((e) => [e.name, e] as const))("%s matches its snapshot", (_name, env) => {
    const json = JSON.stringify(synthEnvironment(env), null, 2);
    // Stable across machines: nothing from the checkout's location or the temp directory.
    expect(json).not.toContain(REPO_ROOT);
    expect(json).not.toContain(tmpdir());
    expect(json).toMatchSnapshot();
  });
});
