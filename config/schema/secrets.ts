// Secrets never appear in config: a field that needs one holds a reference, resolved at
// boot (Secrets Manager on aws) or at apply time (a sensitive Terraform variable on docker).
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

export type SecretsManagerRef = z.infer<typeof secretsManagerRef>;
export type TerraformVariableRef = z.infer<typeof terraformVariableRef>;
export type SecretRef = SecretsManagerRef | TerraformVariableRef;
