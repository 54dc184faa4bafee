// Terraform reads every string in cdk.tf.json as a template: "${...}" is an interpolation and
// "%{...}" a directive; "$${" and "%%{" are the escapes for literal text. Shell, systemd and
// Ruby all use "${" too, so an unescaped one breaks `terraform plan`, and the files on the host
// only look the way we check them after Terraform has undone the escapes.

/** What Terraform turns a literal template string into (references are left as they are). */
export function unescapeTemplate(text: string): string {
  return text.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");
}

const LITERALS = new Set(["true", "false", "null"]);
const DIRECTIVE = /^~?\s*(if|else|endif|for|endfor)\b/;

/** The text between an opening "${"/"%{" at `open` and its matching "}", or undefined. */
function enclosed(text: string, open: number): string | undefined {
  let depth = 0;
  let quote = false;
  for (let i = open + 2; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === '"') quote = false;
    } else if (c === '"') quote = true;
    else if (c === "{") depth++;
    else if (c === "}") {
      if (depth === 0) return text.slice(open + 2, i);
      depth--;
    }
  }
  return undefined;
}

/**
 * Interpolations Terraform would reject, described. Not a full HCL parser: it flags the
 * unambiguous cases, which are the ones other languages produce — a bare name like ${HOME}
 * (Terraform needs var.x, resource.name.attr, or a function call) or a name followed by shell
 * syntax like ${X:-default} or ${X//-/}.
 */
export function templateProblems(text: string): string[] {
  const problems: string[] = [];
  for (let i = 0; i < text.length - 1; i++) {
    const c = text[i];
    if ((c !== "$" && c !== "%") || text[i + 1] !== "{") continue;
    if (text[i - 1] === c) continue; // "$${" / "%%{": escaped, literal text
    const body = enclosed(text, i);
    const shown = body === undefined ? text.slice(i, i + 40) : `${c}{${body}}`;
    const line = text.slice(0, i).split("\n").length;
    if (body === undefined) {
      problems.push(`line ${line}: unterminated ${c}{ in "${shown}" (escape it as ${c}${c}{)`);
    } else if (c === "%") {
      if (!DIRECTIVE.test(body.trim())) problems.push(`line ${line}: "${shown}" is not a Terraform template directive (escape it as %%{)`);
    } else {
      const m = /^\s*([A-Za-z_][\w-]*)\s*(.?)/.exec(body);
      const isReference = !m || LITERALS.has(m[1] ?? "") || [".", "[", "("].includes(m[2] ?? "") || body.slice(m[0].length - 1).startsWith("::");
      if (!isReference) problems.push(`line ${line}: "${shown}" is not a Terraform expression (escape it as $\${)`);
    }
    if (body !== undefined) i += body.length + 2;
  }
  return problems;
}

/** Every string in a synthesized stack, with its JSON path, for the template check. */
export function* stringsOf(value: unknown, path = ""): Generator<{ path: string; text: string }> {
  if (typeof value === "string") yield { path, text: value };
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* stringsOf(v, `${path}[${i}]`);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "//") continue; // cdktf metadata, not read by Terraform
      yield* stringsOf(v, path ? `${path}.${k}` : k);
    }
  }
}

/** Template problems anywhere in a synthesized stack, prefixed with the attribute path. */
export function stackTemplateProblems(stack: unknown): string[] {
  const problems: string[] = [];
  for (const { path, text } of stringsOf(stack)) {
    for (const p of templateProblems(text)) problems.push(`${path}: ${p}`);
  }
  return problems;
}
