// Where each environment's Terraform state lives. Local state sits in the project root,
// outside cdktf.out, so re-synthesizing can never touch it.
import { LocalBackend, type TerraformStack } from "cdktf";

/** Terraform runs in cdktf.out/stacks/<env>/: three levels below the project root. */
export function useLocalState(stack: TerraformStack, environment: string): void {
  new LocalBackend(stack, { path: `../../../terraform.${environment}.tfstate` });
}
