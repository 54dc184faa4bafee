// Host scripts as embedded in EC2 user data: comments stripped for the 16 KB limit, code intact.
import { describe, expect, it } from "vitest";
import { checkShell } from "../../scripts/verify/checkers";
import { findTool, isStrict } from "../../scripts/verify/tools";
import { compactScript, compactScriptText, hostScript } from "../../userdata/host-scripts";

/** The scripts EC2 user data embeds compacted (server, backups, runner fleet). */
const SCRIPTS = [
  "gitlab-bootstrap.sh",
  "gitlab-apply-settings.sh",
  "gitlab-backup-s3.sh",
  "runner-bootstrap.sh",
  "spot-interruption-watcher.sh",
  "runner-termination-handler.sh",
  "docker-cleanup.sh",
] as const;

describe("compactScript", () => {
  // What runs is tested by the runtime tests (test/scripts/), which execute these compacted texts.
  it.each(SCRIPTS)("starts with the shebang and names the commented original in %s", (name) => {
    const [shebang, pointer] = compactScript(name).split("\n");
    expect(shebang).toBe(hostScript(name).split("\n")[0]);
    expect(pointer).toBe(`# userdata/scripts/${name} without comments`);
  });

  it("strips full-line comments and blank lines only, and refuses a heredoc, where a '#' line could be data", () => {
    const script = "#!/bin/sh\n# about\n\n  # indented comment\necho '# not a comment' # trailing\n# shellcheck disable=SC2086\nx=1\n";
    expect(compactScriptText(script, "x.sh")).toBe("#!/bin/sh\n# x.sh without comments\necho '# not a comment' # trailing\n# shellcheck disable=SC2086\nx=1\n");
    expect(() => compactScriptText("#!/bin/sh\ncat <<EOF\n# data\nEOF\n", "h.sh")).toThrow(/h\.sh has a heredoc/);
  });

  it.each(SCRIPTS)("keeps shellcheck directives and no other comment in %s, and is smaller", (name) => {
    const body = compactScript(name).split("\n").slice(2);
    expect(body.filter((l) => /^\s*#/.test(l)).every((l) => /^\s*#\s*shellcheck\s/.test(l))).toBe(true);
    const directives = hostScript(name).split("\n").filter((l) => /^\s*#\s*shellcheck\s/.test(l));
    expect(body.filter((l) => /^\s*#/.test(l))).toEqual(directives);
    expect(compactScript(name).length).toBeLessThan(hostScript(name).length);
  });

  it.each(SCRIPTS)("leaves %s passing shellcheck", async (name) => {
    if (!findTool("shellcheck") && !isStrict()) return;
    const result = await checkShell(compactScript(name), name);
    expect(result.findings).toEqual([]);
  });
});
