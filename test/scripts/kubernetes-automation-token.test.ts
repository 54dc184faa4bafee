// scripts/kubernetes-automation-token.sh, run with bash against a stand-in kubectl (no cluster
// here) that keeps the ConfigMap and the Secret as files, and runs `exec … -- <command>`
// locally, where `gitlab-rails runner <code>` runs the Ruby from the ConfigMap under plain Ruby
// against the stand-in of GitLab's models. Asserts the Secret's token is GitLab's live one,
// the renewal and rotation, and that no token is ever an argument of kubectl or printed.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkShell } from "../../scripts/verify/checkers";
import { findTool, isStrict } from "../../scripts/verify/tools";
import { renderAutomationTokenScript } from "../../userdata/automation-token";
import { REPO_ROOT } from "../examples";
import { liveTokens, writeGitLabModelsStub, type StubState } from "../support/gitlab-models-stub";

const SCRIPT = join(REPO_ROOT, "scripts", "kubernetes-automation-token.sh");
const hasRuby = Boolean(findTool("ruby")) || isStrict();

// kubectl --namespace <ns> <verb> …, as the script calls it; state in $K8S.
const FAKE_KUBECTL = `#!/usr/bin/env bash
set -euo pipefail
printf '%s\\n' "$*" >> "$K8S/kubectl.log"
[ "$1" = --namespace ] && [ "$2" = gitlab ] || { echo "fake kubectl: wrong namespace: $*" >&2; exit 2; }
shift 2
case "$1 $2" in
  "get configmap") [ "$3" = gitlab-automation-token-script ] && cat "$K8S/configmap.rb" 2>/dev/null || { echo 'Error from server (NotFound): configmaps "x" not found' >&2; exit 1; } ;;
  "get secret") [ "$3" = gitlab-automation-token ] && { [ ! -f "$K8S/secret.token" ] || base64 -w0 < "$K8S/secret.token"; } ;;
  "exec -i")
    [ "$3 $4 $5" = "deploy/gitlab-toolbox -c toolbox" ] || exit 3
    shift 6
    [ -z "\${FAIL_EXEC:-}" ] || { echo "error: unable to upgrade connection" >&2; exit 1; }
    exec "$@" ;;
  "create secret")
    file=""; for a in "$@"; do case "$a" in --from-file=token=*) file=\${a#--from-file=token=} ;; esac; done
    printf 'apiVersion: v1\\nkind: Secret\\nmetadata:\\n  name: %s\\ndata:\\n  token: %s\\n' "$4" "$(base64 -w0 < "$file")" ;;
  "apply -f")
    [ -z "\${FAIL_APPLY:-}" ] || { echo "Error from server (Forbidden)" >&2; exit 1; }
    sed -n 's/^  token: //p' "$3" | base64 -d > "$K8S/secret.token" ;;
  *) echo "fake kubectl: unexpected $*" >&2; exit 4 ;;
esac
`;

// The toolbox's gitlab-rails: runs the code it is given.
const FAKE_GITLAB_RAILS = `#!/bin/sh
[ "$1" = runner ] || exit 64
exec ruby --disable-gems -r "$STUB_RB" -e "$2"
`;

