// The runner token's secret on aws, created empty: the `<env>-gitlab` stack writes each
// version from its gitlab_user_runner's token, and the runners read it (runner-token-sync.sh).
// This stack never holds the value; the second stack finds the secret by its name.
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { Construct } from "constructs";

/** The secret's name for an environment: the `<env>-gitlab` stack looks it up by this name. */
export const runnerTokenSecretName = (environment: string): string => `${environment}-gitlab/runner-token`;

export interface RunnerTokenSecretProps {
  /** The environment's name (the secret is `<environment>-gitlab/runner-token`). */
  readonly environment: string;
  /** Tags on the secret. */
  readonly tags: Readonly<Record<string, string>>;
}

/** An empty Secrets Manager secret for the runner token. */
export class RunnerTokenSecret extends Construct {
  readonly secret: SecretsmanagerSecret;
  /** The secret's ARN, which the runners' roles may read. */
  readonly arn: string;

  constructor(scope: Construct, id: string, props: RunnerTokenSecretProps) {
    super(scope, id);
    this.secret = new SecretsmanagerSecret(this, "secret", {
      name: runnerTokenSecretName(props.environment),
      description: `GitLab runner authentication token of ${props.environment}, written by the ${props.environment}-gitlab stack (gitlab_user_runner)`,
      // No recovery window: the token is re-created by replacing the runner, and a re-created
      // environment must be able to take the same name at once.
      recoveryWindowInDays: 0,
      tags: { ...props.tags, Name: runnerTokenSecretName(props.environment) },
    });
    this.arn = this.secret.arn;
  }
}
