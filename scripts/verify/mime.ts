// A small MIME multipart reader for cloud-init user data (what `write-mime-multipart` or
// Python's email.mime produce). Node has no MIME parser and we only need parts + headers.

export interface MimePart {
  /** Lower-cased media type without parameters, e.g. "text/cloud-config". */
  readonly contentType: string;
  readonly filename?: string;
  /** Decoded body (Content-Transfer-Encoding base64 / quoted-printable undone). */
  readonly body: string;
}

interface Headers {
  readonly [name: string]: string | undefined;
}

/** Splits "headers\n\nbody" (LF or CRLF), unfolding continuation lines. */
function splitHeaders(text: string): { headers: Headers; body: string } {
  const match = /\r?\n\r?\n/.exec(text);
  const head = match ? text.slice(0, match.index) : text;
  const body = match ? text.slice(match.index + match[0].length) : "";
  const headers: Record<string, string> = {};
  let last: string | undefined;
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last) {
      headers[last] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    headers[last] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

/** A parameter of a structured header, e.g. boundary="abc" from Content-Type. */
function headerParam(value: string, name: string): string | undefined {
  const re = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, "i");
  const m = re.exec(value);
  return m ? (m[1] ?? m[2]) : undefined;
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch ((encoding ?? "").toLowerCase()) {
    case "base64":
      return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
    case "quoted-printable":
      return Buffer.from(
        body.replace(/=\r?\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
        "latin1",
      ).toString("utf8");
    default:
      return body;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The leaf parts of a multipart document, depth first (nested multiparts are flattened).
 * Throws if the document has no boundary: that is a broken user data document.
 */
export function parseMultipart(text: string): MimePart[] {
  const { headers, body } = splitHeaders(text);
  const type = headers["content-type"] ?? "";
  const boundary = headerParam(type, "boundary");
  if (!/^multipart\//i.test(type) || !boundary) throw new Error(`not a multipart document (Content-Type: ${type || "none"})`);

  // RFC 2046: the CRLF before a delimiter line belongs to the delimiter, not to the part.
  const delimiter = new RegExp(`(?:^|\\r?\\n)--${escapeRegExp(boundary)}(--)?[ \\t]*(?=\\r?\\n|$)`, "g");
  const parts: MimePart[] = [];
  let start: number | undefined;
  for (let m = delimiter.exec(body); m; m = delimiter.exec(body)) {
    if (start !== undefined) parts.push(...parsePart(body.slice(start, m.index)));
    if (m[1] === "--") return parts;
    start = m.index + m[0].length;
    // Skip the line break ending the delimiter line.
    const eol = /^\r?\n/.exec(body.slice(start));
    if (eol) start += eol[0].length;
  }
  throw new Error(`multipart document has no closing --${boundary}-- delimiter`);
}

function parsePart(raw: string): MimePart[] {
  const { headers, body } = splitHeaders(raw);
  const typeHeader = headers["content-type"] ?? "text/plain";
  const contentType = (typeHeader.split(";")[0] ?? "").trim().toLowerCase();
  if (contentType.startsWith("multipart/")) return parseMultipart(raw);
  const filename = headerParam(headers["content-disposition"] ?? "", "filename") ?? headerParam(typeHeader, "name");
  const part: MimePart = { contentType, body: decodeBody(body, headers["content-transfer-encoding"]) };
  return [filename ? { ...part, filename } : part];
}
