// observability.alertThresholds on the docker and kubernetes platforms: optional, every field
// defaulted to the rules' defaults, and values no alert could use refused at the field.
import { describe, expect, it } from "vitest";
import { DEFAULT_ALERT_THRESHOLDS } from "../../userdata/monitoring/alert-rules";
import { deepClone, exampleYaml, problemsOf, validEnvironment } from "../helpers";

const withThresholds = (example: "homelab" | "k3s-homelab", alertThresholds: unknown, backups: Record<string, unknown> = {}) => {
  const c = deepClone(exampleYaml(example));
  c.observability = { ...c.observability, alertThresholds };
  c.backups = { ...c.backups, ...backups };
  return c;
};

describe.each(["homelab", "k3s-homelab"] as const)("observability.alertThresholds (%s)", (example) => {
  const thresholds = (t: unknown) => (validEnvironment(withThresholds(example, t)).observability as { alertThresholds: unknown }).alertThresholds;

  it("are the rules' defaults when unset, and take what is set", () => {
    expect((validEnvironment(exampleYaml(example)).observability as { alertThresholds: unknown }).alertThresholds).toEqual(DEFAULT_ALERT_THRESHOLDS);
    expect(thresholds({ sidekiqQueueBacklog: 250, diskFreeWarningRatio: 0.25 })).toEqual({
      ...DEFAULT_ALERT_THRESHOLDS,
      sidekiqQueueBacklog: 250,
      diskFreeWarningRatio: 0.25,
    });
  });

  it.each([
    [{ pumaSaturationRatio: 90 }, /^config\/test\.yaml: observability\.alertThresholds\.pumaSaturationRatio: must be below 1 \(a ratio: 0\.9 is 90%\), got 90/],
    [{ sidekiqFailureRatio: 0 }, /^config\/test\.yaml: observability\.alertThresholds\.sidekiqFailureRatio: must be above 0 \(a ratio: 0\.05 is 5%\), got 0/],
    [{ ciJobFailureRatio: "10%" }, /^config\/test\.yaml: observability\.alertThresholds\.ciJobFailureRatio: must be number, got the string '10%'/],
    [{ sidekiqQueueBacklog: 1.5 }, /^config\/test\.yaml: observability\.alertThresholds\.sidekiqQueueBacklog: must be int/],
    [{ sidekiqQueueBacklog: 1 }, /^config\/test\.yaml: observability\.alertThresholds\.sidekiqQueueBacklog: must be at least 2, got 1/],
    // Only the critical threshold set: compared with the warning threshold's default.
    [
      { diskFreeCriticalRatio: 0.2 },
      /^config\/test\.yaml: observability\.alertThresholds\.diskFreeCriticalRatio: must be below diskFreeWarningRatio \(0\.15\), got 0\.2/,
    ],
    [
      { diskFreeWarningRatio: 0.1, diskFreeCriticalRatio: 0.1 },
      /^config\/test\.yaml: observability\.alertThresholds\.diskFreeCriticalRatio: must be below diskFreeWarningRatio \(0\.1\), got 0\.1/,
    ],
    [{ backupMaxAgeHours: 12 }, /^config\/test\.yaml: observability\.alertThresholds\.backupMaxAgeHours: unknown key; .*/],
  ])("refuses %j, naming the file and the field", (t, expected) => {
    const problems = problemsOf(withThresholds(example, t));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it("refuses a backup age of one hour (the backup alert's tests need two)", () => {
    expect(problemsOf(withThresholds(example, undefined, { maxAgeHours: 1 }))).toEqual([
      expect.stringMatching(/^config\/test\.yaml: backups\.maxAgeHours: must be at least 2, got 1/),
    ]);
  });
});