let root: string;
const k8s = () => join(root, "k8s");
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "k8s-automation-token-"));
  for (const d of ["bin", "k8s", "tmp"]) mkdirSync(join(root, d));
  for (const [name, text] of [
    ["kubectl", FAKE_KUBECTL],
    ["gitlab-rails", FAKE_GITLAB_RAILS],
  ] as const) {
    writeFileSync(join(root, "bin", name), text);
    chmodSync(join(root, "bin", name), 0o755);
  }
  writeFileSync(join(k8s(), "configmap.rb"), renderAutomationTokenScript());
  writeGitLabModelsStub(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function run(today: string, args: string[] = ["gitlab"], env: Record<string, string> = {}) {
  return spawnSync("bash", [SCRIPT, ...args], {
    encoding: "utf8",
    env: {
      PATH: `${join(root, "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      TMPDIR: join(root, "tmp"),
      K8S: k8s(),
      STUB_RB: join(root, "gitlab-models-stub.rb"),
      STUB_STATE: join(root, "state.json"),
      STUB_TODAY: today,
      ...env,
    },
  });
}

const secretToken = () => (existsSync(join(k8s(), "secret.token")) ? readFileSync(join(k8s(), "secret.token"), "utf8") : undefined);
const state = () => JSON.parse(readFileSync(join(root, "state.json"), "utf8")) as StubState & { tokens: { digest: string }[] };
const storedId = () =>
  state().tokens.find(
    (t) =>
      t.digest ===
      createHash("sha256")
        .update(secretToken() ?? "")
        .digest("hex"),
  )?.id;

function expectNoLeak(r: ReturnType<typeof run>): void {
  const token = secretToken()!;
  expect(token).toMatch(/^glpat-/);
  expect(`${r.stdout}${r.stderr}`).not.toContain(token);
  expect(readFileSync(join(k8s(), "kubectl.log"), "utf8")).not.toContain(token);
  expect(readFileSync(join(k8s(), "kubectl.log"), "utf8")).not.toContain(Buffer.from(token).toString("base64"));
  expect(existsSync(join(root, "tmp")) && spawnSync("ls", ["-A", join(root, "tmp")], { encoding: "utf8" }).stdout).toBe("");
}

describe.skipIf(!hasRuby)("scripts/kubernetes-automation-token.sh", () => {
  it("first run: runs the ConfigMap's Ruby in the toolbox and writes the new token into the Secret", () => {
    const r = run("2026-01-01");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("the Secret gitlab-automation-token holds no token yet");
    expect(r.stderr).toContain("stored a new token in the Secret gitlab-automation-token in gitlab");
    expect(storedId()).toBe(1);
    expectNoLeak(r);
  });

  it("a good token: the Secret stays as it is; renewal near expiry; the replaced token revoked on the next run", () => {
    run("2026-01-01");
    const first = secretToken();
    const again = run("2026-02-01");
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain("the stored token is still good; the Secret is unchanged");
    expect(secretToken()).toBe(first);
    const renewed = run("2026-03-03");
    expect(renewed.status, renewed.stderr).toBe(0);
    expect(storedId()).toBe(2);
    run("2026-03-04");
    expect(liveTokens(state(), "2026-03-04").map((t) => t.id)).toEqual([2]);
  });

  it("--rotate: a new token in the Secret, every other one revoked", () => {
    run("2026-01-01");
    const r = run("2026-01-02", ["gitlab", "--rotate"]);
    expect(r.status, r.stderr).toBe(0);
    expect(storedId()).toBe(2);
    expect(liveTokens(state(), "2026-01-02").map((t) => t.id)).toEqual([2]);
    expectNoLeak(r);
  });

  it("fails, leaving the Secret alone, when the toolbox cannot be reached or the Secret cannot be written", () => {
    run("2026-01-01");
    const first = secretToken();
    const noExec = run("2026-01-02", ["gitlab", "--rotate"], { FAIL_EXEC: "1" });
    expect(noExec.status).not.toBe(0);
    expect(noExec.stderr).toContain("FAILED at step: ensure the token in GitLab (the toolbox)");
    expect(secretToken()).toBe(first);
    const noApply = run("2026-01-03", ["gitlab", "--rotate"], { FAIL_APPLY: "1" });
    expect(noApply.status).not.toBe(0);
    expect(noApply.stderr).toContain("FAILED at step: store the new token in the Secret gitlab-automation-token");
    expect(secretToken()).toBe(first);
  });

  it("refuses to run without a namespace or without the first stack's ConfigMap", () => {
    expect(run("2026-01-01", []).stderr).toContain("usage: kubernetes-automation-token.sh <namespace> [--rotate]");
    rmSync(join(k8s(), "configmap.rb"));
    const r = run("2026-01-01");
    expect(r.status).not.toBe(0);
    expect(existsSync(join(root, "state.json"))).toBe(false);
  });

  it("passes shellcheck", async () => {
    if (!findTool("shellcheck") && !isStrict()) return;
    const result = await checkShell(readFileSync(SCRIPT, "utf8"), "kubernetes-automation-token.sh");
    expect(result.findings).toEqual([]);
  });
});
