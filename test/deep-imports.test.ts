// Provider packages are huge: importing a barrel costs seconds and ~900 MB per synth.
// Every import of a provider must name the resource's own module.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./helpers";

/** Everything but installed packages, build output and git's own files. */
const NOT_SOURCE = new Set(["node_modules", "cdktf.out", ".git"]);
const BARREL =
  /from\s+["']@cdktf\/provider-[a-z0-9-]+(\/lib)?\/?["']|import\(\s*["']@cdktf\/provider-[a-z0-9-]+(\/lib)?\/?["']\s*\)|require\(\s*["']@cdktf\/provider-[a-z0-9-]+(\/lib)?\/?["']\s*\)/;

function typescriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (NOT_SOURCE.has(e.name)) return [];
    const path = join(dir, e.name);
    return e.isDirectory() ? typescriptFiles(path) : e.name.endsWith(".ts") ? [path] : [];
  });
}

function barrelImports(text: string): string[] {
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
    const files = typescriptFiles(REPO_ROOT);
    // Every source directory is scanned, policies/ included.
    expect(files.map((f) => relative(REPO_ROOT, f).split("/")[0])).toEqual(expect.arrayContaining(["main.ts", "policies", "constructs", "stacks"]));
    const offenders = files
      .filter((f) => !f.endsWith("deep-imports.test.ts"))
      .flatMap((f) => barrelImports(readFileSync(f, "utf8")).map((line) => `${relative(REPO_ROOT, f)}: ${line.trim()}`));
    expect(offenders).toEqual([]);
  });
});
