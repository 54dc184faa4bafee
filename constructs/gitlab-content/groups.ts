// Groups managed in GitLab, and the lookup of any group by its full path: a managed group's
// id, or an existing group's read with a data source (a parent or a project's group that
// config does not manage).
import { DataGitlabGroup } from "@cdktf/provider-gitlab/lib/data-gitlab-group";
import { Group } from "@cdktf/provider-gitlab/lib/group";
import { Token } from "cdktf";
import { Construct } from "constructs";
import type { Visibility } from "./instance-settings";

export interface GitLabGroupSpec {
  /** Full path, e.g. 'platform' or 'platform/tools'. */
  readonly path: string;
  /** Display name. */
  readonly name: string;
  /** @default none */
  readonly description?: string;
  readonly visibility: Visibility;
}

export interface GitLabGroupsProps {
  /** The groups to create and keep as configured; parents before or after children, any order. */
  readonly groups: readonly GitLabGroupSpec[];
}

/** A construct id for a GitLab path: '/' cannot appear in one. */
export const pathId = (path: string): string => path.replaceAll("/", "--");

/** The parent's full path of a group or project path, or undefined at the top. */
export const parentOf = (path: string): string | undefined => (path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : undefined);

/**
 * gitlab_group per configured group, protected against destroy: deleting a group deletes every
 * project in it. Removing one from config fails the plan until its state is removed on purpose.
 */
export class GitLabGroups extends Construct {
  private readonly managed = new Map<string, Group>();
  private readonly existing = new Map<string, DataGitlabGroup>();

  constructor(scope: Construct, id: string, props: GitLabGroupsProps) {
    super(scope, id);
    // Parents first, so that a subgroup can take its parent's id.
    const byDepth = [...props.groups].sort((a, b) => a.path.split("/").length - b.path.split("/").length);
    for (const spec of byDepth) this.create(spec);
  }

  /** The managed group at `path`, if config manages it. */
  group(path: string): Group | undefined {
    return this.managed.get(path);
  }

  /** The numeric id of the group at `path`: the managed group's, or the existing group's looked up by path. */
  idOf(path: string): number {
    const managed = this.managed.get(path);
    if (managed) return Token.asNumber(managed.id);
    let found = this.existing.get(path);
    if (!found) {
      found = new DataGitlabGroup(this, `existing-${pathId(path)}`, { fullPath: path });
      this.existing.set(path, found);
    }
    return found.groupId;
  }

  private create(spec: GitLabGroupSpec): void {
    const parent = parentOf(spec.path);
    const group = new Group(this, pathId(spec.path), {
      name: spec.name,
      path: spec.path.slice(spec.path.lastIndexOf("/") + 1),
      visibilityLevel: spec.visibility,
      ...(spec.description ? { description: spec.description } : {}),
      ...(parent ? { parentId: this.idOf(parent) } : {}),
      lifecycle: { preventDestroy: true },
    });
    this.managed.set(spec.path, group);
  }
}
