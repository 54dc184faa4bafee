import { describe, expect, it } from "vitest";
import { Token } from "cdktf";
import { terraformLiteral } from "../../constructs/terraform-literal";
import { stackTemplateProblems, unescapeTemplate } from "../../scripts/verify/terraform";
import { exampleEnvironments, exampleStack } from "../examples";

describe("terraformLiteral", () => {
  it("escapes shell and template syntax so Terraform writes it unchanged", () => {
    const script = 'echo "${HOME:-/root}" %{x} ${A//-/}';
    expect(terraformLiteral(script)).toBe('echo "$${HOME:-/root}" %%{x} $${A//-/}');
    expect(unescapeTemplate(terraformLiteral(script))).toBe(script);
  });

  it("keeps cdktf references live", () => {
    const ref = Token.asString({ resolve: () => "x" });
    expect(terraformLiteral(`ID=${ref}\nX=\${HOME}`)).toBe(`ID=${ref}\nX=$\${HOME}`);
  });
});

describe("synthesized examples", () => {
  it.each(exampleEnvironments().map((e) => [e.name, e] as const))("%s holds no string Terraform would misread as a template", (_name, env) => {
    expect(stackTemplateProblems(exampleStack(env.name))).toEqual([]);
  });
});
