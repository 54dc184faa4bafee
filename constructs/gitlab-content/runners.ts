// The environment's instance runners, registered in GitLab by Terraform (gitlab_user_runner):
// each one's tags, protected flag and untagged-jobs setting come from config, and its
// authentication token is a sensitive attribute that only flows to where the runner reads it
// (a secret version, an uploaded file, a Kubernetes Secret: policy GITLAB-TOKEN-SENSITIVE).
// Replacing one (terraform apply -replace) creates a new runner with a new token and deletes
// the old one; the places that read the token follow (docs/operations.md, token rotation).
import { UserRunner } from "@cdktf/provider-gitlab/lib/user-runner";
import { Construct } from "constructs";

/** One runner as GitLab registers it. */
export interface RunnerRegistration {
  /** Its role in the environment, also its construct id: 'fleet', 'build', 'deploy', 'cluster'. */
  readonly role: string;
  /** Shown in GitLab's runner list: names the environment and the role. */
  readonly description: string;
  /** Tags jobs pick it with; never empty (policy GITLAB-RUNNER-TAGGED). */
  readonly tags: readonly string[];
  /** Only protected branches' and tags' jobs (access level ref_protected). */
  readonly protected: boolean;
  /** Also jobs without tags. */
  readonly runUntagged: boolean;
}

export interface GitLabRunnersProps {
  readonly runners: readonly RunnerRegistration[];
}

/** The gitlab_user_runner of each runner, by role. */
export class GitLabRunners extends Construct {
  private readonly byRole = new Map<string, UserRunner>();

  constructor(scope: Construct, id: string, props: GitLabRunnersProps) {
    super(scope, id);
    for (const r of props.runners) {
      if (r.tags.length === 0) throw new Error(`runner ${r.role}: give it at least one tag (jobs pick runners by tag)`);
      if (this.byRole.has(r.role)) throw new Error(`runner ${r.role} is defined twice`);
      this.byRole.set(
        r.role,
        new UserRunner(this, r.role, {
          runnerType: "instance_type",
          description: r.description,
          tagList: [...r.tags],
          untagged: r.runUntagged,
          accessLevel: r.protected ? "ref_protected" : "not_protected",
          // An instance runner serves every project; locking applies to project runners only.
          locked: false,
        }),
      );
    }
  }

  /** The gitlab_user_runner of a role. */
  runner(role: string): UserRunner {
    const runner = this.byRole.get(role);
    if (!runner) throw new Error(`no runner with the role ${role}`);
    return runner;
  }

  /** A role's authentication token: a reference to the sensitive attribute, for a sensitive place only. */
  token(role: string): string {
    return this.runner(role).token;
  }
}
