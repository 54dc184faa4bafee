// What the rule files share: how thresholds are written into annotations, and the helpers
// that build promtool input series from them (so each rule's tests follow its thresholds).
import { GITLAB_EXPORTERS } from "../prometheus-config";

/** "0.05" → "5%", for thresholds written into annotations. */
export const percent = (ratio: number) => `${Number((ratio * 100).toPrecision(6))}%`;

/** Drops floating-point noise (0.15000000000000002 → 0.15) so test inputs read as written. */
export const round = (n: number) => Number(n.toPrecision(12));

/** A ratio comfortably above / below a ratio threshold, for test inputs. */
export function around(threshold: number): { above: number; below: number } {
  const margin = Math.min(threshold, 1 - threshold) / 2;
  return { above: round(threshold + margin), below: round(threshold - margin) };
}

/** promtool series notation for a counter growing by `perMinute` each 1m sample. */
export const counter = (perMinute: number, samples = 120) => `0+${round(perMinute)}x${samples}`;
/** promtool series notation for a constant value. */
export const gauge = (value: number, samples = 120) => `${round(value)}x${samples}`;

/** `metric{k="v",…}`, for test input series. */
export function selector(metric: string, labels: Readonly<Record<string, string>>): string {
  const inner = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(",");
  return `${metric}{${inner}}`;
}

/** GitLab's node_exporter: host metrics and the backup scripts' textfile gauges. */
export const NODE = GITLAB_EXPORTERS.node.job;
/** Its instance label in the tests. */
export const NODE_INSTANCE = "gitlab:9100";
