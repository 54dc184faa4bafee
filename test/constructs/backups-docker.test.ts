import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Network } from "@cdktf/provider-docker/lib/network";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { DockerBackups, LOCAL_BACKUP_KEEP_SECONDS, type DockerBackupsProps } from "../../constructs/backups/docker";
import type { GitLabContainerRef } from "../../constructs/gitlab-server/docker";
import { KEEP_LABEL } from "../../constructs/docker-conventions";
import { templateProblems, unescapeTemplate } from "../../scripts/verify/terraform";
import { renderCrontab } from "../../userdata/crontab";
import { REPO_ROOT } from "../helpers";

/** A GitLab container as DockerGitLabServer describes itself to others. */
const gitlabRef = (containerName: string, root = "/srv/gitlab"): GitLabContainerRef => ({
  containerName,
  httpPort: 80,
  hostDirs: { config: `${root}/gitlab/config`, data: `${root}/gitlab/data` },
});

const PROPS: Omit<DockerBackupsProps, "network"> = {
  gitlab: gitlabRef("gitlab"),
  image: "docker:28.5.1-cli",
  schedule: "0 2 * * *",
  nfs: { server: "nas.example.com", export: "/mnt/tank/backups/gitlab" },
  retentionDays: 14,
};

function synth(props: Partial<DockerBackupsProps> = {}): { json: any; backups: DockerBackups } {
  let backups: DockerBackups | undefined;
  const text = Testing.synthScope((scope) => {
    new DockerProvider(scope, "docker", {});
    const network = new Network(scope, "n", { name: "gitlab" });
    backups = new DockerBackups(scope, "backups", { network, ...PROPS, ...props });
  });
  return { json: JSON.parse(text), backups: backups! };
}

const only = (json: any, type: string): any => {
  const all = Object.values(json.resource[type] ?? {});
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
};

const { json, backups } = synth();
const scheduler = only(json, "docker_container");
const volume = only(json, "docker_volume");
const upload = (file: string) => scheduler.upload.find((u: any) => u.file === file);
const mount = (containerPath: string) => scheduler.volumes.find((v: any) => v.container_path === containerPath);

describe("DockerBackups: the NFS share", () => {
  it("is a local-driver Docker volume mounting the export over NFS 4.1, soft, with a long timeout", () => {
    expect(volume.driver).toBe("local");
    expect(volume.driver_opts).toEqual({
      type: "nfs",
      o: "addr=nas.example.com,nfsvers=4.1,rw,soft,timeo=600",
      device: ":/mnt/tank/backups/gitlab",
    });
  });

  it("carries the keep label, so the Docker cleanup never removes it", () => {
    expect(volume.labels).toEqual([{ label: KEEP_LABEL, value: "true" }]);
  });

  it("gets a new name when the NAS or export changes (Docker cannot change a volume in use)", () => {
    expect(volume.name).toMatch(/^gitlab-backups-nfs-[0-9a-f]{8}$/);
    const again = only(synth().json, "docker_volume");
    const moved = only(synth({ nfs: { server: "192.0.2.30", export: "/mnt/tank/backups/gitlab" } }).json, "docker_volume");
    expect(again.name).toBe(volume.name);
    expect(moved.name).not.toBe(volume.name);
  });

  it("is mounted into the scheduler only, at /nfs", () => {
    const volumeRef = `\${docker_volume.${Object.keys(json.resource.docker_volume)[0]}.name}`;
    const users = Object.values(json.resource.docker_container).filter((c: any) => (c.volumes ?? []).some((v: any) => v.volume_name === volumeRef));
    expect(users).toEqual([scheduler]);
    expect(mount("/nfs")).toEqual({ container_path: "/nfs", volume_name: volumeRef });
  });

  it("is exposed as an attribute", () => {
    expect(backups.nfsVolume.node.path).toContain("backups/nfs");
  });
});

