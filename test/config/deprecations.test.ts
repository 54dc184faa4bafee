// One name per idea: renamed keys and replaced forms keep working for one release, with a
// notice that names the new key; setting the old and the new key together is an error.
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { stringify } from "yaml";
import { checkCommand } from "../../cli/check";
import { printWarning } from "../../cli/report";
import { loadEnvironments } from "../../config/load";
import { CONFIG_DIR, exampleYaml, onlyResource, parseConfig, problemsOf, synthEnvironment, userDataText, validEnvironment } from "../helpers";

const homelab = exampleYaml("homelab");
const staging = exampleYaml("staging");
const notices = (config: unknown) => {
  const result = parseConfig(config);
  if (!result.environment) throw new Error(result.problems.map((p) => p.message).join("\n"));
  return result.notices.map((n) => `${n.path}: ${n.message} (line ${n.line})`);
};

describe("renamed keys", () => {
  it("reads docker.shmSize as docker.shmSizeMb, and says so with the line of the old key", () => {
    const old = { ...homelab, docker: { ...homelab.docker, shmSize: 512 } };
    expect((validEnvironment(old) as any).docker.shmSizeMb).toBe(512);
    expect(notices(old)).toEqual([
      expect.stringMatching(
        /^docker\.shmSize: renamed docker\.shmSizeMb \(the unit in the name, like the other sizes\); the old name is read until the next release \(line \d+\)$/,
      ),
    ]);
    expect(notices(homelab)).toEqual([]);
  });

  it("reads observability.retentionDays as observability.metricsRetentionDays", () => {
    const old = { ...homelab, observability: { ...homelab.observability, retentionDays: 30 } };
    expect((validEnvironment(old) as any).observability.metricsRetentionDays).toBe(30);
    expect(notices(old)[0]).toMatch(/^observability\.retentionDays: renamed observability\.metricsRetentionDays/);
  });

  it("refuses the old and the new key together, naming the one to remove", () => {
    const both = { ...homelab, docker: { ...homelab.docker, shmSize: 512, shmSizeMb: 256 } };
    expect(problemsOf(both)).toEqual(["config/test.yaml: docker.shmSize: renamed docker.shmSizeMb, which is set too: remove this one"]);
  });

  it("reports a bad value under the old name at the old key", () => {
    const bad = { ...homelab, docker: { ...homelab.docker, shmSize: 10 } };
    expect(problemsOf(bad)).toEqual([expect.stringMatching(/^config\/test\.yaml: docker\.shmSize: .*64/)]);
  });

  it("renames only on the platform that had the key", () => {
    const aws = { ...staging, observability: { ...staging.observability, retentionDays: 30 } };
    expect(problemsOf(aws)).toEqual([expect.stringMatching(/^config\/test\.yaml: observability\.retentionDays: unknown key/)]);
  });
});

describe("aws runners.mountDockerSocket is runners.dockerAccess, the docker platform's name and form", () => {
  const production = exampleYaml("production");
  const runners = (env: Record<string, any>, set: Record<string, unknown>) => ({ ...env, runners: { ...env.runners, ...set } });

  it("reads true as 'socket' and false as 'none', in both scaling modes, saying what to write instead", () => {
    for (const example of [staging, production]) {
      for (const [old, now] of [
        [true, "socket"],
        [false, "none"],
      ] as const) {
        expect(validEnvironment(runners(example, { mountDockerSocket: old }))).toEqual(validEnvironment(runners(example, { dockerAccess: now })));
        expect(notices(runners(example, { mountDockerSocket: old }))).toEqual([
          expect.stringMatching(
            new RegExp(
              `^runners\\.mountDockerSocket: renamed runners\\.dockerAccess \\(the docker platform's name and form\\): write dockerAccess: ${now}; the old name is read until the next release \\(line \\d+\\)$`,
            ),
          ),
        ]);
      }
    }
  });

  it("keeps each platform's default: the socket on aws, none on docker", () => {
    expect((validEnvironment(staging) as any).runners.dockerAccess).toBe("socket");
    expect((validEnvironment(production) as any).runners.dockerAccess).toBe("socket");
    expect((validEnvironment(homelab) as any).runners.build.dockerAccess).toBe("none");
    expect(notices(staging)).toEqual([]);
  });

  it("refuses the old and the new key together, and an old value of neither form, naming both keys", () => {
    expect(problemsOf(runners(staging, { mountDockerSocket: false, dockerAccess: "none" }))).toEqual([
      "config/test.yaml: runners.mountDockerSocket: renamed runners.dockerAccess, which is set too: remove this one",
    ]);
    expect(problemsOf(runners(staging, { mountDockerSocket: "yes" }))).toEqual([
      "config/test.yaml: runners.mountDockerSocket: must be true or false, got 'yes'; renamed runners.dockerAccess, which takes 'socket' or 'none'",
    ]);
  });

  it("is refused in the new key's place under the old form, and the old key on docker is unknown", () => {
    expect(problemsOf(runners(staging, { dockerAccess: true }))).toEqual(["config/test.yaml: runners.dockerAccess: must be one of 'none', 'socket'"]);
    const docker = { ...homelab, runners: { ...homelab.runners, build: { ...homelab.runners.build, mountDockerSocket: true } } };
    expect(problemsOf(docker)).toEqual([expect.stringMatching(/^config\/test\.yaml: runners\.build\.mountDockerSocket: unknown key/)]);
  });
});

