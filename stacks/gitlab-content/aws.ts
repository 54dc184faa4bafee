// aws: the automation token is the value of the Secrets Manager secret the first stack
// creates and the GitLab server's bootstrap fills; read here by name, not by reference.
import { DataAwsSecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/data-aws-secretsmanager-secret-version";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Construct } from "constructs";
import type { AwsEnvironment } from "../aws-stack";
import { automationTokenSecretName, type ContentPlatform } from "./platform";

/** The AWS provider and the automation token read from Secrets Manager. */
export function awsContentPlatform(scope: Construct, env: AwsEnvironment): ContentPlatform {
  const aws = new AwsProvider(scope, "aws", {
    region: env.aws.region,
    defaultTags: [{ tags: { ...env.aws.tags, Environment: env.name, ManagedBy: "gitlab-platform" } }],
  });
  const token = new DataAwsSecretsmanagerSecretVersion(scope, "automation-token", { secretId: automationTokenSecretName(env.name) });
  return { platform: "aws", aws, automationToken: token.secretString };
}
