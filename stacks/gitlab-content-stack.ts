// An environment's second stack, `<env>-gitlab`: what lives inside GitLab (settings, groups,
// projects, branch protections, runners) through GitLab's own Terraform provider, applied
// after the first stack. It references none of the first stack's constructs: both derive
// names from the same config, and what the first stack makes is looked up here by name, so
// this stack plans and applies on its own state.
import { GitlabProvider } from "@cdktf/provider-gitlab/lib/provider";
import type { Construct } from "constructs";
import type { Environment } from "../config/load";
import { GitLabGroups } from "../constructs/gitlab-content/groups";
import { GitLabInstanceSettings } from "../constructs/gitlab-content/instance-settings";
import { GitLabProjects } from "../constructs/gitlab-content/projects";
import type { AwsEnvironment } from "./aws-stack";
import { awsContentPlatform } from "./gitlab-content/aws";
import { groupsProps, instanceSettingsProps, projectsProps } from "./gitlab-content/content";
import { dockerContentPlatform } from "./gitlab-content/docker";
import { kubernetesContentPlatform } from "./gitlab-content/kubernetes";
import { addRunners } from "./gitlab-content/runners";
import type { ContentPlatform } from "./gitlab-content/platform";
import type { KubernetesEnvironment } from "./kubernetes/environment";
import { EnvironmentStack } from "./environment-stack";

/** The name of an environment's second stack (and of its state). */
export const gitlabStackName = (env: Pick<Environment, "name">): string => `${env.name}-gitlab`;

/** The stack of what lives inside an environment's GitLab. */
export class GitLabContentStack extends EnvironmentStack {
  /** The GitLab provider, on the environment's API with the automation token. */
  readonly provider: GitlabProvider;
  /** The platform's providers and where the automation token comes from. */
  readonly platform: ContentPlatform;
  /** The environment's runners (gitlab_user_runner) and where their tokens go; none when config names its own token (aws). */
  readonly runners?: ReturnType<typeof addRunners>;
  /** Instance settings (gitlab.settings). */
  readonly settings: GitLabInstanceSettings;
  /** Managed groups (gitlab.groups), and the lookup of existing ones. */
  readonly groups: GitLabGroups;
  /** Managed projects (gitlab.projects) with their branch protections. */
  readonly projects: GitLabProjects;

  constructor(scope: Construct, env: Environment) {
    // The kubernetes runner's chart (and its job pods' privileges) lives here.
    const privilegedJobs = env.platform === "kubernetes" && (env as KubernetesEnvironment).runners.privileged;
    super(scope, env, { gitSshPort: env.gitlab.sshPort, privilegedJobs }, gitlabStackName(env));
    this.platform = contentPlatform(this, env);
    this.provider = new GitlabProvider(this, "gitlab", {
      baseUrl: `https://${this.hosts.web}/api/v4`,
      ...(this.platform.automationToken ? { token: this.platform.automationToken } : {}),
    });
    this.settings = new GitLabInstanceSettings(this, "instance", instanceSettingsProps(env));
    this.groups = new GitLabGroups(this, "groups", groupsProps(env));
    this.projects = new GitLabProjects(this, "projects", projectsProps(env, this.groups));
    this.runners = addRunners(this, env);
  }
}

function contentPlatform(scope: Construct, env: Environment): ContentPlatform {
  switch (env.platform) {
    case "aws":
      return awsContentPlatform(scope, env as AwsEnvironment);
    case "docker":
      return dockerContentPlatform(scope);
    case "kubernetes":
      return kubernetesContentPlatform(scope, env as KubernetesEnvironment);
  }
}
