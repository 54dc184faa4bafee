// What lives inside GitLab, managed by the environment's second stack (`<env>-gitlab`) through
// GitLab's Terraform provider: instance settings, groups, projects and branch protections.
// Part of the `gitlab:` section of every platform.
import { z } from "zod";

const visibility = z.enum(["private", "internal", "public"]);
const VISIBILITY_RANK = { private: 0, internal: 1, public: 2 } as const;

/** Who may push or merge to a protected branch (GitLab CE's access levels). */
const accessLevel = z.enum(["no one", "developer", "maintainer", "admin"]);

/** One path segment of a group or project, as GitLab accepts it. */
const SEGMENT = "[A-Za-z0-9_][A-Za-z0-9_.-]*";
const pathSegmentProblem = (path: string): string | undefined =>
  path.split("/").some((s) => s.endsWith(".git") || s.endsWith(".atom") || s.endsWith("."))
    ? "must not have a segment ending in '.', '.git' or '.atom'"
    : undefined;

const groupPath = z
  .string()
  .regex(new RegExp(`^${SEGMENT}(/${SEGMENT}){0,19}$`), "must be a group's full path like 'platform' or 'platform/tools'")
  .superRefine((p, ctx) => {
    const problem = pathSegmentProblem(p);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

const projectPath = z
  .string()
  .regex(new RegExp(`^${SEGMENT}(/${SEGMENT}){1,20}$`), "must be '<group full path>/<project>', e.g. 'platform/infrastructure'")
  .superRefine((p, ctx) => {
    const problem = pathSegmentProblem(p);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** The default protections: main and develop protected, Maintainers push, Developers merge, nobody force-pushes. */
export const DEFAULT_BRANCH_PROTECTIONS = [
  { branch: "main", push: "maintainer", merge: "developer", allowForcePush: false },
  { branch: "develop", push: "maintainer", merge: "developer", allowForcePush: false },
] as const;

const branchProtection = z.strictObject({
  branch: z
    .string()
    .regex(/^[^\s~^:?[\\]+$/, "must be a branch name or wildcard like 'main' or 'release/*'")
    .describe("Branch name or wildcard, e.g. 'main' or 'release/*'. It need not exist yet."),
  push: accessLevel.default("maintainer").describe("Who may push (and create the branch). @default 'maintainer'"),
  merge: accessLevel.default("developer").describe("Who may merge into it. @default 'developer'"),
  allowForcePush: z.boolean().default(false).describe("Let those who may push force-push. @default false"),
});

const group = z.strictObject({
  path: groupPath.describe("Full path of the group, e.g. 'platform', or 'platform/tools' for a subgroup (its parent listed here too, or already in GitLab)."),
  name: z.string().min(1).max(255).optional().describe("Display name. @default the path's last segment"),
  description: z.string().max(2000).optional(),
  visibility: visibility.default("private").describe("@default 'private'"),
});

const project = z.strictObject({
  path: projectPath.describe("'<group full path>/<project>', e.g. 'platform/infrastructure'. The group is listed in gitlab.groups or already in GitLab."),
  name: z.string().min(1).max(255).optional().describe("Display name. @default the path's last segment"),
  description: z.string().max(2000).optional(),
  visibility: visibility.default("private").describe("@default 'private'"),
  requirePipeline: z
    .boolean()
    .default(true)
    .describe("Merge requests merge only when their pipeline succeeded (a broken main or develop cannot be merged into). @default true"),
});

const settings = z
  .strictObject({
    signupEnabled: z
      .boolean()
      .default(false)
      .describe("The public sign-up form. Off: accounts come from an admin or from SSO. Must stay off with gitlab.sso. @default false"),
    defaultProjectVisibility: visibility.default("private").describe("Visibility of new projects. @default 'private'"),
    defaultGroupVisibility: visibility.default("private").describe("Visibility of new groups. @default 'private'"),
    requireTwoFactor: z
      .boolean()
      .default(false)
      .describe("Every user must set up two-factor authentication (with SSO, the identity provider's own 2FA usually does this job). @default false"),
    twoFactorGracePeriodHours: z
      .int()
      .min(0)
      .max(24 * 30)
      .default(48)
      .describe("With requireTwoFactor: hours a user may still skip setting it up. @default 48"),
  })
  .describe("Instance settings (Admin → Settings), applied by the <env>-gitlab stack: a change made in the UI shows as drift in its plan.");

/** The `gitlab:` fields for what lives inside GitLab. */
export const gitlabContentFields = {
  settings: settings.prefault({}),
  groups: z.array(group).max(200).default([]).describe("Groups the <env>-gitlab stack creates and keeps as configured. @default []"),
  projects: z
    .array(project)
    .max(500)
    .default([])
    .describe("Projects the <env>-gitlab stack creates and keeps as configured, each with gitlab.branchProtections. @default []"),
  branchProtections: z
    .array(branchProtection)
    .max(50)
    .default(DEFAULT_BRANCH_PROTECTIONS.map((p) => ({ ...p })))
    .describe("Protected branches of every project in gitlab.projects. @default main and develop: Maintainers push, Developers merge, no force push"),
};

type Issue = { path: (string | number)[]; message: string };
type Item = Record<string, unknown> | undefined;

/** A group or project more visible than the managed group holding it, which GitLab refuses. */
function moreVisibleThanGroup(key: "groups" | "projects", item: Item, i: number, groupsByPath: Map<unknown, Item>): Issue | undefined {
  if (typeof item?.path !== "string" || !item.path.includes("/")) return undefined;
  const parentPath = item.path.slice(0, item.path.lastIndexOf("/"));
  const gv = groupsByPath.get(parentPath)?.visibility as keyof typeof VISIBILITY_RANK | undefined;
  const v = item.visibility as keyof typeof VISIBILITY_RANK | undefined;
  if (!gv || !v || !(gv in VISIBILITY_RANK) || !(v in VISIBILITY_RANK) || VISIBILITY_RANK[v] <= VISIBILITY_RANK[gv]) return undefined;
  return { path: [key, i, "visibility"], message: `'${v}' is more visible than its group ${parentPath} ('${gv}'): GitLab refuses it` };
}

/** Problems across the content fields: duplicates, parents, visibility against the group's, SSO and sign-up. */
export function gitlabContentProblems(gitlab: unknown): Issue[] {
  if (gitlab === null || typeof gitlab !== "object") return [];
  const g = gitlab as Record<string, unknown>;
  const list = (key: string) => (Array.isArray(g[key]) ? (g[key] as Record<string, unknown>[]) : []);
  const issues: Issue[] = [];
  const seen = (key: string, field: string) => {
    const first = new Map<unknown, number>();
    list(key).forEach((item, i) => {
      const value = item?.[field];
      if (typeof value !== "string") return;
      const earlier = first.get(value);
      if (earlier === undefined) first.set(value, i);
      else issues.push({ path: [key, i, field], message: `'${value}' is already gitlab.${key}[${earlier}]: list each once` });
    });
    return first;
  };
  const groups = seen("groups", "path");
  seen("projects", "path");
  seen("branchProtections", "branch");
  const groupsByPath = new Map([...groups].map(([path, i]) => [path, list("groups")[i]]));
  list("groups").forEach((group, i) => {
    const issue = moreVisibleThanGroup("groups", group, i, groupsByPath);
    if (issue) issues.push(issue);
  });
  list("projects").forEach((p, i) => {
    if (typeof p?.path === "string" && groups.has(p.path)) {
      issues.push({ path: ["projects", i, "path"], message: `'${p.path}' is also a group in gitlab.groups: a project and a group cannot share a path` });
    }
    const issue = moreVisibleThanGroup("projects", p, i, groupsByPath);
    if (issue) issues.push(issue);
  });
  const signup = (g.settings as Record<string, unknown> | undefined)?.signupEnabled;
  if (g.sso && signup === true) {
    issues.push({
      path: ["settings", "signupEnabled"],
      message: "must be false with gitlab.sso: accounts come from SSO, and a password sign-up would bypass it",
    });
  }
  return issues;
}

/**
 * The schema with gitlabContentProblems reported at their fields (under `gitlab.`). Like the
 * cross-checks, it runs even when other fields failed, so a file's problems come in one run.
 */
export function withGitlabContentChecks<S extends z.ZodType>(schema: S): S {
  const check = z.core._check<unknown>(
    (payload) => {
      const gitlab = payload.value !== null && typeof payload.value === "object" ? (payload.value as Record<string, unknown>).gitlab : undefined;
      for (const issue of gitlabContentProblems(gitlab)) {
        payload.issues.push({ code: "custom", message: issue.message, input: payload.value, path: ["gitlab", ...issue.path] });
      }
    },
    { when: () => true },
  );
  return schema.check(check) as S;
}
