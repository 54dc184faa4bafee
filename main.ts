// Entry point run by `cdktf synth|diff|deploy` (see cdktf.json): one stack per config/<env>.yaml.
//
// All environments are synthesized by default. To work on one, name it (comma-separate
// several): GITLAB_ENVIRONMENTS=staging npx cdktf deploy staging
// GITLAB_CONFIG_DIR points at another directory of environment files (default: config/).
import { join } from "node:path";
import { ConfigError } from "./config/errors";
import { loadEnvironments } from "./config/load";
import { synthEnvironments, SynthValidationError } from "./stacks/app";

// cdktf records a full stack trace for every token it creates; with tsx's source maps on,
// each one is mapped frame by frame, a third of synth time. Bugs in this app still get
// stack traces (of the transpiled code); GITLAB_PLATFORM_SOURCE_MAPS=1 maps them again.
if (!process.env.GITLAB_PLATFORM_SOURCE_MAPS) process.setSourceMapsEnabled(false);

const CONFIG_DIR = process.env.GITLAB_CONFIG_DIR ?? join(__dirname, "config");

function selectedEnvironments(): string[] | undefined {
  const raw = process.env.GITLAB_ENVIRONMENTS?.trim();
  return raw ? raw.split(",").map((s) => s.trim()).filter(Boolean) : undefined;
}

try {
  const environments = loadEnvironments(CONFIG_DIR, selectedEnvironments());
  synthEnvironments(environments, process.env.CDKTF_OUTDIR ?? "cdktf.out");
} catch (error) {
  if (error instanceof ConfigError || error instanceof SynthValidationError) {
    const what = error instanceof ConfigError ? "problem(s)" : "policy violation(s)";
    process.stderr.write(`${error.message}\n${error.problems.length} ${what} found; nothing was synthesized.\n`);
    process.exit(1);
  }
  throw error;
}
