// Stateful resources must not disappear with a routine `terraform apply` or `destroy`.
import { PURPOSE_TAG, type Rule } from "../types";

const KEEP_LABEL = "gitlab-platform.keep";

const protectedState: Rule = {
  id: "STATEFUL-PREVENT-DESTROY",
  rationale: "The data volume, data buckets and the Elastic IP (every DNS record points at it) cannot be recreated.",
  check: (stack) =>
    [
      ...stack.ofType("aws_ebs_volume"),
      ...stack.ofType("aws_eip"),
      ...stack.ofType("aws_s3_bucket").filter((b) => b.config.tags?.[PURPOSE_TAG] !== "cache"),
    ]
      .filter((r) => r.config.lifecycle?.prevent_destroy !== true)
      .map((resource) => ({ resource, message: "set lifecycle.prevent_destroy = true (remove it deliberately to retire the resource)" })),
};

const dockerData: Rule = {
  id: "DOCKER-DATA-PERSISTED",
  rationale: "Data in anonymous volumes or a container's layer dies with the container or a prune.",
  check: (stack) => [
    ...stack.ofType("docker_container").flatMap((c) =>
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