describe("DockerBackups: the scheduler container", () => {
  it("runs the pinned Docker CLI image with the platform conventions", () => {
    expect(only(json, "docker_image")).toMatchObject({ name: "docker:28.5.1-cli", keep_locally: true });
    expect(scheduler.name).toBe("gitlab-backup-scheduler");
    expect(backups.containerName).toBe("gitlab-backup-scheduler");
    expect(scheduler.restart).toBe("unless-stopped");
    expect(scheduler.labels).toEqual([{ label: KEEP_LABEL, value: "true" }]);
    expect(scheduler.networks_advanced).toEqual([{ name: "${docker_network.n.name}" }]);
  });

  it("runs busybox crond in the foreground, logging to the container's output, in UTC", () => {
    expect(scheduler.entrypoint).toEqual(["crond", "-f", "-d", "8", "-c", "/etc/crontabs"]);
    expect(scheduler.init).toBe(true);
    expect(scheduler.env).toContain("TZ=UTC");
  });

  it("publishes no ports", () => {
    expect(scheduler.ports ?? []).toEqual([]);
  });

  it("has the host's Docker socket (root-equivalent) to docker exec into GitLab", () => {
    expect(mount("/var/run/docker.sock")).toEqual({ host_path: "/var/run/docker.sock", container_path: "/var/run/docker.sock" });
    expect(scheduler.env).toContain("DOCKER_HOST=unix:///var/run/docker.sock");
  });

  it("reads GitLab's backups and config read-only and writes only the textfile collector directory", () => {
    expect(scheduler.volumes).toHaveLength(5);
    expect(mount("/gitlab-backups")).toEqual({
      host_path: "/srv/gitlab/gitlab/data/backups",
      container_path: "/gitlab-backups",
      read_only: true,
    });
    expect(mount("/gitlab-config")).toEqual({ host_path: "/srv/gitlab/gitlab/config", container_path: "/gitlab-config", read_only: true });
    expect(mount("/textfile")).toEqual({
      host_path: "/srv/gitlab/gitlab/data/node-exporter/textfile_collector",
      container_path: "/textfile",
    });
  });

  it("tells the script where its mounts are, which container to exec into and how long to keep archives", () => {
    expect(scheduler.env).toEqual(
      expect.arrayContaining([
        "GITLAB_CONTAINER=gitlab",
        "RETENTION_DAYS=14",
        "BACKUP_SOURCE_DIR=/gitlab-backups",
        "GITLAB_CONFIG_DIR=/gitlab-config",
        "NFS_DIR=/nfs",
        "TEXTFILE_DIR=/textfile",
      ]),
    );
    const custom = only(synth({ gitlab: gitlabRef("gitlab-ce", "/tank/gitlab"), retentionDays: 30 }).json, "docker_container");
    expect(custom.env).toEqual(expect.arrayContaining(["GITLAB_CONTAINER=gitlab-ce", "RETENTION_DAYS=30"]));
    // It reads the backups and config of that GitLab, wherever its directories are.
    expect(custom.volumes.map((v: any) => v.host_path)).toEqual(expect.arrayContaining(["/tank/gitlab/gitlab/data/backups", "/tank/gitlab/gitlab/config"]));
  });

  it("refuses a retention that would delete every archive", () => {
    expect(() => synth({ retentionDays: 0 })).toThrow(/retentionDays must be a whole number of days, at least 1/);
  });
});

describe("DockerBackups: crontab and script", () => {
  it("installs root's crontab running the backup on the schedule, and the share check every 5 minutes", () => {
    const crontab = upload("/etc/crontabs/root");
    expect(crontab.permissions).toBe("0600");
    expect(unescapeTemplate(crontab.content)).toBe(
      renderCrontab(
        [
          { schedule: "0 2 * * *", command: "/usr/local/bin/gitlab-backup-to-nfs" },
          { schedule: "*/5 * * * *", command: "/usr/local/bin/gitlab-backup-share-check" },
        ],
        "GitLab backup to NFS",
      ),
    );
    expect(crontab.content).toContain("\n0 2 * * * /usr/local/bin/gitlab-backup-to-nfs\n");
  });

  it("follows the configured schedule", () => {
    const other = only(synth({ schedule: "15 3 * * 0" }).json, "docker_container");
    const crontab = other.upload.find((u: any) => u.file === "/etc/crontabs/root");
    expect(crontab.content).toContain("\n15 3 * * 0 /usr/local/bin/gitlab-backup-to-nfs\n");
    expect(crontab.content).not.toContain("0 2 * * *");
  });

  it("uploads the committed script, executable, escaped for Terraform", () => {
    const script = upload("/usr/local/bin/gitlab-backup-to-nfs");
    expect(script.executable).toBe(true);
    const committed = readFileSync(join(REPO_ROOT, "userdata", "scripts", "gitlab-backup-to-nfs.sh"), "utf8");
    expect(committed).toContain("${");
    expect(unescapeTemplate(script.content)).toBe(committed);
    expect(templateProblems(script.content)).toEqual([]);
  });

  it("uploads nothing else", () => {
    expect(scheduler.upload.map((u: any) => u.file).sort()).toEqual([
      "/etc/crontabs/root",
      "/usr/local/bin/gitlab-backup-share-check",
      "/usr/local/bin/gitlab-backup-to-nfs",
    ]);
  });
});

describe("DockerBackups: attributes for the stack", () => {
  it("names the metrics file on the host, in GitLab's node_exporter textfile collector", () => {
    expect(backups.metricsFile).toBe("/srv/gitlab/gitlab/data/node-exporter/textfile_collector/gitlab_backup.prom");
  });

  it("keeps local archives for one day: the NAS holds the history", () => {
    expect(LOCAL_BACKUP_KEEP_SECONDS).toBe(86400);
  });
});
