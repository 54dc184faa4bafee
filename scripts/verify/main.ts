// `npm run verify`: synthesize every example environment into verify.out/ (never the user's
// cdktf.out), pull out every file the stacks put on hosts and into containers, and run each
// through the tool that will consume it. Exits 1 on any finding.
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { checkShellFile, checkTerraformTemplates } from "./checkers";
import type { Artifact } from "./classify";
import { checkArtifacts, pool, toRow, type Row } from "./dispatch";
import { extractArtifacts } from "./extract";
import { formatReport } from "./report";
import { setScratchRoot } from "./result";

const REPO = join(__dirname, "..", "..");
const OUT = join(REPO, "verify.out");
const OUTDIR = join(OUT, "cdktf.out");

/** Synthesizes exactly as `cdktf synth` would: with the app command from cdktf.json. */
function synthesize(): void {
  rmSync(OUT, { recursive: true, force: true }); // stale stacks from removed configs must not linger
  const app = (JSON.parse(readFileSync(join(REPO, "cdktf.json"), "utf8")) as { app: string }).app.split(/\s+/);
  const [command = "node", ...args] = app;
  const r = spawnSync(command === "node" ? process.execPath : command, args, {
    cwd: REPO,
    env: { ...process.env, CDKTF_OUTDIR: OUTDIR },
    encoding: "utf8",
  });
  if (r.status !== 0) {
    process.stderr.write(
      `${r.stdout ?? ""}${r.stderr ?? ""}\nverify: synthesis (${app.join(" ")}) failed (exit ${r.status ?? r.signal}); nothing was checked.\n`,
    );
    process.exit(1);
  }
}

function stacks(): { env: string; stack: unknown }[] {
  const dir = join(OUTDIR, "stacks");
  return readdirSync(dir)
    .sort()
    .map((env) => ({ env, stack: JSON.parse(readFileSync(join(dir, env, "cdk.tf.json"), "utf8")) as unknown }));
}

/** The committed shell sources under userdata/ (embedded copies are checked separately). */
function shellSources(dir = join(REPO, "userdata")): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "node_modules" ? [] : shellSources(path);
    return name.endsWith(".sh") ? [path] : [];
  });
}

async function main(): Promise<number> {
  const started = Date.now();
  synthesize();
  setScratchRoot(join(OUT, "work"));

  const all = stacks();
  if (all.length === 0) throw new Error(`no stacks were synthesized into ${OUTDIR}`);
  const artifacts: Artifact[] = all.flatMap(({ env, stack }) => extractArtifacts(env, stack));
  const templateRows = all.map(async ({ env, stack }) => toRow(`${env}: cdk.tf.json (every string)`, await checkTerraformTemplates(stack)));
  const sourceRows = pool(
    shellSources().map((path) => async () => toRow(`source: ${relative(REPO, path)}`, await checkShellFile(path, readFileSync(path, "utf8")))),
  );
  const rows: Row[] = [...(await Promise.all(templateRows)), ...(await checkArtifacts(artifacts)), ...(await sourceRows)];

  process.stdout.write(`${formatReport(rows)}\n\nverify: ${all.map((s) => s.env).join(", ")} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  rmSync(join(OUT, "work"), { recursive: true, force: true });
  return rows.some((r) => r.status === "FAIL") ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`verify: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
