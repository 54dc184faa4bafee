// The Terraform addresses of the resources that hold data are a contract with every deployed
// environment. cdktf derives an address from the construct path (`<type>.<path>_<hash>`), so
// renaming or moving a construct gives the resource a new address, and Terraform then plans to
// destroy the old one (the data volume, a bucket, the Elastic IP users' DNS points at) and
// create an empty one. This list pins them, per example: when a change moves one, this test
// fails and says how to carry the state over.
import { describe, expect, it } from "vitest";
import { exampleEnvironments, exampleStack, stackNamesOf, type SynthesizedStack } from "../examples";

/** address → what it holds. */
type Pinned = Readonly<Record<string, string>>;

const AWS: Pinned = {
  "aws_ebs_volume.gitlab-server_data_CFFDE188": "GitLab's data volume: repositories, database, uploads",
  "aws_eip.gitlab-server_eip_3E8737A1": "the public address DNS and users' git remotes point at",
  "aws_s3_bucket.backups_storage_bucket_C01CD108": "the backups",
  "aws_s3_bucket.registry_storage_bucket_299869FA": "the container registry's images",
  "aws_dlm_lifecycle_policy.backups_snapshots_A0F2285B": "the daily snapshots of the data volume and their retention",
};

const DOCKER: Pinned = {
  "docker_container.gitlab-server_gitlab_container_AC491088": "GitLab, on its data, config and registry directories (replacing it stops GitLab)",
  "docker_container.observability_prometheus_container_0C549FC2": "Prometheus, on its metrics history",
  "docker_container.observability_grafana_container_E5F3FFA6": "Grafana, on its users and settings",
  "docker_container.observability_alertmanager_container_40301E4E": "Alertmanager, on its silences and notification log",
  "docker_container.dns-tls_traefik_container_A4306130": "Traefik, on its Let's Encrypt account and certificates",
  "docker_volume.backups_nfs_022A317E": "the NFS share the backups are written to",
};

const KUBERNETES: Pinned = {
  "kubernetes_namespace_v1.namespace_67941C3A": "GitLab's namespace: deleting it deletes every PersistentVolumeClaim and Secret in it",
  "helm_release.gitlab-server_chart_release_896FC9C3": "the GitLab chart: Gitaly's, PostgreSQL's and Redis's PersistentVolumeClaims",
};

/** The second stacks' (`<env>-gitlab`) groups and projects: a new address deletes (or archives) the project and its repository. */
const CONTENT: Readonly<Record<string, Pinned>> = {
  "staging-gitlab": {
    "gitlab_group.groups_example_C0B114C8": "the group 'example' and every project in it",
    "gitlab_project.projects_example--app_7833E7A5": "the project example/app: its repository, issues and merge requests",
  },
  "production-gitlab": {
    "gitlab_group.groups_example_C0B114C8": "the group 'example' and every project in it",
    "gitlab_group.groups_example--services_2F654E95": "the subgroup example/services and every project in it",
    "gitlab_project.projects_example--app_7833E7A5": "the project example/app",
    "gitlab_project.projects_example--services--payments_E4422114": "the project example/services/payments",
  },
  "homelab-gitlab": {
    "gitlab_project.projects_homelab--infrastructure_8F164429": "the project homelab/infrastructure",
  },
  "cluster-gitlab": {},
  "k3s-homelab-gitlab": {},
};

const PINNED: Readonly<Record<string, Pinned>> = {
  staging: AWS,
  production: AWS,
  homelab: DOCKER,
  cluster: KUBERNETES,
  "k3s-homelab": KUBERNETES,
  ...CONTENT,
};

function has(stack: SynthesizedStack, address: string): boolean {
  const [type, id] = address.split(".") as [string, string];
  return stack.resource[type]?.[id] !== undefined;
}

function addressesOf(stack: SynthesizedStack): string[] {
  return Object.entries(stack.resource).flatMap(([type, all]) => Object.keys(all).map((id) => `${type}.${id}`));
}

describe("the addresses of resources that hold data", () => {
  it("are pinned for every example", () => {
    expect(Object.keys(PINNED).sort()).toEqual(stackNamesOf(exampleEnvironments().map((e) => e.name)).sort());
  });

  it.each(Object.entries(PINNED))("%s keeps them", (name, pinned) => {
    const stack = exampleStack(name);
    const moved = Object.entries(pinned).filter(([address]) => !has(stack, address));
    const report = moved.map(([address, holds]) => {
      const type = address.split(".")[0]!;
      const now = addressesOf(stack).filter((a) => a.startsWith(`${type}.`));
      return (
        `${name}: ${address} (${holds}) is no longer at this address (${type} now: ${now.join(", ") || "none"}). ` +
        "Terraform would destroy it and create an empty one. Keep the construct id, or carry the state over with a moved block: " +
        `on the new resource, \`resource.moveFromId("${address}")\` (cdktf; or moveTo from the old one), then update this list.`
      );
    });
    expect(report, report.join("\n")).toEqual([]);
  });

  it.each(Object.entries(PINNED))("%s: every resource protected against destroy is pinned", (name, pinned) => {
    const stack = exampleStack(name);
    const protectedOnes = Object.entries(stack.resource).flatMap(([type, all]) =>
      Object.entries(all)
        .filter(([, r]) => r.lifecycle?.prevent_destroy === true)
        .map(([id]) => `${type}.${id}`),
    );
    expect(
      protectedOnes.filter((a) => !(a in pinned)),
      "protected against destroy, so it holds data: add it to PINNED",
    ).toEqual([]);
  });
});
