// What the second stack manages inside GitLab, mapped from the `gitlab:` section: instance
// settings, groups, projects and their branch protections. The same on every platform.
import type { Environment } from "../../config/load";
import type { GitLabGroupsProps } from "../../constructs/gitlab-content/groups";
import type { GitLabInstanceSettingsProps } from "../../constructs/gitlab-content/instance-settings";
import type { GitLabProjectsProps } from "../../constructs/gitlab-content/projects";

const lastSegment = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** gitlab.settings as the instance settings construct takes them. */
export function instanceSettingsProps(env: Environment): GitLabInstanceSettingsProps {
  const s = env.gitlab.settings;
  return {
    signupEnabled: s.signupEnabled,
    defaultProjectVisibility: s.defaultProjectVisibility,
    defaultGroupVisibility: s.defaultGroupVisibility,
    requireTwoFactor: s.requireTwoFactor,
    twoFactorGracePeriodHours: s.twoFactorGracePeriodHours,
  };
}

/** gitlab.groups, each named after its last path segment unless config names it. */
export function groupsProps(env: Environment): GitLabGroupsProps {
  return {
    groups: env.gitlab.groups.map((g) => ({
      path: g.path,
      name: g.name ?? lastSegment(g.path),
      visibility: g.visibility,
      ...(g.description ? { description: g.description } : {}),
    })),
  };
}

/** gitlab.projects with gitlab.branchProtections applied to each. */
export function projectsProps(env: Environment, groups: GitLabProjectsProps["groups"]): GitLabProjectsProps {
  return {
    groups,
    projects: env.gitlab.projects.map((p) => ({
      path: p.path,
      name: p.name ?? lastSegment(p.path),
      visibility: p.visibility,
      requirePipeline: p.requirePipeline,
      ...(p.description ? { description: p.description } : {}),
    })),
    branchProtections: env.gitlab.branchProtections.map((b) => ({ branch: b.branch, push: b.push, merge: b.merge, allowForcePush: b.allowForcePush })),
  };
}
