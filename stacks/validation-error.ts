// A synth's refusal (policy violations, construct validations), apart from the synth: every
// CLI command reports failures through cli/report.ts, also those that never synthesize.

/** Synth refused the stacks: policy violations or other construct validations, one per line. */
export class SynthValidationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "SynthValidationError";
  }
}

const CDKTF_VALIDATION = "Validation failed with the following errors:";

/** cdktf reports validations as one error whose lines are `  [construct path] message`. */
export function asValidationError(error: unknown): unknown {
  if (!(error instanceof Error) || !error.message.startsWith(CDKTF_VALIDATION)) return error;
  const problems = error.message
    .slice(CDKTF_VALIDATION.length)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("["));
  return new SynthValidationError(problems);
}
