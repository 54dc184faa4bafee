// Secrets never appear in config: a field that needs one holds a reference, resolved at
// boot (Secrets Manager on aws), by the container that reads it (a file on the Docker host on
// docker), or at apply time (a sensitive Terraform variable: the Cloudflare token Terraform
// itself uses).
import { z } from "zod";

export const secretsManagerRef = z
  .strictObject({
    secretsManagerArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/,
        "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)",
      )
      .describe("ARN of the AWS Secrets Manager secret holding the value (a plain-text secret)."),
  })
  .describe("Reference to a secret stored in AWS Secrets Manager; fetched on the instance at boot.");

export const terraformVariableRef = z
  .strictObject({
    terraformVariable: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,63}$/, "must be a Terraform variable name in snake_case, e.g. 'runner_token_build'")
      .describe("Name of the sensitive Terraform variable that carries the value (set it with TF_VAR_<name>)."),
  })
  .describe("Reference to a sensitive Terraform variable; the value is supplied at plan/apply time.");

export const hostFileRef = z
  .strictObject({
    hostFile: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, "must be a file name (lower case, digits, '_', '.', '-'), e.g. 'gitlab_smtp_password'")
      .describe("Name of the file under <docker.dataRoot>/secrets/ on the Docker host that holds the value (root-only, 0600)."),
  })
  .describe(
    "Reference to a secret in a file on the Docker host, mounted read-only into the one container that reads it: never in Terraform's variables or state.",
  );

export type SecretsManagerRef = z.infer<typeof secretsManagerRef>;
export type HostFileRef = z.infer<typeof hostFileRef>;
export type TerraformVariableRef = z.infer<typeof terraformVariableRef>;
export type SecretRef = SecretsManagerRef | TerraformVariableRef | HostFileRef;
