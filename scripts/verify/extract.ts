// Pure: a synthesized cdk.tf.json → every file it will put on a host or into a container,
// classified for checking. Knows where artifacts live in Terraform resources; knows nothing
// about the validators.
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";
import { classifyFile, classifyMimePart, classifyUserData, type Artifact, type Kind } from "./classify";
import { kubernetesArtifacts } from "./kubernetes";
import { parseMultipart } from "./mime";
import { unescapeTemplate } from "./terraform";

type Resources = Record<string, Record<string, Record<string, unknown>>>;

/** Any resource attribute with these names holds cloud-init user data. */
const USER_DATA_ATTRIBUTES = ["user_data", "user_data_base64"] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function asString(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Bytes → text, gunzipping first if they are gzip (cloud-init accepts gzipped user data). */
function bytesToText(bytes: Buffer): string {
  const gz = bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  return (gz ? gunzipSync(bytes) : bytes).toString("utf8");
}

/**
 * The user data text cloud-init will receive, or why we cannot know it offline.
 * Launch templates want base64; cdktf may also leave a ${base64encode("...")} call for Terraform.
 */
export function decodeUserData(raw: string, base64: boolean): { text: string } | { unknown: string } {
  // Encoding and compression are transport (cloud-init undoes both): the document is the
  // argument, a quoted template or the join() of quoted pieces and references that
  // constructs/ec2-user-data.ts writes.
  const joined = /^\$\{base64(?:encode|gzip)\(join\("", \[(.*)\]\)\)\}$/s.exec(raw);
  if (joined) {
    const text = joinedPieces(joined[1] ?? "");
    return text === undefined ? { unknown: "join() of user data pieces is not plain strings and references" } : { text };
  }
  const call = /^\$\{base64(encode|gzip)\(("(?:[^"\\]|\\.)*")\)\}$/s.exec(raw);
  if (call) {
    try {
      return { text: unescapeTemplate(JSON.parse(call[2] ?? "")) };
    } catch {
      return { unknown: `base64${call[1]}() argument is not a plain string literal` };
    }
  }
  if (/^\s*(#|content-type:|mime-version:)/i.test(raw)) return { text: unescapeTemplate(raw) };
  if (raw.includes("${")) return { unknown: "user data is a Terraform expression" };
  return { text: base64 ? bytesToText(Buffer.from(raw, "base64")) : unescapeTemplate(raw) };
}

/** `"text", aws_x.y.id, "more"` → the text with each reference as ${aws_x.y.id}; undefined if anything else is there. */
function joinedPieces(list: string): string | undefined {
  const piece = /\s*(?:("(?:[^"\\]|\\.)*")|([A-Za-z_][\w-]*(?:\.[\w-]+|\[\d+\])+))\s*(,|$)/y;
  let text = "";
  while (piece.lastIndex < list.length) {
    const m = piece.exec(list);
    if (!m) return undefined;
    text += m[1] !== undefined ? (JSON.parse(m[1]) as string) : `\${${m[2]}}`;
    if (m[3] === "") break;
  }
  return text;
}

/** A cloud-config document and the files its write_files puts on the host. */
function cloudConfigArtifacts(origin: string, content: string): Artifact[] {
  const artifacts: Artifact[] = [{ origin, kind: "cloud-config", path: "user_data", content }];
  let doc: unknown;
  try {
    doc = parse(content);
  } catch {
    return artifacts; // The cloud-config check reports the YAML error.
  }
  const files = isRecord(doc) && Array.isArray(doc.write_files) ? doc.write_files : [];
  for (const f of files) {
    if (!isRecord(f)) continue;
    const path = asString(f.path);
    let text = asString(f.content) ?? "";
    if (!path) continue;
    const encoding = (asString(f.encoding) ?? "").toLowerCase();
    if (["b64", "base64"].includes(encoding)) text = Buffer.from(text, "base64").toString("utf8");
    if (["gz+b64", "gzip+base64", "gz+base64", "gzip+b64"].includes(encoding)) text = bytesToText(Buffer.from(text, "base64"));
    artifacts.push(fileArtifact(`${origin} → ${path}`, path, text));
  }
  return artifacts;
}

function fileArtifact(origin: string, path: string, content: string): Artifact {
  return { origin, kind: classifyFile(path, content), path, content };
}

function documentArtifacts(origin: string, kind: Kind | "multipart", content: string): Artifact[] {
  if (kind === "cloud-config") return cloudConfigArtifacts(origin, content);
  if (kind !== "multipart") return [{ origin, kind, path: "user_data", content }];
  let parts: ReturnType<typeof parseMultipart>;
  try {
    parts = parseMultipart(content);
  } catch (error) {
    return [{ origin, kind: "unchecked", path: "user_data", content: `unparseable MIME: ${(error as Error).message}` }];
  }
  return parts.flatMap((part, i) => {
    const label = `${origin} [part ${i + 1} ${part.contentType}${part.filename ? ` ${part.filename}` : ""}]`;
    return documentArtifacts(label, classifyMimePart(part.contentType, part.body), part.body);
  });
}

function userDataArtifacts(origin: string, raw: string, base64: boolean): Artifact[] {
  const decoded = decodeUserData(raw, base64);
  if ("unknown" in decoded) return [{ origin, kind: "unchecked", path: "user_data", content: decoded.unknown }];
  return documentArtifacts(origin, classifyUserData(decoded.text), decoded.text);
}

/** All artifacts of one synthesized stack; `env` prefixes every origin. */
export function extractArtifacts(env: string, stack: unknown): Artifact[] {
  const resources: Resources = isRecord(stack) && isRecord(stack.resource) ? (stack.resource as Resources) : {};
  const artifacts: Artifact[] = [];
  for (const [type, byName] of Object.entries(resources)) {
    for (const [name, resource] of Object.entries(byName)) {
      const id = `${env}: ${type}.${name}`;
      for (const attr of USER_DATA_ATTRIBUTES) {
        const raw = asString(resource[attr]);
        if (raw) artifacts.push(...userDataArtifacts(`${id} ${attr}`, raw, type === "aws_launch_template" || attr === "user_data_base64"));
      }
      if (type === "docker_container" && Array.isArray(resource.upload)) {
        for (const u of resource.upload) {
          const file = isRecord(u) ? asString(u.file) : undefined;
          if (!file || !isRecord(u)) continue;
          const text = asString(u.content);
          const b64 = asString(u.content_base64);
          const content = text !== undefined ? unescapeTemplate(text) : b64 !== undefined ? bytesToText(Buffer.from(b64, "base64")) : undefined;
          if (content !== undefined) artifacts.push(fileArtifact(`${id} upload → ${file}`, file, content));
        }
      }
      artifacts.push(...kubernetesArtifacts(id, type, resource));
      if (type === "local_file" || type === "local_sensitive_file") {
        const filename = asString(resource.filename);
        const content = asString(resource.content);
        if (filename && content !== undefined) artifacts.push(fileArtifact(`${id} → ${filename}`, filename, unescapeTemplate(content)));
      }
    }
  }
  return artifacts;
}
