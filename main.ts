// The app the cdktf CLI runs (cdktf.json: `node cli/run.cjs app`, a bundle of the same code):
// one stack per config/<env>.yaml, into CDKTF_OUTDIR. Run directly, without the bundle:
//   node --require tsx/cjs main.ts
//
// All environments are synthesized by default; GITLAB_ENVIRONMENTS names some (comma-
// separated). GITLAB_CONFIG_DIR points at another directory of environment files.
// `npm run synth|plan|deploy|cost|check` (cli/) are the faster path beside it.
import { runApp } from "./cli/app";

process.exitCode = runApp();
