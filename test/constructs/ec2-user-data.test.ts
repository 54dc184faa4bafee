// EC2 user data as an HCL expression: literal pieces that Terraform must decode to exactly
// the document, references between them, gzip at apply, and the size limit at synth.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { EC2_USER_DATA_LIMIT_BYTES, gzippedUserData, hclString } from "../../constructs/ec2-user-data";
import { decodeUserData } from "../../scripts/verify/extract";
import { templateProblems } from "../../scripts/verify/terraform";
import { findTool } from "../../scripts/verify/tools";
import { exampleStack, resources, userDataText } from "../examples";

const NASTY = 'echo "${HOME:-/root}" %{x} \\ back\\slash\ttab\r\n\u0008\u000c ${TfToken[TOKEN.1]} end }{ $$ %% ✓\n';

describe("hclString", () => {
  it("writes no template sequence and no raw brace, dollar or percent sign", () => {
    const s = hclString(NASTY);
    expect(s).not.toMatch(/[${}%]/);
    expect(templateProblems(`\${x(${s})}`)).toEqual([]);
  });

  it("uses only escapes HCL and JSON share, so it reads back as the same text", () => {
    expect(JSON.parse(hclString(NASTY))).toBe(NASTY);
    expect(hclString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(hclString("${x}")).toBe('"\\u0024\\u007bx\\u007d"');
  });

  it("escapes C0 controls and DEL, and leaves other characters as they are (C1 controls, astral ones)", () => {
    expect(hclString("\u0000\u001f\u007f\u0085\u{1f600}é")).toBe('"\\u0000\\u001f\\u007f\u0085\u{1f600}é"');
  });
});

describe("gzippedUserData", () => {
  it("puts each cdktf reference between literal pieces, never inside a quoted string", () => {
    const expr = gzippedUserData("id=${TfToken[TOKEN.7]}\nok\n", "test");
    expect(expr).toBe('${base64gzip(join("", ["id=", ${TfToken[TOKEN.7]}, "\\nok\\n"]))}');
  });

  it("refuses a document that would not fit in EC2's limit even gzipped, naming it", () => {
    const random = randomBytes(EC2_USER_DATA_LIMIT_BYTES).toString("base64"); // incompressible
    expect(() => gzippedUserData(random, "GitLab server")).toThrow(/^GitLab server user data is \d+ bytes gzipped, over EC2's limit of 16384/);
  });

  it("renders references bare in the synthesized stacks, and verify reads the document back with them", () => {
    const stack = exampleStack("staging");
    const server = resources(stack, "aws_instance")[0].user_data_base64 as string;
    expect(server).toMatch(/", aws_ebs_volume\.[\w-]+\.id, "/);
    expect(server).not.toMatch(/"[^"]*\$\{aws_/);
    expect(userDataText(resources(stack, "aws_instance")[0])).toMatch(/^ {6}DATA_VOLUME_ID=\$\{aws_ebs_volume\.[\w-]+\.id\}$/m);
    expect(decodeUserData('${base64gzip(join("", ["a", aws_x.y.id, bad stuff]))}', true)).toEqual({ unknown: expect.stringContaining("join()") });
  });

  // Terraform itself, where installed (no providers needed): the pieces evaluate to exactly the document.
  it.skipIf(!findTool("terraform"))("evaluates in Terraform to exactly the document verify checks", () => {
    const stack = exampleStack("production");
    for (const resource of [resources(stack, "aws_instance")[0], resources(stack, "aws_launch_template")[0]]) {
      const raw: string = resource.user_data_base64 ?? resource.user_data;
      const expr = raw
        .slice(2, -1)
        .replace(/^base64gzip\(/, "jsonencode(")
        .replace(/, (aws_[\w.-]+)(?=,|\])/g, (_, ref: string) => `, "REF:${ref}"`);
      const r = spawnSync("terraform", ["console"], {
        input: `${expr}\n`,
        encoding: "utf8",
        cwd: mkdtempSync(`${tmpdir()}/tf-console-`),
        env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null" },
      });
      expect(r.status, r.stderr).toBe(0);
      const expected = userDataText(resource).replace(/\$\{(aws_[\w.-]+)\}/g, (_, ref: string) => `REF:${ref}`);
      expect(JSON.parse(JSON.parse(r.stdout.trim()))).toBe(expected);
    }
  });
});
