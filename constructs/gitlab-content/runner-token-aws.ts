// aws: a runner's token becomes the current version of the Secrets Manager secret the first
// stack created empty (`<env>-gitlab/runner-token`), found here by its name. The runners read
// it at boot and check it for new versions (userdata/scripts/runner-token-sync.sh).
import { DataAwsSecretsmanagerSecret } from "@cdktf/provider-aws/lib/data-aws-secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Construct } from "constructs";

export interface RunnerTokenVersionProps {
  /** The secret's name, e.g. 'staging-gitlab/runner-token'. */
  readonly secretName: string;
  /** The token: a reference to a gitlab_user_runner's sensitive token, never a literal. */
  readonly token: string;
}

/** The token written as the secret's current version. */
export class RunnerTokenVersion extends Construct {
  readonly secret: DataAwsSecretsmanagerSecret;
  readonly version: SecretsmanagerSecretVersion;

  constructor(scope: Construct, id: string, props: RunnerTokenVersionProps) {
    super(scope, id);
    this.secret = new DataAwsSecretsmanagerSecret(this, "secret", { name: props.secretName });
    // A new token is a new version (AWSCURRENT moves to it): what the runners' sync looks for.
    this.version = new SecretsmanagerSecretVersion(this, "version", { secretId: this.secret.arn, secretString: props.token });
  }
}
