// The Grafana dashboards are real JSON files beside this module (edit them in Grafana, export,
// commit). This reads them for uploading into the Grafana container, after checking the
// properties provisioning relies on.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const DASHBOARDS = ["overview.json", "web-puma.json", "sidekiq.json", "ci-runners.json", "database-cache.json"] as const;
export type DashboardFile = (typeof DASHBOARDS)[number];

/** The parts of a dashboard this project relies on. */
export interface DashboardJson {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly DashboardPanel[];
  readonly templating?: { readonly list?: readonly { readonly name: string; readonly type: string }[] };
  readonly [key: string]: unknown;
}

export interface DashboardPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly { readonly expr?: string; readonly refId: string }[];
  readonly [key: string]: unknown;
}

const cache = new Map<DashboardFile, string>();

/** The dashboard file's text, exactly as committed. Throws if it is not a usable dashboard. */
export function dashboardText(name: DashboardFile): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(__dirname, "dashboards", name), "utf8");
    parseDashboard(name, text);
    cache.set(name, text);
  }
  return text;
}

export function parseDashboard(name: string, text: string): DashboardJson {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new Error(`dashboard ${name} is not valid JSON: ${(error as Error).message}`);
  }
  const d = doc as Partial<DashboardJson>;
  if (typeof d.uid !== "string" || !/^[a-z0-9-]{1,40}$/.test(d.uid))
    throw new Error(`dashboard ${name} needs a fixed uid (lower-case, at most 40 characters) so links survive re-provisioning`);
  if (typeof d.title !== "string" || !d.title) throw new Error(`dashboard ${name} needs a title`);
  if (!Array.isArray(d.panels) || d.panels.length === 0) throw new Error(`dashboard ${name} has no panels`);
  if ("id" in d && d.id !== null) throw new Error(`dashboard ${name} must have "id": null (Grafana assigns ids; a fixed one clashes across instances)`);
  return d as DashboardJson;
}

export function dashboard(name: DashboardFile): DashboardJson {
  return parseDashboard(name, dashboardText(name));
}
