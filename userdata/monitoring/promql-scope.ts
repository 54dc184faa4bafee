// Restricting PromQL to some labels (e.g. the namespaces one GitLab runs in). A cluster's
// Prometheus scrapes everything in it: `up == 0` there means any target, not GitLab's. The
// platform's alert rules are written for the docker platform's own Prometheus; on a cluster
// each of their vector selectors, and each of their unit tests' input series, gets the
// scope's matchers. Pure string work over the selectors the rules use.

/** PromQL words that are not metric names. */
const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"]);
/** Aggregation operators: a clause (`sum by (x) (…)`) may sit between them and their argument. */
const AGGREGATIONS = new Set([
  "sum",
  "min",
  "max",
  "avg",
  "group",
  "stddev",
  "stdvar",
  "count",
  "count_values",
  "bottomk",
  "topk",
  "quantile",
  "limitk",
  "limit_ratio",
]);
/** Keywords followed by a parenthesised list of label names, not an expression. */
const LABEL_LISTS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

/** The index just past the bracket that closes the one at `open`, skipping quoted strings. */
function closing(expr: string, open: number, opener: string, closer: string): number {
  let depth = 0;
  for (let i = open; i < expr.length; i++) {
    const c = expr[i];
    if (c === '"') i = skipString(expr, i);
    else if (c === opener) depth++;
    else if (c === closer && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced '${opener}' in PromQL: ${expr}`);
}

function skipString(expr: string, start: number): number {
  for (let i = start + 1; i < expr.length; i++) {
    if (expr[i] === "\\") i++;
    else if (expr[i] === '"') return i;
  }
  throw new Error(`unterminated string in PromQL: ${expr}`);
}

/** `expr` with `matchers` (e.g. `namespace=~"gitlab"`) added to every vector selector. */
export function scopeExpression(expr: string, matchers: string): string {
  let out = "";
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '"') {
      const end = skipString(expr, i) + 1;
      out += expr.slice(i, end);
      i = end;
    } else if (c === "[") {
      const end = closing(expr, i, "[", "]");
      out += expr.slice(i, end);
      i = end;
    } else if (/[A-Za-z_:]/.test(c) && !/[A-Za-z0-9_.]/.test(expr[i - 1] ?? "")) {
      const word = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(expr.slice(i))![0];
      let j = i + word.length;
      while (expr[j] === " ") j++;
      if (LABEL_LISTS.has(word) && expr[j] === "(") {
        const end = closing(expr, j, "(", ")");
        out += expr.slice(i, end);
        i = end;
      } else if (KEYWORDS.has(word) || AGGREGATIONS.has(word) || expr[j] === "(") {
        out += word;
        i += word.length;
      } else if (expr[j] === "{") {
        const end = closing(expr, j, "{", "}");
        const inner = expr.slice(j + 1, end - 1).trim();
        out += `${word}{${matchers}${inner ? `,${inner}` : ""}}`;
        i = end;
      } else {
        out += `${word}{${matchers}}`;
        i += word.length;
      }
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** A test input series (`metric{a="b"}`) with more labels. */
export function scopeSeries(series: string, labels: Readonly<Record<string, string>>): string {
  const extra = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(",");
  const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?$/.exec(series.trim());
  if (!m) throw new Error(`not a series selector: ${series}`);
  return `${m[1]}{${m[2] ? `${m[2]},` : ""}${extra}}`;
}
