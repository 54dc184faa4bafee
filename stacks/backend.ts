// Where each environment's Terraform state lives, chosen in config. Nothing secret is ever
// written here: S3 uses the caller's AWS credentials, GitLab-managed state takes its
// address and token from TF_HTTP_* environment variables set by CI (or the operator).
import { HttpBackend, LocalBackend, S3Backend, type TerraformStack } from "cdktf";
import type { EnvironmentConfig } from "../config/schema/index";
import { s3StateKey } from "../config/state-keys";

export type StateConfig = EnvironmentConfig["state"];

/**
 * The backend of `stack`, named `name` (`<environment>` or `<environment>-gitlab`): each stack
 * of an environment has its own state, in the same backend.
 */
export function useStateBackend(stack: TerraformStack, environment: string, state: StateConfig, name: string = environment): void {
  switch (state.backend) {
    case "local":
      // Terraform runs in cdktf.out/stacks/<env>/: the state sits in the project root,
      // outside cdktf.out, so re-synthesizing can never touch it.
      new LocalBackend(stack, { path: `../../../terraform.${name}.tfstate` });
      return;
    case "s3": {
      new S3Backend(stack, {
        bucket: state.bucket,
        key: s3StateKey(environment, name, state.key),
        region: state.region,
        encrypt: true,
        ...(state.kmsKeyId ? { kmsKeyId: state.kmsKeyId } : {}),
      });
      // Terraform's own lock file in the bucket (no DynamoDB table); cdktf 0.21 has no typed field yet.
      stack.addOverride("terraform.backend.s3.use_lockfile", true);
      return;
    }
    case "gitlab":
      new EnvironmentHttpBackend(stack);
      return;
  }
}

/**
 * An empty `http` backend block: Terraform reads TF_HTTP_ADDRESS, TF_HTTP_LOCK_ADDRESS,
 * TF_HTTP_USERNAME, TF_HTTP_PASSWORD… from the environment at `terraform init`. It is a real
 * backend construct (an override alone would leave cdktf adding its default local backend
 * beside it, which Terraform refuses); the address passed to HttpBackend is never written.
 */
class EnvironmentHttpBackend extends HttpBackend {
  constructor(stack: TerraformStack) {
    super(stack, { address: "from TF_HTTP_ADDRESS" });
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return {};
  }
}
