// Where the commands read and write, relative to the repository (not the caller's directory).
import { join, relative } from "node:path";

export const ROOT = join(__dirname, "..");

/** The directory of environment files: GITLAB_CONFIG_DIR, or config/. */
export const configDir = (env: NodeJS.ProcessEnv = process.env): string => env.GITLAB_CONFIG_DIR || join(ROOT, "config");

/** Where stacks are synthesized: CDKTF_OUTDIR (the cdktf CLI sets it), or cdktf.out/. */
export const outDir = (env: NodeJS.ProcessEnv = process.env): string => env.CDKTF_OUTDIR || join(ROOT, "cdktf.out");

/** A stack's directory, where Terraform runs for it. */
export const stackDir = (stack: string, env: NodeJS.ProcessEnv = process.env): string => join(outDir(env), "stacks", stack);

/** A path as the user should read it: relative to where they are, when that is shorter. */
export function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}
