// The keys the schema allows at a place in a file, for "did you mean" on an unknown key.
import type { z } from "zod";
import { editDistance } from "./schema/did-you-mean";

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
};
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas that may stand at `schema` once wrappers (default, optional, pipe…) are removed. */
function objectsOf(schema: z.ZodType, value: unknown): z.ZodType[] {
  const def = defOf(schema);
  if (def.type === "object") return [schema];
  if (def.innerType) return objectsOf(def.innerType, value);
  if (def.type === "pipe" && def.in) return objectsOf(def.in, value);
  if (def.type === "union" && def.options) {
    // A discriminated union: the option the file's discriminator picks, when it picks one.
    const tag = def.discriminator && value && typeof value === "object" ? (value as Record<string, unknown>)[def.discriminator] : undefined;
    const picked = def.options.filter((o) => objectsOf(o, value).some((obj) => literalOf(defOf(obj).shape?.[def.discriminator ?? ""]) === tag));
    return (picked.length > 0 ? picked : def.options).flatMap((o) => objectsOf(o, value));
  }
  return [];
}

function literalOf(schema: z.ZodType | undefined): unknown {
  const def = schema && (defOf(schema) as Def & { values?: unknown[] });
  return def?.type === "literal" ? def.values?.[0] : undefined;
}

/** Keys the schema allows in the mapping at `path` of `root` (the file's parsed value). */
export function keysAt(schema: z.ZodType, root: unknown, path: readonly PropertyKey[]): string[] {
  let schemas = [schema];
  let value = root;
  for (const step of path) {
    const next: z.ZodType[] = [];
    for (const s of schemas) {
      for (const obj of objectsOf(s, value)) {
        const child = defOf(obj).shape?.[String(step)];
        if (child) next.push(child);
      }
      const def = defOf(s);
      if (typeof step === "number") {
        const list = unwrapArray(s);
        if (list) next.push(list);
      } else if (def.type === "record") next.push(s);
    }
    schemas = next;
    value = value && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[step as string] : undefined;
  }
  return [...new Set(schemas.flatMap((s) => objectsOf(s, value)).flatMap((obj) => Object.keys(defOf(obj).shape ?? {})))];
}

function unwrapArray(schema: z.ZodType): z.ZodType | undefined {
  const def = defOf(schema);
  if (def.type === "array") return def.element;
  if (def.innerType) return unwrapArray(def.innerType);
  if (def.type === "pipe" && def.in) return unwrapArray(def.in);
  return undefined;
}

/** The known key `key` most likely misspells, if one is close enough to suggest. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.min(3, Math.floor(key.length / 3)));
  const ranked = known
    .map((k) => ({ k, d: k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, k) }))
    .filter((c) => c.d <= limit)
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k));
  return ranked[0]?.k;
}
