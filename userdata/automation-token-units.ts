// The systemd service and daily timer that renew the automation token on the EC2 host.
import { renderService, renderTimer, SERVICE_PATH_WITH_AWS_CLI } from "./systemd";

export interface AutomationTokenUnitsProps {
  /** AUTOMATION_TOKEN_STORE, e.g. 'aws-secret:staging-gitlab/automation-token'. */
  readonly store: string;
  readonly region: string;
  /** Where gitlab-automation-token.sh is installed. */
  readonly scriptPath: string;
}

export const AUTOMATION_TOKEN_TIMER = "gitlab-automation-token.timer";
export const AUTOMATION_TOKEN_SERVICE = "gitlab-automation-token.service";

/**
 * Daily: a token is renewed 30 days before it expires, so a month of failed runs still leaves
 * a working one. Persistent: a run missed while the instance was off happens at boot.
 */
export function renderAutomationTokenUnits(p: AutomationTokenUnitsProps): { service: string; timer: string } {
  return {
    service: renderService({
      description: "Renew GitLab's automation token and store it in Secrets Manager",
      type: "oneshot",
      execStart: [p.scriptPath],
      after: ["network-online.target", "gitlab-runsvdir.service"],
      wants: ["network-online.target"],
      environment: {
        AUTOMATION_TOKEN_STORE: p.store,
        AWS_REGION: p.region,
        // gitlab-rails is in /usr/bin.
        PATH: SERVICE_PATH_WITH_AWS_CLI,
      },
      // A Rails boot takes a minute or two on a busy server.
      timeoutStartSec: 900,
    }),
    timer: renderTimer({
      description: "Daily renewal of GitLab's automation token",
      onCalendar: "*-*-* 04:30:00 UTC",
      persistent: true,
      randomizedDelaySec: 1800,
    }),
  };
}
