// Host scripts as embedded in EC2 user data: comments stripped for the 16 KB limit, code intact.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkShell, checkShellFile } from "../../scripts/verify/checkers";
import { findTool, isStrict } from "../../scripts/verify/tools";
import { compactScript, compactScriptText, type HostScript, hostScript, inlineLibraries, libraryInclude } from "../../userdata/host-scripts";
import { REPO_ROOT } from "../examples";

/** The scripts EC2 user data embeds compacted (server, backups, runner fleet). */
const SCRIPTS = [
  "gitlab-bootstrap.sh",
  "gitlab-apply-settings.sh",
  "gitlab-backup-s3.sh",
  "runner-bootstrap.sh",
  "runner-manager-bootstrap.sh",
  "runner-token-sync.sh",
  "runner-worker-setup.sh",
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
    const directives = hostScript(name)
      .split("\n")
      .filter((l) => /^\s*#\s*shellcheck\s/.test(l));
    expect(body.filter((l) => /^\s*#/.test(l))).toEqual(directives);
    expect(compactScript(name).length).toBeLessThan(hostScript(name).length);
  });

  it.each(SCRIPTS)("leaves %s passing shellcheck", async (name) => {
    if (!findTool("shellcheck") && !isStrict()) return;
    const result = await checkShell(compactScript(name), name);
    expect(result.findings).toEqual([]);
  });
});

/** The scripts that include the shared libraries (userdata/scripts/lib/), by library. */
const LIBRARIES = {
  "preamble.sh": [
    "gitlab-automation-token.sh",
    "gitlab-bootstrap.sh",
    "runner-bootstrap.sh",
    "runner-manager-bootstrap.sh",
    "runner-termination-handler.sh",
    "runner-token-sync.sh",
    "runner-worker-setup.sh",
    "spot-interruption-watcher.sh",
  ],
  "gitlab-runner.sh": ["runner-bootstrap.sh", "runner-manager-bootstrap.sh"],
} as const;
const WITH_PREAMBLE = LIBRARIES["preamble.sh"];
const INCLUDES = Object.entries(LIBRARIES).flatMap(([library, scripts]) => scripts.map((script) => [script, library] as const));

