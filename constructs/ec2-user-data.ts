// EC2 user data as Terraform hands it to EC2: gzipped and base64-encoded at apply
// (base64gzip), because the text holds references (volume ids, bucket names) only Terraform
// knows. cloud-init recognises gzip and unpacks it. Compression keeps the documents far
// below EC2's limit, and the limit is checked at synth, so an apply can never destroy the
// old instance and then have the new one's user data refused.
import { gzipSync } from "node:zlib";
import { CDKTF_TOKEN } from "./terraform-literal";

/** EC2's limit on user data, before base64 (here: the gzipped document). */
export const EC2_USER_DATA_LIMIT_BYTES = 16 * 1024;

/** What a reference can grow into at apply: the longest S3 bucket name (longer than any id we embed). */
const LONGEST_REFERENCE_VALUE = 63;

/** Size of the gzipped document with every reference at its longest value. */
export function gzippedUserDataBytes(text: string): number {
  // Go's gzip default (Terraform) and zlib's default are both level 6.
  return gzipSync(Buffer.from(text.replace(new RegExp(CDKTF_TOKEN.source, "g"), "x".repeat(LONGEST_REFERENCE_VALUE))), { level: 6 }).byteLength;
}

/**
 * `${base64gzip(join("", ["…", ref, "…"]))}` for aws_instance.user_data_base64 or
 * aws_launch_template.user_data. References sit between the literal pieces, never inside a
 * quoted string: cdktf renders a reference bare or as `${…}` by counting the braces before
 * it, which a shell script's own `${…}` would throw off. Throws, naming `what`, when even
 * compressed the document would exceed EC2's limit.
 */
export function gzippedUserData(text: string, what: string): string {
  const size = gzippedUserDataBytes(text);
  if (size > EC2_USER_DATA_LIMIT_BYTES) {
    throw new Error(`${what} user data is ${size} bytes gzipped, over EC2's limit of ${EC2_USER_DATA_LIMIT_BYTES}; move files out of the user data`);
  }
  const parts = text.split(CDKTF_TOKEN).flatMap((part, i) => (i % 2 === 1 ? [part] : part ? [hclString(part)] : []));
  return `\${base64gzip(join("", [${parts.join(", ")}]))}`;
}

/** What hclString escapes: one regular expression over the text, not a loop over its characters. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes.
const HCL_ESCAPED = /["\\\n\r\t\u0000-\u001f\u007f$%{}]/g;
const HCL_NAMED_ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * An HCL quoted string holding exactly `text`. Besides the usual escapes, `$ % { }` go as
 * \u escapes: HCL would read `${`/`%{` as templates, and Terraform decodes \u to the plain
 * characters. Other control characters go as \u escapes too.
 */
export function hclString(text: string): string {
  return `"${text.replace(HCL_ESCAPED, (ch) => HCL_NAMED_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}
