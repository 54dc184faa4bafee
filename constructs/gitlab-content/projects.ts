// Projects managed in GitLab, each with the environment's branch protections.
import { BranchProtection } from "@cdktf/provider-gitlab/lib/branch-protection";
import { Project } from "@cdktf/provider-gitlab/lib/project";
import { Construct } from "constructs";
import { type GitLabGroups, parentOf, pathId } from "./groups";
import type { Visibility } from "./instance-settings";

/** Who may push or merge (GitLab CE's access levels, as the provider names them). */
export type AccessLevel = "no one" | "developer" | "maintainer" | "admin";

export interface BranchProtectionSpec {
  /** Branch name or wildcard. */
  readonly branch: string;
  readonly push: AccessLevel;
  readonly merge: AccessLevel;
  readonly allowForcePush: boolean;
}

export interface GitLabProjectSpec {
  /** '<group full path>/<project>'. */
  readonly path: string;
  /** Display name. */
  readonly name: string;
  /** @default none */
  readonly description?: string;
  readonly visibility: Visibility;
  /** Merge requests merge only when their pipeline succeeded. */
  readonly requirePipeline: boolean;
}

export interface GitLabProjectsProps {
  readonly projects: readonly GitLabProjectSpec[];
  /** Where each project's group is found: managed, or looked up by path. */
  readonly groups: GitLabGroups;
  /** Protected branches of every project. */
  readonly branchProtections: readonly BranchProtectionSpec[];
}

/**
 * gitlab_project per configured project, protected against destroy (its repository is data),
 * and archived rather than deleted should that protection ever be lifted.
 */
export class GitLabProjects extends Construct {
  readonly projects: ReadonlyMap<string, Project>;
  readonly protections: readonly BranchProtection[];

  constructor(scope: Construct, id: string, props: GitLabProjectsProps) {
    super(scope, id);
    const projects = new Map<string, Project>();
    const protections: BranchProtection[] = [];
    for (const spec of props.projects) {
      const project = this.project(spec, props.groups);
      projects.set(spec.path, project);
      for (const p of props.branchProtections) protections.push(this.protect(spec.path, project, p));
    }
    this.projects = projects;
    this.protections = protections;
  }

  private project(spec: GitLabProjectSpec, groups: GitLabGroups): Project {
    return new Project(this, pathId(spec.path), {
      name: spec.name,
      path: spec.path.slice(spec.path.lastIndexOf("/") + 1),
      namespaceId: groups.idOf(parentOf(spec.path)!),
      visibilityLevel: spec.visibility,
      ...(spec.description ? { description: spec.description } : {}),
      onlyAllowMergeIfPipelineSucceeds: spec.requirePipeline,
      archiveOnDestroy: true,
      lifecycle: { preventDestroy: true },
    });
  }

  private protect(path: string, project: Project, p: BranchProtectionSpec): BranchProtection {
    // The provider takes over the default branch's protection GitLab adds on creation.
    return new BranchProtection(this, `${pathId(path)}--protect--${pathId(p.branch)}`, {
      project: project.id,
      branch: p.branch,
      pushAccessLevel: p.push,
      mergeAccessLevel: p.merge,
      allowForcePush: p.allowForcePush,
    });
  }
}
