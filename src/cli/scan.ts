// `grpo-playground scan`: a difficulty scan of a dataset (src/grpo/difficulty.ts), k completions per prompt at
// the training temperature, written as JSONL (one record per prompt: key, line, k, pass_rate, reward_mean); and
// `train --scan FILE`: the scan joined to the training rows (pass_rate_band, curriculum "easy_to_hard").
import { readFile, stat, writeFile } from 'node:fs/promises';
import { acquireNodeGpu } from '../gpu/node';
import { GpuTransformer } from '../model/transformer';
import type { DatasetRow } from '../data';
import type { GrpoConfig } from '../grpo/config';
import { createRewardScorer } from '../grpo/rewards_scorer';
import { runDifficultyScan, scanKProblem, scanPrompts, scanSummaryLine } from '../grpo/scan';
import { type DifficultyRecord, joinScan, parseScanJsonl, scanToJsonl, SCAN_LIMITS, SCAN_MAX_K } from '../grpo/difficulty';
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
  const k = numberOpt(v, 'k', 8, (n) => Number.isInteger(n) && n >= 1 && n <= SCAN_MAX_K, `a whole number 1..${SCAN_MAX_K}`);
  const loaded = await loadModelArg(modelPath, v.tokenizer as string | undefined);
  const config = await readConfig(v.config as string | undefined, loaded);
  const kProblem = scanKProblem(k, config);
  if (kProblem) throw new UsageError(`--k: ${kProblem}`);
  const ds = await readDataset(dataPath, v);
  // --train-only: the rows `train` trains on (the config's eval_split and seed hold the rest out)
  const scanned = v['train-only'] ? trainEvalRows(ds.rows, null, config.eval_split, config.seed).train : ds.rows;
  const log = (s: string) => {
    if (!v.quiet) process.stdout.write(s + '\n');
  };
  const gpu = await acquireNodeGpu();
  const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length, stepSeparator: config.step_separator });
  try {
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights, { basePrecision: config.base_precision, fileDtype: loaded.dtype });
    const lora = typeof v.adapter === 'string' ? await loadAdapterDir(gpu, v.adapter, loaded.config) : null;
    log(`scanning ${scanPrompts(scanned, loaded, config).rows.length} prompts x ${k} completions at temperature ${config.temperature}`);
    let generated = 0;
    const records = await runDifficultyScan({ model, loaded, lora, scorer }, scanned, config, k, undefined, 32, (n) => (generated = n));
    await writeFile(outPath, scanToJsonl(records));
    log(`wrote ${outPath}: ${scanSummaryLine(records)}; ${generated} completion tokens generated`);
  } finally {
    scorer.dispose();
    gpu.destroy();
  }
}

/** `train --scan FILE`: the training rows joined to the scan and cut to pass_rate_band; without --scan, a config
 * that needs one is refused. */
export async function selectTrainRows(scanPath: string | undefined, rows: DatasetRow[], config: GrpoConfig, log: (s: string) => void): Promise<DatasetRow[]> {
  const how = 'run grpo-playground scan, then give it with --scan FILE.jsonl';
  if (!scanPath) {
    try {
      return joinScan(rows, null, config, how).rows;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const sel = joinScan(rows, { source: scanPath, records: await readScanFile(scanPath) }, config, how);
  if (sel.note) log(sel.note);
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
