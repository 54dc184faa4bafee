// The app as cdktf runs it (cdktf.json's "app"): synthesize every environment, or those
// named in GITLAB_ENVIRONMENTS (comma-separated), into CDKTF_OUTDIR.
import { loadEnvironments } from "../config/load";
import { synthEnvironments } from "../stacks/app";
import { tuneForSynth } from "../stacks/synth-tuning";
import { configDir } from "./paths";
import { printWarning, reportFailure } from "./report";
import { printSynthSummary } from "./synth";

/** GITLAB_ENVIRONMENTS as a list, or undefined for all. */
export function selectedEnvironments(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const raw = env.GITLAB_ENVIRONMENTS?.trim();
  return raw
    ? raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
}

/** The cdktf CLI sets CDKTF_CONTEXT_JSON for the app it runs; nothing else does. */
export const underCdktfCli = (env: NodeJS.ProcessEnv = process.env): boolean => env.CDKTF_CONTEXT_JSON !== undefined;

export function runApp(env: NodeJS.ProcessEnv = process.env): number {
  tuneForSynth(env);
  try {
    const environments = loadEnvironments(configDir(env), selectedEnvironments(env), printWarning);
    // cdktf passes an absolute CDKTF_OUTDIR; run by hand, cdktf.out/ is where you are.
    const result = synthEnvironments(environments, env.CDKTF_OUTDIR || "cdktf.out", { underCdktfCli: underCdktfCli(env) });
    printSynthSummary(result);
    return 0;
  } catch (error) {
    return reportFailure(error);
  }
}