describe("the shared libraries", () => {
  it("are listed above with every script that includes them", () => {
    const scripts = readdirSync(join(REPO_ROOT, "userdata/scripts")).filter((f) => f.endsWith(".sh"));
    for (const library of readdirSync(join(REPO_ROOT, "userdata/scripts/lib"))) {
      const including = scripts.filter((name) => readFileSync(join(REPO_ROOT, "userdata/scripts", name), "utf8").includes(libraryInclude(library)));
      expect(including, library).toEqual([...(LIBRARIES[library as keyof typeof LIBRARIES] ?? [])]);
    }
  });

  it.each(INCLUDES)("%s ships with %s inlined once, and sources nothing", (name, library) => {
    const source = readFileSync(join(REPO_ROOT, "userdata/scripts", name), "utf8");
    expect(source.split(libraryInclude(library))).toHaveLength(2);
    const shipped = hostScript(name);
    expect(shipped).not.toContain(libraryInclude(library));
    expect(shipped).not.toMatch(/^\s*(\.|source)\s.*lib\//m);
    expect(shipped.split(readFileSync(join(REPO_ROOT, "userdata/scripts/lib", library), "utf8"))).toHaveLength(2);
  });

  it("defines retry in every script that includes the preamble, as shipped (compacted)", () => {
    for (const name of WITH_PREAMBLE) expect(compactScript(name), name).toMatch(/^retry\(\) \{$/m);
  });

  it("leaves a script without an include unchanged, and refuses any other way of naming a library", () => {
    expect(inlineLibraries("#!/bin/sh\necho hi\n", "a.sh")).toBe("#!/bin/sh\necho hi\n");
    expect(() => inlineLibraries('#!/bin/bash\n. "$(dirname "$0")/lib/preamble.sh"\n', "b.sh")).toThrow(/b\.sh names lib\/preamble\.sh other than/);
    expect(() => inlineLibraries(`#!/bin/bash\n${libraryInclude("preamble.sh")}${libraryInclude("preamble.sh")}`, "c.sh")).toThrow(
      /c\.sh includes lib\/preamble\.sh more than once/,
    );
  });

  // `npm run verify` checks the committed sources this way: without -x a script's SCRIPT_NAME
  // and step, used only by the preamble, would be "unused" (SC2034).
  it.each([...WITH_PREAMBLE.map((name) => join("userdata/scripts", name)), ...Object.keys(LIBRARIES).map((library) => join("userdata/scripts/lib", library))])(
    "leaves the source %s passing shellcheck, which follows the includes",
    async (path) => {
      if (!findTool("shellcheck") && !isStrict()) return;
      const result = await checkShellFile(join(REPO_ROOT, path), readFileSync(join(REPO_ROOT, path), "utf8"));
      expect(result.findings).toEqual([]);
    },
  );

  it("are sourced from lib/ beside the script when the repository's file runs (runner-token-sync refusing a missing setting)", () => {
    const root = mkdtempSync(join(tmpdir(), "preamble-"));
    try {
      mkdirSync(join(root, "etc/gitlab-runner-fleet"), { recursive: true });
      writeFileSync(join(root, "etc/gitlab-runner-fleet/bootstrap.env"), "AWS_REGION=eu-west-3\n");
      const r = spawnSync("bash", [join(REPO_ROOT, "userdata/scripts/runner-token-sync.sh")], {
        env: { PATH: process.env.PATH ?? "", BOOTSTRAP_ROOT: root },
        encoding: "utf8",
      });
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/^\S+Z runner-token-sync: TOKEN_SECRET_ID is missing in \S+\/etc\/gitlab-runner-fleet\/bootstrap\.env$/m);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

/**
 * Runs bash code with nothing on PATH (no `date` to fork) and a local time zone east of UTC,
 * so a stamp taken in local time, or by a `date` process, cannot pass for the UTC one.
 */
function withoutDate(code: string): { stdout: string; stderr: string } {
  const empty = mkdtempSync(join(tmpdir(), "no-date-"));
  try {
    const r = spawnSync(findTool("bash") ?? "/bin/bash", ["-c", code], {
      env: { PATH: empty, TZ: "Asia/Tokyo" },
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
    });
    return { stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
}

/** The one-line definition of function `name` in a shipped script. */
function definition(script: HostScript, name: string): string {
  const line = compactScript(script)
    .split("\n")
    .find((l) => l.startsWith(`${name}() {`));
  if (!line?.endsWith("}")) throw new Error(`${script} has no one-line ${name}()`);
  return line;
}

/** The log lines in `stdout`, each checked for its tag and a UTC stamp within seconds of now. */
function expectLogLines(stdout: string, tag: string, messages: string[]): void {
  const lines = stdout.split("\n").slice(0, messages.length);
  lines.forEach((line, i) => {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)Z (\S+): (.*)$/.exec(line);
    expect(m, line).not.toBeNull();
    expect([m![2], m![3]]).toEqual([tag, messages[i]]);
    expect(Math.abs(Date.parse(`${m![1]}Z`) - Date.now())).toBeLessThan(5000);
  });
}

// The runners' watcher logs and reads the clock every few seconds for as long as the instance
// lives, and every bootstrap logs each step: bash's own clock, not a `date` process each time.
describe("log lines and clocks, without a date process", () => {
  // Three words, one with two spaces and a printf directive: joined as "$*", printed as is;
  // then the script's own time zone, which the stamp's UTC must not have replaced.
  const logCall = `log one "two  three" '100%s done'; printf '%(%z)T\\n' -1`;
  const message = "one two  three 100%s done";

  it("the preamble's log writes ISO-8601 UTC stamps, and leaves the script's time zone alone", () => {
    const preamble = join(REPO_ROOT, "userdata/scripts/lib/preamble.sh");
    const r = withoutDate(`SCRIPT_NAME=runner-bootstrap; . "${preamble}"; ${logCall}`);
    expect(r.stderr).toBe("");
    expectLogLines(r.stdout, "runner-bootstrap", [message]);
    expect(r.stdout.split("\n")[1]).toBe("+0900");
  });

  it("runner-termination-handler's millisecond clock reads the time in whole milliseconds", () => {
    const r = withoutDate(`${definition("runner-termination-handler.sh", "now_ms")}; now_ms; a=$ms; now_ms; echo "$a $ms"`);
    expect(r.stderr).toBe("");
    const [a, b] = r.stdout.trim().split(" ");
    expect(a).toMatch(/^\d{13}$/);
    expect(Math.abs(Number(a) - Date.now())).toBeLessThan(5000);
    expect(Number(b) - Number(a)).toBeGreaterThanOrEqual(0);
    expect(Number(b) - Number(a)).toBeLessThan(1000);
  });
});
