// What synthesis spends its time on besides this app's own work, switched off. Neither
// changes a byte of the output (test/cli/bundle.test.ts compares the JSON); both only feed
// the messages of bugs in this app's code. GITLAB_PLATFORM_DEBUG=1 keeps both on (and the
// older GITLAB_PLATFORM_SOURCE_MAPS=1 still does).
/** Whether the costly debugging aids stay on. */
export function debugging(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.GITLAB_PLATFORM_DEBUG || env.GITLAB_PLATFORM_SOURCE_MAPS);
}

export function tuneForSynth(env: NodeJS.ProcessEnv = process.env): void {
  if (debugging(env)) return;
  // cdktf records a full stack trace for every token it creates; with tsx's source maps on,
  // each one is mapped frame by frame, a third of synth time.
  process.setSourceMapsEnabled(false);
  // Even unmapped, formatting those traces (unlimited depth, one per token) is a fifth of the
  // time spent building the stacks. cdktf reads them only to print where a token that failed
  // to resolve was created: a bug's message, which GITLAB_PLATFORM_DEBUG=1 brings back. Its
  // modules call the function through the exports object, so replacing it there suffices.
  // A plain require (not an import, whose namespace is a read-only copy) gives that object,
  // and lets the bundler include the very module cdktf's own files use.
  const stackTrace = require("cdktf/lib/tokens/private/stack-trace") as { captureStackTrace: (below?: unknown) => string[] };
  stackTrace.captureStackTrace = () => [];
}
