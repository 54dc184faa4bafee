// The kubernetes environment as the stack's mappings see it, and how they turn a secret
// reference from config into what a construct takes.
import type { Environment } from "../../config/load";
import type { KubernetesEnvironmentConfig } from "../../config/schema/index";
import type { SecretInput } from "../../constructs/kubernetes-conventions";

export type KubernetesEnvironment = Environment & KubernetesEnvironmentConfig;

/** What the stack gives the mappings: a sensitive variable's value by name (one variable per name). */
export interface StackVariables {
  variable(name: string): string;
}

export type KubernetesSecretRef = { readonly terraformVariable: string } | { readonly kubernetesSecret: { readonly name: string; readonly key: string } };

/** A config secret reference as a construct takes it: the variable's value, or the existing Secret. */
export function secretInput(ref: KubernetesSecretRef, vars: StackVariables): SecretInput {
  return "terraformVariable" in ref
    ? { value: vars.variable(ref.terraformVariable) }
    : { existing: { secret: ref.kubernetesSecret.name, key: ref.kubernetesSecret.key } };
}

/** The fixed-IP form of a load balancer address, when it is one. */
export const ipv4Only = (address: string | undefined) => (address && /^(\d{1,3}\.){3}\d{1,3}$/.test(address) ? address : undefined);
