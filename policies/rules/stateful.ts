// Stateful resources must not disappear with a routine `terraform apply` or `destroy`.
import { PURPOSE_TAG, type ResourceView, type Rule } from "../types";

const KEEP_LABEL = "gitlab-platform.keep";

/** Local-driver mount types whose data lives elsewhere: removing the volume removes only the mount. */
const REMOTE_MOUNTS = new Set(["nfs", "nfs4", "cifs", "smb3"]);

/**
 * Whether removing the Docker volume deletes data: a local volume's data lives in Docker's own
 * directory and goes with it; an NFS/CIFS mount or a bind to a host directory only loses its
 * mount definition (the homelab backups volume is recreated by design when its NFS options
 * change). Other drivers are assumed to own their data.
 */
function holdsData(volume: ResourceView): boolean {
  const driver = String(volume.config.driver ?? "local");
  if (driver !== "local") return true;
  const opts = volume.config.driver_opts ?? {};
  const type = String(opts.type ?? "").toLowerCase();
  const bind = type === "none" && /(^|,)r?bind(,|$)/.test(String(opts.o ?? ""));
  return !(REMOTE_MOUNTS.has(type) || bind);
}

const protectedState: Rule = {
  id: "STATEFUL-PREVENT-DESTROY",
  rationale:
    "The data volume, data buckets, Docker volumes holding data, the Elastic IP (every DNS record points at it) and GitLab groups and projects (their repositories) cannot be recreated.",
  check: (stack) =>
    [
      ...stack.ofType("aws_ebs_volume"),
      ...stack.ofType("aws_eip"),
      ...stack.ofType("aws_s3_bucket").filter((b) => b.config.tags?.[PURPOSE_TAG] !== "cache"),
      ...stack.ofType("docker_volume").filter(holdsData),
      ...stack.ofType("gitlab_group"),
      ...stack.ofType("gitlab_project"),
    ]
      .filter((r) => r.config.lifecycle?.prevent_destroy !== true)
      .map((resource) => ({ resource, message: "set lifecycle.prevent_destroy = true (remove it deliberately to retire the resource)" })),
};

const dockerData: Rule = {
  id: "DOCKER-DATA-PERSISTED",
  rationale: "Data in anonymous volumes or a container's layer dies with the container or a prune.",
  check: (stack) => [
    ...stack
      .ofType("docker_container")
      .flatMap((c) =>
        (c.config.volumes ?? [])
          .filter((v: any) => !v.host_path && !v.volume_name)
          .map((v: any) => ({ resource: c, message: `${v.container_path} is an anonymous volume: bind-mount a host directory under the data root` })),
      ),
    ...stack
      .ofType("docker_volume")
      .filter((v) => !(v.config.labels ?? []).some((l: any) => l.label === KEEP_LABEL))
      .map((resource) => ({ resource, message: `label the volume ${KEEP_LABEL}=true so the Docker cleanup skips it` })),
  ],
};

export const statefulRules = [protectedState, dockerData];
