// Where each environment's Terraform state lives, chosen in config. Nothing secret is ever
// written here: S3 uses the caller's AWS credentials, GitLab-managed state takes its
// address and token from TF_HTTP_* environment variables set by CI (or the operator).
import { HttpBackend, LocalBackend, S3Backend, type TerraformStack } from "cdktf";
import type { EnvironmentConfig } from "../config/schema/index";

export type StateConfig = EnvironmentConfig["state"];

export interface StateBackendOptions {
  /**
   * Added before `.tfstate` to a key config names, so that an environment's second stack
   * (`<env>-gitlab`) never shares its first stack's state object. @default none
   */
  readonly keySuffix?: string;
}

/** The backend of the stack whose state is named `environment` (a stack name: `<env>` or `<env>-gitlab`). */
export function useStateBackend(stack: TerraformStack, environment: string, state: StateConfig, options: StateBackendOptions = {}): void {
  switch (state.backend) {
    case "local":
      // Terraform runs in cdktf.out/stacks/<env>/: the state sits in the project root,
      // outside cdktf.out, so re-synthesizing can never touch it.
      new LocalBackend(stack, { path: `../../../terraform.${environment}.tfstate` });
      return;
    case "s3": {
      new S3Backend(stack, {
        bucket: state.bucket,
        key: state.key ? state.key.replace(/\.tfstate$/, `${options.keySuffix ?? ""}.tfstate`) : `gitlab-platform/${environment}.tfstate`,
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
