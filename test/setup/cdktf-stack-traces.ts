// vitest setupFiles (and the example-stacks globalSetup): cdktf records a full stack trace for
// every token it creates (cdktf/lib/tokens/private/stack-trace.js), read only to print where
// a token that failed to resolve was made. The app switches that off unless
// GITLAB_PLATFORM_DEBUG is set (stacks/synth-tuning.ts's tuneForSynth); the tests call the same
// before any file runs, so every test file synthesizes as the app does, whichever file ran
// before it in its worker (an in-process app run tunes the worker too). In a vitest worker
// each trace is deep, and formatting them was a few CPU-seconds of the suite.
// withCdktfStackTraces gives a test cdktf's own behaviour back (test/stacks/tuned-synth.test.ts
// compares the two).
import stackTrace from "cdktf/lib/tokens/private/stack-trace";
import { debugging, tuneForSynth } from "../../stacks/synth-tuning";

type Capture = typeof stackTrace.captureStackTrace;
type Below = Parameters<Capture>[0];

/** cdktf's own capture, kept on the module the first time this file runs in a process. */
const holder = stackTrace as { captureStackTrace: Capture; cdktfCapture?: Capture };
holder.cdktfCapture ??= stackTrace.captureStackTrace;
const cdktfCapture = holder.cdktfCapture;

/**
 * cdktf's capture with V8's own formatting: in a worker, vite's source-map interceptor
 * (Error.prepareStackTrace) would otherwise map every frame of every trace.
 */
function withPlainFormatting(below?: Below): string[] {
  const interceptor = Error.prepareStackTrace;
  // V8's own formatting where no interceptor is set (the property is optional at run time).
  (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;
  try {
    return cdktfCapture(below ?? withPlainFormatting);
  } finally {
    Error.prepareStackTrace = interceptor;
  }
}

if (debugging()) stackTrace.captureStackTrace = withPlainFormatting;
else tuneForSynth();

/** Runs `fn` with cdktf recording its token traces, as cdktf does when nothing switches them off. */
export function withCdktfStackTraces<T>(fn: () => T): T {
  const before = stackTrace.captureStackTrace;
  stackTrace.captureStackTrace = withPlainFormatting;
  try {
    return fn();
  } finally {
    stackTrace.captureStackTrace = before;
  }
}
