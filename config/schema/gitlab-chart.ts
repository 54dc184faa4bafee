// Which GitLab release a version of GitLab's Helm chart ships. GitLab's table
// (docs.gitlab.com/charts/installation/version_mappings, from the chart's
// doc/installation/version_mappings.md) maps every 9.x chart to 18.x with the same minor
// and patch: 9.9.1 ships 18.9.1, 9.0.0 ships 18.0.0. The 8.x charts did not keep the patch
// in step (8.11.8 ships 17.11.7), so only the 9.x line is accepted: its values are the ones
// the key lists in scripts/verify/reference/ check.

/** The chart line this platform knows the values of. */
export const SUPPORTED_CHART_MAJOR = 9;
/** GitLab's major version for that line. */
const GITLAB_MAJOR = 18;

/** The GitLab version a 9.x chart ships, or a sentence saying why the chart is not supported. */
export function gitlabVersionOfChart(chartVersion: string): { gitlab: string } | { problem: string } {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(chartVersion);
  if (!m) return { problem: `'${chartVersion}' is not an exact chart version like '9.9.1'` };
  if (Number(m[1]) !== SUPPORTED_CHART_MAJOR) {
    return {
      problem: `chart ${chartVersion} is not supported: this platform renders values for GitLab's chart ${SUPPORTED_CHART_MAJOR}.x (GitLab ${GITLAB_MAJOR}.x)`,
    };
  }
  return { gitlab: `${GITLAB_MAJOR}.${m[2]}.${m[3]}` };
}

/** The 9.x chart that ships a GitLab 18.x version, e.g. 18.9.1 → 9.9.1. */
export function chartOfGitlabVersion(gitlabVersion: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(gitlabVersion);
  return m && Number(m[1]) === GITLAB_MAJOR ? `${SUPPORTED_CHART_MAJOR}.${m[2]}.${m[3]}` : undefined;
}
