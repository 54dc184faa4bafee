// Omnibus' system accounts and the fixed uids/gids the aws platform pins for them. GitLab's
// data volume outlives the instance; a replacement boots a fresh image where Omnibus would
// otherwise take whatever system ids are free, and the repositories and database files on
// the volume would then belong to the wrong accounts.
//
// The ids are above Ubuntu's UID_MAX/GID_MAX (60000), so neither system accounts (100-999)
// nor users created by cloud-init or adduser (1000-60000, `ubuntu` is 1000) ever take them,
// and below systemd's dynamic range (61184-65519) and nobody (65534): 16-bit safe. README,
// "Accounts", lists them.

/** The gitlab.rb section that names each account. */
export type OmnibusAccountKey = "user" | "web_server" | "redis" | "postgresql" | "registry" | "prometheus";

export interface OmnibusAccount {
  readonly key: OmnibusAccountKey;
  /** The user and group Omnibus creates. */
  readonly name: string;
  /** Its uid, and the gid of its group of the same name. */
  readonly id: number;
}

export const OMNIBUS_ACCOUNTS: readonly OmnibusAccount[] = [
  { key: "user", name: "git", id: 60100 },
  { key: "web_server", name: "gitlab-www", id: 60101 },
  { key: "redis", name: "gitlab-redis", id: 60102 },
  { key: "postgresql", name: "gitlab-psql", id: 60103 },
  { key: "registry", name: "registry", id: 60104 },
  { key: "prometheus", name: "gitlab-prometheus", id: 60105 },
];

/**
 * Paths on the data volume (relative to /var/opt/gitlab) and who Omnibus makes own them
 * (omnibus-gitlab's cookbooks: gitaly, gitlab-rails, redis, postgresql, registry, nginx,
 * node-exporter recipes). `root` is uid 0; no group means the gid is not checked.
 */
export const DATA_OWNERS: readonly { readonly path: string; readonly user: OmnibusAccountKey | "root"; readonly group?: OmnibusAccountKey }[] = [
  { path: "git-data/repositories", user: "user", group: "user" },
  { path: "gitaly", user: "user" },
  { path: "gitlab-rails", user: "user" },
  { path: "redis", user: "redis", group: "user" },
  // Written by redis itself (its own group): the one place gitlab-redis's gid shows.
  { path: "redis/dump.rdb", user: "redis", group: "redis" },
  { path: "postgresql", user: "postgresql", group: "postgresql" },
  { path: "postgresql/data", user: "postgresql" },
  { path: "registry", user: "registry", group: "registry" },
  { path: "nginx", user: "root", group: "web_server" },
  { path: "node-exporter/textfile_collector", user: "prometheus" },
];

/** The uid and gid of each account, for gitlab.rb's `<key>['uid']` and `<key>['gid']`. */
export function pinnedAccountIds(): Readonly<Record<OmnibusAccountKey, number>> {
  return Object.fromEntries(OMNIBUS_ACCOUNTS.map((a) => [a.key, a.id])) as Record<OmnibusAccountKey, number>;
}

/** The list gitlab-data-owners checks: `<path> <uid> <gid or -> <label>` per line. */
export function renderDataOwnersList(): string {
  const account = (key: OmnibusAccountKey) => OMNIBUS_ACCOUNTS.find((a) => a.key === key)!;
  return DATA_OWNERS.map(({ path, user, group }) => {
    const uid = user === "root" ? 0 : account(user).id;
    const gid = group ? account(group).id : "-";
    const label = `${user === "root" ? "root" : account(user).name}${group ? `:${account(group).name}` : ""}`;
    return `${path} ${uid} ${gid} ${label}\n`;
  }).join("");
}
