// How a runner is registered in GitLab by the `<env>-gitlab` stack (a gitlab_user_runner): its
// tags, whether it runs only protected refs' jobs, and whether it picks up untagged jobs. The
// same three fields on every platform; each runner's defaults are what it did before Terraform
// registered it (the reference installations' tags, the deploy runner protected).
import { z } from "zod";

/** The defaults of one runner's registration. */
export interface RegistrationDefaults {
  readonly tags: readonly string[];
  readonly protected: boolean;
  readonly runUntagged: boolean;
}

const tag = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/, "must be a runner tag: letters, digits, '_', '.', ':' or '-' (no spaces or commas), e.g. 'docker'");

/** The registration fields of a runner section, with this runner's defaults. */
export function registrationFields(d: RegistrationDefaults) {
  const list = `[${d.tags.map((t) => `'${t}'`).join(", ")}]`;
  return {
    tags: z
      .array(tag)
      .min(1, "a runner needs at least one tag (policy GITLAB-RUNNER-TAGGED): jobs choose it by tag")
      .default([...d.tags])
      .describe(`Tags of the runner in GitLab; jobs pick it with \`tags:\`. @default ${list}`),
    protected: z.boolean().default(d.protected).describe(`Run only jobs of protected branches and tags (access level ref_protected). @default ${d.protected}`),
    runUntagged: z
      .boolean()
      .default(d.runUntagged)
      .describe(
        `Also run jobs that have no tags. A protected runner refuses this unless set here (policy GITLAB-RUNNER-PROTECTED-UNTAGGED). @default ${d.runUntagged}`,
      ),
  };
}

/** A runner's registration as the config gives it. */
export interface RunnerRegistrationConfig {
  readonly tags: readonly string[];
  readonly protected: boolean;
  readonly runUntagged: boolean;
}
