// Terraform reads every string in cdk.tf.json as a template: `${…}` interpolates and `%{…}`
// is a directive. Shell scripts, systemd units and Ruby use `${` for themselves, so text we
// embed (user data, uploaded files) must be escaped, except for cdktf's own references.

/**
 * How cdktf encodes a reference (e.g. a resource id) inside a string until synth resolves it.
 * Captured, so `text.split(CDKTF_TOKEN)` keeps the references at the odd indexes.
 */
export const CDKTF_TOKEN = /(\$\{TfToken\[[A-Za-z0-9_.]+\]\})/;

/**
 * Escapes `${` and `%{` in literal text so Terraform writes it out unchanged; cdktf
 * references stay live. (Replacement functions, because "$$" means "$" in a replace string.)
 */
export function terraformLiteral(text: string): string {
  return text
    .split(CDKTF_TOKEN)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{")))
    .join("");
}
