// What the commands print when they cannot go on: every problem once, one line each, no
// stack trace, then what happened to the output.
import { ConfigDirectoryError, ConfigError } from "../config/errors";
import { SynthValidationError } from "../stacks/validation-error";
import { UnlistableStackError } from "../stacks/manifest";

/** A user-facing failure with its own message (a bad argument, a missing tool). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Prints a config notice (a deprecated key still read) as a warning line. */
export function printWarning(line: string): void {
  process.stderr.write(`warning: ${line}\n`);
}

/** Prints `error` for a person and returns the exit code, or rethrows a bug. */
export function reportFailure(error: unknown, out: NodeJS.WritableStream = process.stderr): number {
  if (error instanceof ConfigError || error instanceof SynthValidationError) {
    const what = error instanceof ConfigError ? "problem(s)" : "policy violation(s)";
    out.write(`${error.message}\n${error.problems.length} ${what} found; nothing was synthesized.\n`);
    return 1;
  }
  if (error instanceof ConfigDirectoryError || error instanceof UnlistableStackError) {
    out.write(`${error.message}\n`);
    return 1;
  }
  if (error instanceof UsageError) {
    out.write(`${error.message}\n`);
    return 2;
  }
  throw error;
}
