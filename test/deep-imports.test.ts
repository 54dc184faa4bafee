// Provider packages are huge: importing a barrel costs seconds and ~900 MB per synth.
// Every import of a provider must name the resource's own module.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./helpers";

const SOURCE_DIRS = ["main.ts", "config", "stacks", "constructs", "userdata", "scripts", "test"];
const BARREL = /from\s+["']@cdktf\/provider-[a-z0-9-]+(\/lib)?\/?["']|import\(\s*["']@cdktf\/provider-[a-z0-9-]+(\/lib)?\/?["']\s*\)|require\(\s*["']@cdktf\/provider-[a-z0-9-]+(\/lib)?\/?["']\s*\)/;

function typescriptFiles(path: string): string[] {
  const full = join(REPO_ROOT, path);
  if (path.endsWith(".ts")) return [full];
  return readdirSync(full, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? typescriptFiles(join(path, e.name)) : e.name.endsWith(".ts") ? [join(full, e.name)] : [],
  );
}

export function barrelImports(text: string): string[] {
  return text.split("\n").filter((line) => BARREL.test(line));
}

describe("deep provider imports", () => {
  it("recognises barrel imports and accepts deep ones", () => {
    expect(barrelImports('import { Instance } from "@cdktf/provider-aws";')).toHaveLength(1);
    expect(barrelImports("import * as aws from '@cdktf/provider-aws/lib';")).toHaveLength(1);
    expect(barrelImports('const docker = await import("@cdktf/provider-docker");')).toHaveLength(1);
    expect(barrelImports('import { Instance } from "@cdktf/provider-aws/lib/instance";')).toEqual([]);
  });

  it("are the only provider imports in the project", () => {
    const offenders = SOURCE_DIRS.flatMap(typescriptFiles)
      .filter((f) => !f.endsWith("deep-imports.test.ts"))
      .flatMap((f) => barrelImports(readFileSync(f, "utf8")).map((line) => `${relative(REPO_ROOT, f)}: ${line.trim()}`));
    expect(offenders).toEqual([]);
  });
});
