// User-facing config errors: every problem in every file, one line each, no stack trace.

/** One problem in one file: `<file>: <field.path>: <what is wrong>`. */
export interface ConfigProblem {
  readonly file: string;
  /** Dotted field path, or '' when the problem concerns the whole file. */
  readonly path: string;
  readonly message: string;
  /** 1-based position in the file, when known. */
  readonly line?: number;
  readonly column?: number;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.path === "" ? "(file)" : p.path;
  const at = p.line !== undefined ? ` (line ${p.line}, column ${p.column ?? 1})` : "";
  return `${p.file}: ${where}: ${p.message}${at}`;
}

/** Thrown when any environment file is invalid; carries all problems of all files. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
  }
}

export function joinPath(path: readonly PropertyKey[]): string {
  return path
    .map((k) => (typeof k === "number" ? `[${k}]` : String(k)))
    .join(".")
    .replace(/\.\[/g, "[");
}

/** The directory of environment files is missing: one line says so, nothing else can be checked. */
export class ConfigDirectoryError extends Error {
  constructor(
    readonly directory: string,
    readonly reason: string,
  ) {
    super(
      `${directory}: ${reason}; it should hold the environment files (<env>.yaml)` +
        (process.env.GITLAB_CONFIG_DIR ? " — GITLAB_CONFIG_DIR points there: fix it, or unset it to use config/" : ""),
    );
    this.name = "ConfigDirectoryError";
  }
}
