// vitest setupFiles: cdktf records where every token was made (a full stack trace per Lazy,
// Intrinsic and ComplexResolvable, cdktf/lib/tokens/private/stack-trace.js) and formats it at
// once. In a vitest worker the formatting goes through vite's source-map interceptor
// (Error.prepareStackTrace), which maps every frame: a tenth of the suite's CPU, for traces
// no test reads. Captured with V8's own formatting, as in the app itself (the app installs no
// interceptor). The traces only appear in cdktf's "token created at" error details.
import stackTrace from "cdktf/lib/tokens/private/stack-trace";

type Capture = typeof stackTrace.captureStackTrace & { readonly plainFormatting?: true };
type Below = Parameters<Capture>[0];

const original: Capture = stackTrace.captureStackTrace;
if (!original.plainFormatting) {
  const withPlainFormatting = (below?: Below): string[] => {
    const interceptor = Error.prepareStackTrace;
    // V8's own formatting where no interceptor is set (the property is optional at run time).
    (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;
    try {
      return original(below ?? withPlainFormatting);
    } finally {
      Error.prepareStackTrace = interceptor;
    }
  };
  stackTrace.captureStackTrace = Object.assign(withPlainFormatting, { plainFormatting: true as const });
}
