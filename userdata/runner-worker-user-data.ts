// The cloud-init user data of a worker of a jobs-mode fleet (Amazon Linux 2023): the setup
// script (Docker Engine, the login user in the docker group), the readiness check the
// manager runs over SSH, and the six-hourly Docker cleanup timer for workers that live long
// (maxUseCount above 1, idle policies). Nothing environment-specific: workers hold no
// secret, no role and no runner; the manager drives them.
import { renderCloudConfig } from "./cloud-config";
import { compactScript } from "./host-scripts";
import { WORKER_READY_COMMAND } from "./runner-manager-user-data";
import { dockerCleanupUnits, SBIN, UNITS } from "./runner-fleet-user-data";

export function renderRunnerWorkerUserData(): string {
  const { service, timer } = dockerCleanupUnits();
  return renderCloudConfig({
    writeFiles: [
      { path: `${UNITS}/docker-cleanup.service`, permissions: "0644", content: service },
      { path: `${UNITS}/docker-cleanup.timer`, permissions: "0644", content: timer },
      { path: `${SBIN}/docker-cleanup`, permissions: "0755", content: compactScript("docker-cleanup.sh") },
      { path: `${SBIN}/runner-worker-setup`, permissions: "0755", content: compactScript("runner-worker-setup.sh") },
      // Run by the login user over SSH: outside sbin, on any user's PATH.
      { path: WORKER_READY_COMMAND, permissions: "0755", content: compactScript("runner-worker-ready.sh") },
    ],
    runcmd: [[`${SBIN}/runner-worker-setup`]],
  });
}
