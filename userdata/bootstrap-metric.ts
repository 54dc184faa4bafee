// The metric a failed bootstrap sends (GitLab server and runners alike), with the host's name
// as its Host dimension; an alarm per host watches it. The scripts name it literally; tests
// hold them to this.
export const BOOTSTRAP_FAILED_METRIC = { namespace: "GitLab/Bootstrap", name: "BootstrapFailed" } as const;
