// `grpo-playground scan`: a difficulty scan of a dataset (src/grpo/difficulty.ts), k completions per prompt at
// the training temperature, written as JSONL (one record per prompt: key, line, k, pass_rate, reward_mean); and
// `train --scan FILE`: the scan joined to the training rows (pass_rate_band, curriculum "easy_to_hard").
import { readFile, stat, writeFile } from 'node:fs/promises';
import { acquireNodeGpu } from '../gpu/node';
import { GpuTransformer } from '../model/transformer';
import type { DatasetRow } from '../data';
import type { GrpoConfig } from '../grpo/config';
import { createRewardScorer } from '../grpo/rewards_scorer';
import { preparePrompts } from '../grpo/prompts';
import { evaluatePrompts } from '../grpo/evaluate';
import { difficultyRecords, type DifficultyRecord, parseBand, parseScanJsonl, passRateHistogram, scanToJsonl, selectByDifficulty, SCAN_LIMITS } from '../grpo/difficulty';
import { loadModelArg } from './sources';
import { loadAdapterDir } from './adapter_dir';
import { numberOpt, parse, requireString, UsageError } from './args';
import { readConfig, readDataset } from './train';
import { trainEvalRows } from '../experiments/eval_split';

export async function scanCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    model: { type: 'string' },
    tokenizer: { type: 'string' },
    adapter: { type: 'string' },
    dataset: { type: 'string' },
    'prompt-column': { type: 'string' },
    'answer-column': { type: 'string' },
    config: { type: 'string' },
    k: { type: 'string' },
    out: { type: 'string' },
    quiet: { type: 'boolean' },
    'train-only': { type: 'boolean' },
  });
  const modelPath = requireString(v, 'model');
  const dataPath = requireString(v, 'dataset');
  const outPath = requireString(v, 'out');
  const k = numberOpt(v, 'k', 8, (n) => Number.isInteger(n) && n >= 1 && n <= 1024, 'a whole number 1..1024');
  const loaded = await loadModelArg(modelPath, v.tokenizer as string | undefined);
  const config = await readConfig(v.config as string | undefined, loaded);
  if (config.temperature <= 0 && k > 1) throw new UsageError(`--k ${k} needs a sampling temperature above 0 (the config's temperature is ${config.temperature})`);
  const ds = await readDataset(dataPath, v);
  // --train-only: the rows `train` trains on (the config's eval_split and seed hold the rest out)
  const scanned = v['train-only'] ? trainEvalRows(ds.rows, null, config.eval_split, config.seed).train : ds.rows;
  const prompts = preparePrompts(scanned, loaded, config);
  // a prompt left out for its length (long_prompts "skip") is not scanned
  const skipped = new Set(prompts.skippedLines);
  const rows = scanned.filter((r) => !skipped.has(r.line));
  const log = (s: string) => {
    if (!v.quiet) process.stdout.write(s + '\n');
  };
  const gpu = await acquireNodeGpu();
  const scorer = createRewardScorer(config.reward_funcs, config.max_completion_length, undefined, config.step_separator);
  try {
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights, { basePrecision: config.base_precision, fileDtype: loaded.dtype });
    const lora = typeof v.adapter === 'string' ? await loadAdapterDir(gpu, v.adapter, loaded.config) : null;
    log(`scanning ${rows.length} prompts x ${k} completions at temperature ${config.temperature}`);
    // the training sampler (temperature, top-k, top-p), so a pass rate is what a GRPO group would see
    const report = await evaluatePrompts(model, loaded.tokenizer, lora, scorer, prompts.examples, config.max_completion_length, 0, 32, {
      temperature: config.temperature, topK: config.top_k, topP: config.top_p, seed: config.seed, kvPrecision: config.kv_precision,
    }, k);
    const records = difficultyRecords(rows, report, k);
    await writeFile(outPath, scanToJsonl(records));
    const h = passRateHistogram(records.map((r) => r.pass_rate));
    const zero = records.filter((r) => r.pass_rate === 0).length;
    const one = records.filter((r) => r.pass_rate === 1).length;
    log(`wrote ${outPath}: ${records.length} prompts; pass rate 0: ${zero}, 1: ${one}, in between: ${records.length - zero - one}; ` +
      `histogram (10 bins over [0, 1]): ${h.join(' ')}; ${report.generatedTokens} completion tokens generated`);
  } finally {
    scorer.dispose();
    gpu.destroy();
  }
}

/** `train --scan FILE`: the training rows joined to the scan and cut to pass_rate_band; without --scan, a config
 * that needs one is refused. */
export async function selectTrainRows(scanPath: string | undefined, rows: DatasetRow[], config: GrpoConfig, log: (s: string) => void): Promise<DatasetRow[]> {
  const needs = config.pass_rate_band !== null || config.curriculum === 'easy_to_hard';
  if (!scanPath) {
    if (needs) {
      const what = config.pass_rate_band !== null ? `pass_rate_band "${config.pass_rate_band}"` : 'curriculum "easy_to_hard"';
      throw new UsageError(`${what} needs a difficulty scan: run grpo-playground scan, then give it with --scan FILE.jsonl`);
    }
    return rows;
  }
  const scan = await readScanFile(scanPath);
  const band = config.pass_rate_band === null ? null : parseBand(config.pass_rate_band);
  if (typeof band === 'string') throw new Error(`pass_rate_band: ${band}`);
  const sel = selectByDifficulty(rows, scan, band, scanPath);
  log(`${scanPath}: ${scan.size} scanned prompts; ${sel.rows.length} of ${rows.length} training prompts kept` +
    (band ? ` (pass rate in ${config.pass_rate_band}: ${sel.outside} outside, ${sel.unscanned} not in the scan)` : sel.unscanned ? ` (${sel.unscanned} not in the scan)` : ''));
  return sel.rows;
}

/** A scan file from disk, bounded before it is read whole and checked record by record. */
export async function readScanFile(path: string): Promise<Map<string, DifficultyRecord>> {
  let text: string;
  try {
    const size = (await stat(path)).size;
    if (size > SCAN_LIMITS.bytes) throw new Error(`${path}: ${size} bytes; a scan file holds at most ${SCAN_LIMITS.bytes}`);
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error((e as NodeJS.ErrnoException).code === 'ENOENT' ? `${path}: scan file not found` : (e as Error).message);
  }
  return parseScanJsonl(text, path);
}