describe("backups.schedule is cron on every platform", () => {
  const timerOf = (schedule: string) =>
    userDataText(onlyResource(synthEnvironment(validEnvironment({ ...staging, backups: { ...staging.backups, schedule } }, "staging")), "aws_instance"));

  it("converts cron to the instance timer's OnCalendar", () => {
    expect(timerOf("30 1 * * 1-5")).toContain("OnCalendar=Mon..Fri *-*-* 01:30:00");
  });

  it("still reads a systemd OnCalendar expression on aws, as it is, with a notice", () => {
    const old = { ...staging, backups: { ...staging.backups, schedule: "*-*-* 03:15:00" } };
    expect(notices(old)).toEqual([
      expect.stringMatching(/^backups\.schedule: a systemd OnCalendar expression is deprecated here: write the schedule as cron in UTC/),
    ]);
    expect(timerOf("*-*-* 03:15:00")).toContain("OnCalendar=*-*-* 03:15:00");
  });

  it("refuses cron that a timer cannot express, and what is neither form", () => {
    expect(problemsOf({ ...staging, backups: { ...staging.backups, schedule: "0 2 1 * 1" } })).toEqual([
      "config/test.yaml: backups.schedule: this cron schedule has no systemd timer equivalent: a day of month and a weekday together mean either in cron and both in systemd; use one of them",
    ]);
    expect(problemsOf({ ...staging, backups: { ...staging.backups, schedule: "nightly" } })).toEqual([
      "config/test.yaml: backups.schedule: invalid cron schedule: must have five fields (minute hour day month weekday), e.g. '0 2 * * *'",
    ]);
  });
});

describe("the commands print the notices", () => {
  afterEach(() => vi.restoreAllMocks());

  /** A copy of the examples with a renamed key still set in homelab.yaml. */
  function configWithOldKey(): string {
    const dir = join(mkdtempSync(join(tmpdir(), "deprecations-")), "config");
    cpSync(CONFIG_DIR, dir, { recursive: true });
    writeFileSync(join(dir, "homelab.yaml"), stringify({ ...homelab, docker: { ...homelab.docker, shmSize: 512 } }));
    return dir;
  }

  function captureStderr(): string[] {
    const written: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    return written;
  }

  const WARNING = /^warning: .*homelab\.yaml: docker\.shmSize: renamed docker\.shmSizeMb .*\(line \d+, column \d+\)\n$/;

  it("as one warning line per old key, naming the file, the key and its line", () => {
    const dir = configWithOldKey();
    const written = captureStderr();
    loadEnvironments(dir, ["homelab"], printWarning);
    expect(written.filter((w) => w.startsWith("warning:"))).toEqual([expect.stringMatching(WARNING)]);
  });

  it("the loader itself prints nothing: a library caller decides", () => {
    const dir = configWithOldKey();
    const written = captureStderr();
    const notices: string[] = [];
    loadEnvironments(dir, ["homelab"], (line) => notices.push(line));
    loadEnvironments(dir, ["homelab"]);
    expect(written).toEqual([]);
    expect(notices).toHaveLength(1);
  });

  it("npm run check prints it", () => {
    const dir = configWithOldKey();
    const written = captureStderr();
    const previous = process.env.GITLAB_CONFIG_DIR;
    process.env.GITLAB_CONFIG_DIR = dir;
    try {
      checkCommand(["homelab"], { write: () => true } as unknown as NodeJS.WritableStream);
    } finally {
      if (previous === undefined) delete process.env.GITLAB_CONFIG_DIR;
      else process.env.GITLAB_CONFIG_DIR = previous;
    }
    expect(written.filter((w) => w.startsWith("warning:"))).toEqual([expect.stringMatching(WARNING)]);
  });
});
