// The README's cost tables are what the cost command prints for the staging example.
import { describe, expect, it } from "vitest";
import { generatedModesTable, generatedTable, readmeTable, SECTIONS } from "../../scripts/readme-cost";

describe("README cost tables", () => {
  it("is the output of npm run cost -- staging --markdown (npm run readme:cost rewrites it)", () => {
    const table = readmeTable();
    expect(table, "README.md has no cost table markers").toBeDefined();
    expect(table).toBe(generatedTable());
  });

  it("shows staging's runners in both scaling modes as npm run cost -- staging --modes --markdown prints them", () => {
    const table = readmeTable(undefined, SECTIONS.modes);
    expect(table, "README.md has no cost modes table markers").toBeDefined();
    expect(table).toBe(generatedModesTable());
  });
});
