// Checks that span several fields. zod skips an object's refinements when anything inside it
// failed; these run regardless (`when`), so a file's problems are all reported in one run.
// They read the partly parsed value, so every field they touch may still be missing or wrong.
import type { z } from "zod";
import { defaultSshHostname } from "./gitlab";

type Value = Record<string, unknown> | undefined;
/** The value at `path`, or undefined when any step of it is missing. */
export const at = (v: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), v);
const label = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const always = { when: () => true } as const;

/**
 * The host names an environment puts under its domain, by the field that sets each. zod has
 * filled in the defaults of every section that parsed; a section that did not has no names
 * here (its own problems are reported). Only the SSH name's default depends on another field.
 */
export function hostFields(env: Value): { field: string; host: string | undefined }[] {
  const web = label(at(env, "gitlab", "hostname"));
  return [
    { field: "gitlab.hostname", host: web },
    { field: "gitlab.sshHostname", host: label(at(env, "gitlab", "sshHostname")) ?? (web && defaultSshHostname(web)) },
    { field: "registry.hostname", host: at(env, "registry", "enabled") === false ? undefined : label(at(env, "registry", "hostname")) },
    { field: "observability.grafanaHostname", host: label(at(env, "observability", "grafanaHostname")) },
    {
      field: "kubernetes.argocd.hostname",
      host: at(env, "kubernetes", "argocd", "enabled") === true ? label(at(env, "kubernetes", "argocd", "hostname")) : undefined,
    },
  ];
}

/** The earlier field whose host name `field` repeats, if any. */
function repeatedHost(env: Value, field: string): { field: string; host: string } | undefined {
  const fields = hostFields(env);
  const i = fields.findIndex((f) => f.field === field);
  const mine = fields[i]?.host;
  if (i < 0 || mine === undefined) return undefined;
  const first = fields.slice(0, i).find((f) => f.host === mine);
  return first ? { field: first.field, host: mine } : undefined;
}

/** Each service its own host name: one DNS record and one TLS route per name. */
export function withUniqueHostNames<S extends z.ZodType>(schema: S, fields: readonly string[]): S {
  return fields.reduce(
    (s, field) =>
      s.refine((env) => repeatedHost(env as Value, field) === undefined, {
        ...always,
        path: field.split("."),
        error: (issue) => {
          const other = repeatedHost(issue.input as Value, field);
          return `is '${other?.host}', the same host name as ${other?.field}: give each service its own host name`;
        },
      }) as S,
    schema,
  );
}

/** A refinement that runs even when other fields have problems; `problem` says what is wrong, or nothing. */
export function crossCheckWith<S extends z.ZodType>(schema: S, path: string, problem: (env: Value) => string | undefined): S {
  return schema.refine((env) => problem(env as Value) === undefined, {
    ...always,
    path: path.split("."),
    error: (issue) => problem(issue.input as Value) ?? "",
  }) as S;
}

/** A refinement that runs even when other fields have problems. */
export function crossCheck<S extends z.ZodType>(schema: S, path: string, ok: (env: Value) => boolean, message: string): S {
  return schema.refine((env) => ok(env as Value), { ...always, path: path.split("."), message }) as S;
}
