// Listing what a test's scratch tree holds, for assertions on what a script or synth wrote.
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";

/** Every file under `root`, as sorted paths relative to it; none when `root` does not exist. */
export function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}
