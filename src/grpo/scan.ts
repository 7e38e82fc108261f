// Running a difficulty scan (difficulty.ts): k completions for every prompt of a dataset, sampled as training
// samples them (the config's temperature, top-k, top-p, seed), scored by the config's rewards; each prompt's
// pass rate and mean reward. One place for the command line (`grpo-playground scan`, src/cli/scan.ts) and the
// page's engine worker (src/worker/scan.ts).

import type { DatasetRow } from '../data';
import type { PolicyModel } from '../model/policy_model';
import type { LoraSet } from '../model/lora';
import type { LoadedModel } from '../model/load';
import type { GrpoConfig } from './config';
import { evaluatePrompts } from './evaluate';
import { preparePrompts } from './prompts';
import type { RewardScorer } from './rewards_scorer';
import { difficultyRecords, passRateHistogram, SCAN_MAX_K, type DifficultyRecord } from './difficulty';


/** Why k cannot be used with this config, or null. */
export function scanKProblem(k: number, config: Pick<GrpoConfig, 'temperature'>): string | null {
  if (!Number.isInteger(k) || k < 1 || k > SCAN_MAX_K) return `k must be a whole number 1..${SCAN_MAX_K} (got ${k})`;
  if (config.temperature <= 0 && k > 1) return `k = ${k} needs a sampling temperature above 0 (the config's temperature is ${config.temperature})`;
  return null;
}

export interface ScanModel {
  model: PolicyModel;
  loaded: Pick<LoadedModel, 'tokenizer' | 'chatTemplate' | 'specialTokens'>;
  lora: LoraSet | null;
  scorer: RewardScorer;
}

/** The prompts a scan samples: every row that training would keep (a prompt left out for its length, with
 * long_prompts "skip", is not scanned). */
export function scanPrompts(rows: readonly DatasetRow[], loaded: ScanModel['loaded'], config: GrpoConfig) {
  const prompts = preparePrompts(rows, loaded, config);
  const skipped = new Set(prompts.skippedLines);
  return { examples: prompts.examples, rows: rows.filter((r) => !skipped.has(r.line)) };
}

/** Scans `rows`: k completions per prompt at the training sampler, `onProgress` told the completions done;
 * `onTokens` told the completion tokens generated (what the scan cost). */
export async function runDifficultyScan(
  m: ScanModel, rows: readonly DatasetRow[], config: GrpoConfig, k: number, onProgress?: (done: number, total: number) => void, batch = 32,
  onTokens?: (generated: number) => void,
): Promise<DifficultyRecord[]> {
  const problem = scanKProblem(k, config);
  if (problem) throw new Error(`difficulty scan: ${problem}`);
  const p = scanPrompts(rows, m.loaded, config);
  if (p.examples.length === 0) throw new Error('difficulty scan: no prompt to scan');
  const report = await evaluatePrompts(m.model, m.loaded.tokenizer, m.lora, m.scorer, p.examples, config.max_completion_length, 0, batch, {
    temperature: config.temperature, topK: config.top_k, topP: config.top_p, seed: config.seed, kvPrecision: config.kv_precision,
  }, k, null, onProgress);
  onTokens?.(report.generatedTokens);
  return difficultyRecords(p.rows, report, k);
}

/** One line about a scan: how many prompts, how many never / always / sometimes pass, the 10-bin histogram. */
export function scanSummaryLine(records: readonly DifficultyRecord[]): string {
  const zero = records.filter((r) => r.pass_rate === 0).length;
  const one = records.filter((r) => r.pass_rate === 1).length;
  const h = passRateHistogram(records.map((r) => r.pass_rate));
  return `${records.length} prompts; pass rate 0: ${zero}, 1: ${one}, in between: ${records.length - zero - one}; histogram (10 bins over [0, 1]): ${h.join(' ')}`;
}
