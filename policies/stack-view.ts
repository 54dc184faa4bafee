// Builds the StackView rules work on from a stack's resolved Terraform JSON.
import type { PolicyContext, ResourceView, StackView } from "./types";

interface TerraformJson {
  readonly resource?: Record<string, Record<string, Record<string, any>>>;
  readonly output?: Record<string, Record<string, any>>;
}

const REFERENCE = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+\}$/;

export function stackView(json: TerraformJson, context: PolicyContext): StackView {
  const resources: ResourceView[] = [];
  for (const [type, byName] of Object.entries(json.resource ?? {})) {
    for (const [name, config] of Object.entries(byName)) {
      const path = (config["//"]?.metadata?.path as string | undefined) ?? `${type}.${name}`;
      resources.push({ type, name, path, config });
    }
  }
  const index = new Map(resources.map((r) => [`${r.type}.${r.name}`, r]));
  const outputs = Object.entries(json.output ?? {}).map(([name, config]) => ({
    type: "output",
    name,
    path: (config["//"]?.metadata?.path as string | undefined) ?? `output.${name}`,
    config,
  }));
  return {
    resources,
    outputs,
    context,
    ofType: (type) => resources.filter((r) => r.type === type),
    referenced: (reference) => {
      const m = typeof reference === "string" ? REFERENCE.exec(reference) : null;
      return m ? index.get(`${m[1]}.${m[2]}`) : undefined;
    },
  };
}
