// The README's cost table is what the cost command prints for the staging example.
import { describe, expect, it } from "vitest";
import { generatedTable, readmeTable } from "../../scripts/readme-cost";

describe("README cost table", () => {
  it("is the output of npm run cost -- staging --markdown (npm run readme:cost rewrites it)", () => {
    const table = readmeTable();
    expect(table, "README.md has no cost table markers").toBeDefined();
    expect(table).toBe(generatedTable());
  });
});
