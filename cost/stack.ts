// The parts of a synthesized stack (cdk.tf.json) the estimator reads.

export interface StackJson {
  readonly provider?: Record<string, readonly Record<string, unknown>[]>;
  readonly resource?: Record<string, Record<string, Record<string, any>>>;
}

/** One resource of the stack: its type, Terraform name, construct path (without the stack) and settings. */
export interface Resource {
  readonly type: string;
  readonly name: string;
  readonly path: string;
  readonly config: Record<string, any>;
}

export function resourcesOf(stack: StackJson): Resource[] {
  return Object.entries(stack.resource ?? {}).flatMap(([type, byName]) =>
    Object.entries(byName).map(([name, config]) => {
      const full = (config["//"]?.metadata?.path as string | undefined) ?? `${type}.${name}`;
      return { type, name, path: full.split("/").slice(1).join("/") || full, config };
    }),
  );
}

/** The resource a `${type.name.attribute}` reference points at. */
export function referenced(resources: readonly Resource[], reference: unknown): Resource | undefined {
  const m = typeof reference === "string" ? /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+\}$/.exec(reference) : null;
  return m ? resources.find((r) => r.type === m[1] && r.name === m[2]) : undefined;
}

/** The platform a stack deploys to, by its providers. */
export function platformOf(stack: StackJson): "aws" | "docker" | undefined {
  const providers = Object.keys(stack.provider ?? {});
  if (providers.includes("aws")) return "aws";
  if (providers.includes("docker")) return "docker";
  return undefined;
}

/** A block that cdktf may write as an object or as a one-element list. */
export const one = (v: unknown): Record<string, any> | undefined => (Array.isArray(v) ? v[0] : (v as Record<string, any> | undefined));
export const list = (v: unknown): Record<string, any>[] => (Array.isArray(v) ? v : v === undefined ? [] : [v as Record<string, any>]);
export const num = (v: unknown): number | undefined => (typeof v === "number" ? v : typeof v === "string" && /^\d+(\.\d+)?$/.test(v) ? Number(v) : undefined);
