import { describe, expect, it } from "vitest";
import { exampleEnvironments, synthEnvironment } from "../helpers";

describe("state backend", () => {
  it.each(exampleEnvironments().map((e) => [e.name, e] as const))("%s keeps local state in the project root, outside cdktf.out", (name, env) => {
    expect(synthEnvironment(env).terraform.backend).toEqual({ local: { path: `../../../terraform.${name}.tfstate` } });
  });
});
