// The automation token's home on aws: a Secrets Manager secret created without a value, which
// the GitLab server's bootstrap fills on first boot and its daily timer renews
// (userdata/scripts/gitlab-automation-token.sh). The environment's second stack reads it by
// name. Terraform never sees the token: the secret has no aws_secretsmanager_secret_version here.
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { Construct } from "constructs";
import { renderAutomationTokenScript, type AutomationTokenSettings } from "../../userdata/automation-token";
import { AUTOMATION_TOKEN_SERVICE, AUTOMATION_TOKEN_TIMER, renderAutomationTokenUnits } from "../../userdata/automation-token-units";
import type { WriteFile } from "../../userdata/cloud-config";
import { compactScript } from "../../userdata/host-scripts";
import { RoleGrants } from "../grants";

/** Where the server keeps the script and the Ruby it runs. */
export const AUTOMATION_TOKEN_PATHS = { script: "/usr/local/sbin/gitlab-automation-token", ruby: "/etc/gitlab/automation-token.rb" } as const;

/** The secret's name for an environment: the `<env>-gitlab` stack looks it up by this name. */
export const automationTokenSecretName = (environment: string): string => `${environment}-gitlab/automation-token`;

export interface AwsAutomationTokenProps {
  /** The secret's name, '<env>-gitlab/automation-token': the second stack reads it by this name. */
  readonly secretName: string;
  readonly region: string;
  /** The token's lifetime and renewal. @default 90 days, renewed 30 days before */
  readonly settings?: AutomationTokenSettings;
  /** Days a deleted secret can still be restored. @default 7 */
  readonly recoveryWindowDays?: number;
}

export class AwsAutomationToken extends Construct {
  /** The secret (encrypted with the account's default Secrets Manager key). */
  readonly secret: SecretsmanagerSecret;
  /** Its name, as the second stack looks it up. */
  readonly secretName: string;
  /** AUTOMATION_TOKEN_STORE for the bootstrap and the timer. */
  readonly store: string;
  /** The script, the Ruby and the renewal units, for the GitLab server. */
  readonly hostFiles: readonly WriteFile[];
  /** The renewal timer, enabled by the bootstrap. */
  readonly hostUnits: readonly string[] = [AUTOMATION_TOKEN_TIMER];

  constructor(scope: Construct, id: string, props: AwsAutomationTokenProps) {
    super(scope, id);
    this.secretName = props.secretName;
    this.store = `aws-secret:${props.secretName}`;
    this.secret = new SecretsmanagerSecret(this, "secret", {
      name: props.secretName,
      description: "GitLab admin token for the environment's GitLab Terraform provider; written and renewed by the GitLab server (gitlab-automation-token)",
      recoveryWindowInDays: props.recoveryWindowDays ?? 7,
    });
    const units = renderAutomationTokenUnits({ store: this.store, region: props.region, scriptPath: AUTOMATION_TOKEN_PATHS.script });
    this.hostFiles = [
      { path: AUTOMATION_TOKEN_PATHS.script, permissions: "0755", content: compactScript("gitlab-automation-token.sh") },
      { path: AUTOMATION_TOKEN_PATHS.ruby, permissions: "0600", content: renderAutomationTokenScript(props.settings) },
      { path: `/etc/systemd/system/${AUTOMATION_TOKEN_SERVICE}`, permissions: "0644", content: units.service },
      { path: `/etc/systemd/system/${AUTOMATION_TOKEN_TIMER}`, permissions: "0644", content: units.timer },
    ];
  }

  /** Lets the GitLab server read, describe and put new versions of this secret, and nothing else. */
  grantRenew(role: IamRole): IamRolePolicy {
    return this.renewers.grant(role);
  }

  private readonly renewers = new RoleGrants(this, "renewer", () => ({
    name: "automation-token",
    document: {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "RenewAutomationToken",
          Effect: "Allow",
          Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
          Resource: [this.secret.arn],
        },
      ],
    },
  }));
}
