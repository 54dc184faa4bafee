import { describe, expect, it } from "vitest";
import { normalizeCronSchedule, renderCrontab } from "../../userdata/crontab";

const renderBackupCrontab = (e: { schedule: string; command: string }) => renderCrontab([e], "GitLab backup to NFS");

const COMMAND = "/usr/local/bin/gitlab-backup-to-nfs";

describe("crontab renderer", () => {
  it("renders one crontab line running the command on the schedule, ending in a newline", () => {
    const text = renderBackupCrontab({ schedule: "0 2 * * *", command: COMMAND });
    const entries = text.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(entries).toEqual([`0 2 * * * ${COMMAND}`]);
    expect(text.endsWith("\n")).toBe(true);
    expect(text).toMatch(/UTC/);
  });

  it("normalizes whitespace in the schedule", () => {
    expect(renderBackupCrontab({ schedule: "  30\t2,14  * *   1-5 ", command: COMMAND })).toContain(`\n30 2,14 * * 1-5 ${COMMAND}\n`);
  });

  it("accepts steps, ranges and lists busybox crond understands", () => {
    for (const schedule of ["*/15 * * * *", "0 */6 * * *", "0 2 1,15 * *", "5-55/10 0-23/2 * 1-12 0-6", "59 23 31 12 6"]) {
      expect(normalizeCronSchedule(schedule)).toBe(schedule);
    }
  });

  it.each([
    ["0 2 * *", /five fields/],
    ["0 2 * * * *", /five fields/],
    ["60 2 * * *", /minute '60' is out of range 0-59/],
    ["0 24 * * *", /hour '24' is out of range 0-23/],
    ["0 2 0 * *", /day of month '0' is out of range 1-31/],
    ["0 2 * 13 *", /month '13' is out of range 1-12/],
    ["0 2 * * 7", /weekday '7' is out of range 0-6/],
    ["0 5-2 * * *", /hour range '5-2' runs backwards/],
    ["*/0 * * * *", /minute step in '\*\/0' must be at least 1/],
    ["0 2 * * mon", /weekday 'mon' is not a number/],
    ["0 2,,3 * * *", /hour '' is not a number/],
  ])("rejects '%s'", (schedule, message) => {
    expect(() => renderBackupCrontab({ schedule, command: COMMAND })).toThrow(message);
  });

  it("names the schedule in its errors", () => {
    expect(() => normalizeCronSchedule("0 25 * * *")).toThrow("cron schedule '0 25 * * *': hour");
  });

  it.each(["gitlab-backup-to-nfs", "/usr/local/bin/x\n* * * * * /bin/evil", "/usr/local/bin/x 50%"])(
    "rejects a command that is not one absolute line without %%: %j",
    (command) => {
      expect(() => renderBackupCrontab({ schedule: "0 2 * * *", command })).toThrow(/absolute command line/);
    },
  );
});
