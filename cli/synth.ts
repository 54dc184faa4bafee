// `npm run synth [-- <env>…]`: every environment, or the named ones, into cdktf.out/.
import { loadEnvironments } from "../config/load";
import { synthEnvironments, type SynthResult } from "../stacks/app";
import { tuneForSynth } from "../stacks/synth-tuning";
import { configDir, outDir, shown } from "./paths";
import { printWarning } from "./report";

/** One line per stack written, with its resource count; one for the stacks left as they were. */
export function printSynthSummary(result: SynthResult, out: NodeJS.WritableStream = process.stdout): void {
  const width = Math.max(...result.synthesized.map((s) => s.name.length));
  for (const s of result.synthesized) {
    out.write(`${s.name.padEnd(width)}  ${String(s.resources).padStart(3)} resources  ${shown(s.directory)}\n`);
  }
  if (result.kept.length > 0) out.write(`left as they were: ${result.kept.map((k) => k.name).join(", ")}\n`);
}

/** Synthesizes the named environments (all when none), returning what was written. */
export function synthesize(names: readonly string[], env: NodeJS.ProcessEnv = process.env): SynthResult {
  tuneForSynth(env);
  const environments = loadEnvironments(configDir(env), names.length > 0 ? names : undefined, printWarning);
  return synthEnvironments(environments, outDir(env));
}

export function synthCommand(names: readonly string[]): number {
  printSynthSummary(synthesize(names));
  return 0;
}
