// Indentation mistakes, said in terms of the field they broke. The YAML parser reports a
// misindented key as "Nested mappings are not allowed in compact mappings" on the line
// before it, or "All mapping items must start at the same column", and then again on every
// line after it; a person needs to know which key to move, and where.

/** The yaml library's error codes that mean the block structure (indentation) is broken. */
export const STRUCTURE_ERRORS: ReadonlySet<string> = new Set(["BAD_INDENT", "BLOCK_AS_IMPLICIT_KEY", "MULTILINE_IMPLICIT_KEY"]);

interface Line {
  readonly number: number;
  readonly indent: number;
  /** The mapping key on this line, if it starts with one (`key:` or `- key:`). */
  readonly key?: string;
  /** Whether a value follows the key on the same line (`key: value`). */
  readonly hasValue: boolean;
  readonly raw: string;
}

function parseLines(text: string): Line[] {
  return text.split("\n").map((raw, i) => {
    const m = /^(\s*)(?:-\s+)?([A-Za-z0-9_.-]+)\s*:(\s|$)(.*)$/.exec(raw);
    const indent = /^ */.exec(raw)![0].length + (/^\s*-\s+/.test(raw) ? /^\s*-\s+/.exec(raw)![0].length - /^ */.exec(raw)![0].length : 0);
    const rest = m?.[4]?.replace(/\s+#.*$/, "").trim() ?? "";
    return { number: i + 1, indent, ...(m ? { key: m[2] } : {}), hasValue: rest !== "", raw };
  });
}

const isContent = (l: Line) => l.raw.trim() !== "" && !l.raw.trim().startsWith("#");

/** The dotted path of the key on `line`, by indentation: the keys of the lines it is nested under. */
function pathOf(lines: readonly Line[], line: Line, indent = line.indent): string {
  const parts = [line.key ?? "?"];
  let limit = indent;
  for (let i = line.number - 2; i >= 0 && limit > 0; i--) {
    const l = lines[i]!;
    if (!isContent(l) || l.key === undefined || l.indent >= limit) continue;
    parts.unshift(l.key);
    limit = l.indent;
  }
  return parts.join(".");
}

/**
 * A problem naming the key whose indentation is wrong and what it should line up with, or
 * undefined when the error at `errorLine` is not one this recognises.
 */
export function describeYamlStructureError(
  text: string,
  errorLine: number,
  code: string,
): { path: string; message: string; line: number; column: number } | undefined {
  const lines = parseLines(text);
  const at = lines[errorLine - 1];
  if (!at) return undefined;
  // `key:value` with no space: YAML reads the whole line as a key.
  const glued = /^(\s*)([A-Za-z0-9_.-]+):(\S.*)$/.exec(at.raw);
  if (glued && at.key === undefined && !/^\s*[A-Za-z0-9_.-]+:\/\//.test(at.raw)) {
    const path = pathOf(lines, { ...at, key: glued[2]! });
    return { path, message: `YAML: put a space after the colon: '${glued[2]}: ${glued[3]}'`, line: at.number, column: glued[1]!.length + 1 };
  }
  // A key indented deeper than the `key: value` above it: YAML takes it for a continuation of that value.
  const next = lines.slice(errorLine).find(isContent);
  if (code !== "BAD_INDENT" && at.key !== undefined && at.hasValue && next?.key !== undefined && next.indent > at.indent) {
    const path = pathOf(lines, next, at.indent);
    return {
      path,
      message: `YAML: '${next.key}' (line ${next.number}) is indented deeper than '${at.key}' above it, so it reads as part of ${at.key}'s value: start it in column ${at.indent + 1}, like ${at.key}`,
      line: next.number,
      column: next.indent + 1,
    };
  }
  // A key out of line with the keys of its mapping.
  if (at.key !== undefined) {
    const siblings = lines
      .slice(0, errorLine - 1)
      .reverse()
      .filter(isContent);
    const parent = siblings.find((l) => l.indent < at.indent);
    const sibling = siblings.find((l) => l.key !== undefined && l.indent > at.indent && (!parent || l.number > parent.number));
    const column = sibling?.indent ?? (parent ? parent.indent + 2 : 0);
    return {
      path: pathOf(lines, at, column),
      message: `YAML: '${at.key}' starts in column ${at.indent + 1}; the other keys of its section start in column ${column + 1}: indent it the same`,
      line: at.number,
      column: at.indent + 1,
    };
  }
  return undefined;
}
