// Prints the summary table and, below it, every finding under the origin it belongs to.
import type { Row } from "./dispatch";

const STATUS_WIDTH = "unchecked".length;

export function formatReport(rows: readonly Row[]): string {
  const originWidth = Math.max(...rows.map((r) => r.origin.length), "ARTIFACT".length);
  const toolWidth = Math.max(...rows.map((r) => r.tool.length), "TOOL".length);
  const line = (a: string, b: string, c: string) => `${a.padEnd(originWidth)}  ${b.padEnd(toolWidth)}  ${c}`.trimEnd();
  const out = [line("ARTIFACT", "TOOL", "RESULT"), line("-".repeat(originWidth), "-".repeat(toolWidth), "-".repeat(STATUS_WIDTH))];
  for (const r of rows)
    out.push(line(r.origin, r.tool, r.notes.length && r.status === "ok" ? `ok (${r.notes.length} note${r.notes.length > 1 ? "s" : ""})` : r.status));

  const count = (s: Row["status"]) => rows.filter((r) => r.status === s).length;
  out.push(
    "",
    `${rows.length} checks: ${count("ok")} ok, ${count("FAIL")} FAIL, ${count("skipped")} skipped, ${count("unchecked")} unchecked (no validator for that kind of file)`,
  );

  const warnings = new Set(rows.filter((r) => r.status === "skipped").flatMap((r) => r.findings));
  for (const w of warnings) out.push(`warning: ${w} (check skipped; set CI=true to make this an error)`);

  for (const r of rows.filter((x) => x.notes.length)) {
    out.push("", `note: ${r.origin} (${r.tool})`, ...r.notes.map((n) => `  ${n}`));
  }
  for (const r of rows.filter((x) => x.status === "FAIL")) {
    out.push("", `FAIL: ${r.origin} (${r.tool})`, ...r.findings.map((f) => `  ${f}`));
  }
  return out.join("\n");
}
