// cdktf.out/manifest.json names the stacks the output directory holds. The cdktf CLI reads it
// after running the app and deletes every directory under cdktf.out/stacks/ it does not name
// (cdktf-cli's SynthStack.synth: "orphanedDirectories"), with whatever Terraform kept there:
// .terraform/, the lock file, a saved plan, an errored.tfstate that may be the only copy of
// a state. So a synth of some environments lists the others' earlier stacks too, marked so
// that the cdktf CLI will not deploy them unsynthesized.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const MANIFEST = "manifest.json";
const STACK_FILE = "cdk.tf.json";

interface ManifestStack {
  readonly name: string;
  readonly constructPath: string;
  readonly synthesizedStackPath: string;
  readonly workingDirectory: string;
  readonly annotations: readonly unknown[];
  readonly dependencies: readonly string[];
  readonly stackMetadataPath?: string;
}

interface Manifest {
  readonly version?: string;
  readonly stacks: Record<string, ManifestStack>;
}

/** A stack directory of an earlier synth, left as it was. */
export interface KeptStack {
  readonly name: string;
  readonly directory: string;
}

/**
 * The dependency a kept stack is listed with. No stack has that name, so `cdktf deploy` of a
 * kept stack stops with "The following dependencies are not included in the stacks to run:
 * <this text>" instead of applying an earlier synth; `cdktf diff` and `output` still work.
 */
export const notSynthesizedMarker = (name: string): string =>
  `(${name} was not synthesized by this run: name it in GITLAB_ENVIRONMENTS too, or run npm run deploy -- ${name})`;

/** Stack directories under `outdir` that cannot be listed (no cdk.tf.json) but hold files. */
export class UnlistableStackError extends Error {
  constructor(readonly directories: readonly string[]) {
    super(
      directories
        .map(
          (d) =>
            `${d}: holds files but no ${STACK_FILE}: the cdktf CLI deletes every stack directory its manifest does not name; move what you need out of it, or synthesize with npm run synth (which never deletes)`,
        )
        .join("\n"),
    );
    this.name = "UnlistableStackError";
  }
}

function readManifest(file: string): Manifest | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Manifest;
    return parsed && typeof parsed.stacks === "object" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Adds to the manifest just synthesized into `scratch` every stack directory of `outdir`
 * that this synth did not produce, and returns them. With `refuseUnlistable` (the app runs
 * under the cdktf CLI), a directory that cannot be listed is an error, raised before
 * anything is written.
 */
export function keepEarlierStacks(scratch: string, outdir: string, refuseUnlistable = false): KeptStack[] {
  const stacksDir = join(outdir, "stacks");
  if (!existsSync(stacksDir)) return [];
  const fresh = readManifest(join(scratch, MANIFEST));
  if (!fresh) return [];
  const earlier = readManifest(join(outdir, MANIFEST));
  const kept: KeptStack[] = [];
  const unlistable: string[] = [];
  for (const entry of readdirSync(stacksDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || fresh.stacks[entry.name]) continue;
    const directory = join(stacksDir, entry.name);
    if (!existsSync(join(directory, STACK_FILE))) {
      if (readdirSync(directory).length > 0) unlistable.push(directory);
      continue;
    }
    const before = earlier?.stacks[entry.name];
    fresh.stacks[entry.name] = {
      name: entry.name,
      constructPath: before?.constructPath ?? entry.name,
      synthesizedStackPath: `stacks/${entry.name}/${STACK_FILE}`,
      workingDirectory: `stacks/${entry.name}`,
      annotations: [],
      dependencies: [notSynthesizedMarker(entry.name)],
      ...(before?.stackMetadataPath ? { stackMetadataPath: before.stackMetadataPath } : {}),
    };
    kept.push({ name: entry.name, directory });
  }
  if (refuseUnlistable && unlistable.length > 0) throw new UnlistableStackError(unlistable);
  if (kept.length > 0) {
    const stacks = Object.fromEntries(Object.entries(fresh.stacks).sort(([a], [b]) => a.localeCompare(b)));
    writeFileSync(join(scratch, MANIFEST), `${JSON.stringify({ ...fresh, stacks }, null, 2)}\n`);
  }
  return kept.sort((a, b) => a.name.localeCompare(b.name));
}
