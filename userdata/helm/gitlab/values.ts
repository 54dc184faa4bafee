// The GitLab chart's values: the server's own settings plus the parts other capabilities
// (registry, backups, metrics) render, merged into one document.
import { mergeValues, type HelmValues } from "../values";
import { dataServiceValues } from "./data-services";
import { endpointValues } from "./endpoints";
import { mailValues, ssoValues } from "./mail-sso";
import type { GitLabChartSettings } from "./model";
import { objectStorageValues } from "./object-storage";
import { sizingValues } from "./sizing";

/** What the platform never runs from this chart: its own Prometheus and runner (the runner is its own release). */
const BASE: HelmValues = {
  global: { edition: "ce", appConfig: { enableUsagePing: false } },
  prometheus: { install: false },
  "gitlab-runner": { install: false },
};

export function gitlabServerValues(s: GitLabChartSettings): HelmValues {
  return mergeValues(
    BASE,
    { global: { time_zone: s.timeZone } },
    endpointValues(s.endpoints),
    sizingValues(s.sizing),
    dataServiceValues(s.data, s.sizing.memoryProfile),
    objectStorageValues(s.objectStorage),
    mailValues(s.mail),
    s.sso ? ssoValues(s.sso) : {},
  );
}

/** The chart's whole values: the server's, then each capability's part. */
export function gitlabChartValues(server: GitLabChartSettings, parts: readonly HelmValues[]): HelmValues {
  return mergeValues(gitlabServerValues(server), ...parts);
}
