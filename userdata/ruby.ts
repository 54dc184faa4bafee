// A small Ruby-literal serializer for gitlab.rb: every value written into gitlab.rb goes
// through here, so quoting and escaping live in one place.

/** A Ruby expression written verbatim; only built by the helpers below, never from input. */
export class RubyExpression {
  private constructor(readonly code: string) {}

  /** `ENV.fetch('NAME')`: fails reconfigure loudly if the variable is missing. */
  static env(name: string): RubyExpression {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`invalid environment variable name '${name}'`);
    return new RubyExpression(`ENV.fetch(${rubyString(name)})`);
  }

  /** The stripped contents of a root-only file written at boot. */
  static fileContents(path: string): RubyExpression {
    if (!/^\/[A-Za-z0-9._/-]+$/.test(path)) throw new Error(`invalid secret file path '${path}'`);
    return new RubyExpression(`File.read(${rubyString(path)}).strip`);
  }
}

export type RubyValue = string | number | boolean | null | RubyExpression | readonly RubyValue[] | { readonly [key: string]: RubyValue | undefined };

/** A single-quoted Ruby string: only backslash and single quote need escaping. */
export function rubyString(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * Serializes a value as a Ruby literal. Hash keys are sorted so the output is
 * deterministic; keys whose value is `undefined` are left out.
 */
export function toRuby(value: RubyValue, indent = ""): string {
  if (value === null) return "nil";
  if (typeof value === "string") return rubyString(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} to gitlab.rb`);
    return String(value);
  }
  if (value instanceof RubyExpression) return value.code;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => `${inner}${toRuby(v, inner)}`).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, RubyValue | undefined>)
    .filter((e): e is [string, RubyValue] => e[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${rubyString(k)} => ${toRuby(v, inner)}`).join(",\n")}\n${indent}}`;
}

/** One `section['key'] = value` line of gitlab.rb. */
export function rubyAssignment(section: string, key: string, value: RubyValue): string {
  if (!/^[a-z_]+$/.test(section)) throw new Error(`invalid gitlab.rb section '${section}'`);
  return `${section}[${rubyString(key)}] = ${toRuby(value)}`;
}
