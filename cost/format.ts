// The cost report as text (a terminal, a CI log), as JSON (a pipeline), as a Markdown table
// (the README's), and as the one line the merge-request plan job prints.
import { round } from "./aws";
import type { CostReport } from "./estimate";
import type { ModesComparison } from "./modes";

const money = (n: number | undefined) => (n === undefined ? "?" : n.toFixed(2));
const singular = (unit: string) => unit.replace(/s$/, "");
const rateText = (rate: number | undefined, unit: string) => (rate === undefined ? "no rate" : `${Number(rate.toFixed(4))} per ${singular(unit)}`);
const quantityText = (quantity: number, unit: string) => `${round(quantity, 1)} ${quantity === 1 ? singular(unit) : unit}`;

export function formatText(report: CostReport): string {
  if (report.platform === "docker") {
    const rows = report.containers.map((c) => [
      c.name,
      c.image,
      c.memoryMb !== undefined ? `${c.memoryMb} MB` : "no limit",
      c.cpus !== undefined ? String(c.cpus) : "no limit",
      c.ports.join(" ") || "-",
    ]);
    return [
      `${report.environment} (docker): runs on your Docker host${report.host ? ` (${report.host})` : ""}; no cloud charges. What the host must provide:`,
      table(["container", "image", "memory", "CPUs", "published"], rows),
      `containers: ${report.containers.length}; published ports: ${report.publishedPorts.join(", ") || "none"}`,
      `data on the host: ${report.hostDirectories.join(", ") || "none"}`,
      ...(report.volumes.length ? [`volumes: ${report.volumes.join(", ")}`] : []),
      "Size the host for GitLab (4 GB RAM at the least with memoryProfile: small, 8 GB or more otherwise) plus the jobs the build runner runs at once.",
    ].join("\n");
  }
  const rows = report.lines.map((l) => [l.resource, l.item, quantityText(l.quantity, l.unit), rateText(l.rate, l.unit), money(l.monthly)]);
  rows.push(["total", "", "", "", money(report.total)]);
  return [
    `${report.environment} (aws): monthly estimate in ${report.rates.currency}, ${report.rates.hoursPerMonth} h a month, rates of ${report.rates.date} for ${report.rates.region} (${report.rates.source})`,
    table(["resource", "what", "quantity", "rate", report.rates.currency], rows),
    ...(report.base ? [`target branch: ${money(report.base.total)}; this change: ${signed(report.base.delta)} a month`] : []),
    ...report.unpriced.map((u) => `not priced: ${u}`),
    ...report.notes,
  ].join("\n");
}

const signed = (n: number) => `${n >= 0 ? "+" : "−"}${Math.abs(n).toFixed(2)}`;

/** The line the merge request's plan job prints. */
export function formatSummaryLine(report: CostReport): string {
  if (report.platform === "docker")
    return `cost: ${report.environment}: docker host (${report.host ?? "no public address"}), ${report.containers.length} containers; no cloud charges`;
  const base = report.base
    ? `${signed(report.base.delta)} ${report.rates.currency}/month vs the target branch (${money(report.base.total)} → ${money(report.total)})`
    : `${money(report.total)} ${report.rates.currency}/month (new total; no synth of the target branch to compare with)`;
  return `cost: ${report.environment}: ${base}${report.unpriced.length ? `; ${report.unpriced.length} item(s) not priced` : ""}`;
}

/** The README's table: one row per line, the total, in Markdown. */
export function formatMarkdown(report: CostReport): string {
  if (report.platform === "docker") throw new Error("the README's cost table is for an aws environment");
  const rows = report.lines.map(
    (l) => `| ${l.resource} | ${l.item} | ${quantityText(l.quantity, l.unit)} | ${rateText(l.rate, l.unit)} | ${money(l.monthly)} |`,
  );
  return [
    `| resource | what | quantity | rate (${report.rates.currency}) | ${report.rates.currency} / month |`,
    "|---|---|---|---|---:|",
    ...rows,
    `| **total** | | | | **${money(report.total)}** |`,
  ].join("\n");
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (r: readonly string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)].join("\n");
}

/** Both scaling modes side by side (npm run cost -- <env> --modes). */
export function formatModesText(c: ModesComparison): string {
  const rows = c.modes.map((m) => [`${m.mode}${m.configured ? " (configured)" : ""}`, m.shape, money(m.runners), money(m.total)]);
  return [
    `${c.environment} (aws): runners in both scaling modes at equal peak capacity (${c.peakJobs} jobs at once), ${c.currency} a month`,
    table(["mode", "runners", "runners' lines", "environment"], rows),
    `jobs / cpu: ${c.runnerRatio.toFixed(2)} for the runners, ${c.totalRatio.toFixed(2)} for the environment`,
    ...c.assumptions,
    ...c.modes.flatMap((m) => [
      `${m.mode}:`,
      ...m.runnerLines.map((l) => `  ${l.resource}: ${l.item}: ${quantityText(l.quantity, l.unit)} × ${rateText(l.rate, l.unit)} = ${money(l.monthly)}`),
    ]),
  ].join("\n");
}

/** The README's table of both modes: each mode's runner lines, its subtotal and the environment's total. */
export function formatModesMarkdown(c: ModesComparison): string {
  const rows = c.modes.flatMap((m) => [
    ...m.runnerLines.map((l) => `| ${m.mode} | ${l.resource} | ${l.item} | ${quantityText(l.quantity, l.unit)} | ${money(l.monthly)} |`),
    `| **${m.mode}** | **runners** | ${m.shape} | | **${money(m.runners)}** |`,
    `| ${m.mode} | environment | everything else as in the table above | | ${money(m.total)} |`,
  ]);
  return [
    `| mode | resource | what | quantity | ${c.currency} / month |`,
    "|---|---|---|---|---:|",
    ...rows,
    `| **jobs / cpu** | | runners ${c.runnerRatio.toFixed(2)}, environment ${c.totalRatio.toFixed(2)} | | |`,
  ].join("\n");
}
