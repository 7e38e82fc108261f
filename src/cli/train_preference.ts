// `grpo-playground train` for the preference algorithms (config algorithm dpo, simpo, orpo, kto): the
// dataset is read as preference pairs (prompt/chosen/rejected) or, for KTO, unpaired examples
// (prompt/completion/label); the run writes metrics.jsonl (TRL's names), checkpoints every
// checkpoint_interval steps and at the end, and the PEFT adapter; --resume continues it exactly.
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireNodeGpu } from '../gpu/node';
import type { LoadedModel } from '../model/load';
import { GpuTransformer } from '../model/transformer';
import type { GrpoConfig } from '../grpo/config';
import { trainEvalRows } from '../experiments/eval_split';
import { evalMetrics } from '../experiments/eval_metrics';
import { createRewardScorer } from '../grpo/rewards_scorer';
import { evaluatePrompts } from '../grpo/evaluate';
import { preparePreference, type PreferenceExample } from '../grpo/preference/data';
import { PreferenceTrainer, type Metrics } from '../grpo/preference/trainer';
import { RewardModelTrainer } from '../grpo/reward_model/trainer';
import { exportRewardAdapter } from '../model/reward_adapter';
import { CHECKPOINT_FILE, datasetFingerprint, restoreCheckpoint, saveCheckpoint } from '../grpo/checkpoint';
import { writeAdapterDir, writeAdapterFiles } from './adapter_dir';
import { readDataset } from './train';
import type { ParsedDataset } from '../data';
import { loadAdapterInto, type ParsedAdapter } from '../model/peft_adapter';

export interface PreferenceRunArgs {
  v: Record<string, unknown>;
  config: GrpoConfig;
  loaded: LoadedModel;
  dataPath: string;
  outDir: string;
  checkpoint: Uint8Array | null;
  checkpointPath: string;
  /** --init-adapter: the LoRA starts from this adapter (e.g. an SFT run's); config's LoRA shape already matches it */
  init?: ParsedAdapter | null;
}

const fmt = (x: number | undefined, d = 3) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));

function describe(path: string, ds: ParsedDataset): string {
  const c = ds.counts;
  const m = ds.mapping;
  const cols = m.rejected !== undefined ? `prompt="${m.prompt}", chosen="${m.answer}", rejected="${m.rejected}"` : `prompt="${m.prompt}", completion="${m.answer}", label="${m.label}"`;
  const first = ds.issues[0];
  return `${path}: ${c.kept} ${m.rejected !== undefined ? 'pairs' : 'examples'} (${ds.format}, ${cols})` +
    (c.invalid ? `, ${c.invalid} invalid skipped (first: ${ds.format === 'parquet' ? 'row' : 'line'} ${first?.line}${first?.field ? `, ${first.field}` : ''}: ${first?.message})` : '');
}

/** The fingerprint of the training examples (prompt ids and both completions' ids, in order). */
function fingerprint(examples: PreferenceExample[]): string {
  return datasetFingerprint(examples.map((e) => ({ ...e.prompt, answer: `${e.chosen.join(',')}|${e.rejected?.join(',') ?? ''}|${e.desirable ?? ''}` })));
}

export async function trainPreferenceRun(a: PreferenceRunArgs): Promise<void> {
  const { v, config, loaded, dataPath, outDir, checkpoint, checkpointPath } = a;
  const log = (s: string) => {
    if (!v.quiet) process.stdout.write(s + '\n');
  };
  const kind = config.algorithm === 'kto' ? 'unpaired' : 'preference';
  const ds = await readDataset(dataPath, v, kind);
  log(describe(dataPath, ds));
  const evalPath = typeof v['eval-dataset'] === 'string' ? v['eval-dataset'] : null;
  const evalDs = evalPath ? await readDataset(evalPath, v, kind) : null;
  if (evalPath && evalDs) log(`${describe(evalPath, evalDs)}: held out for evaluation`);
  const split = trainEvalRows(ds.rows, evalDs?.rows ?? null, config.eval_split, config.seed);
  const train = preparePreference(split.train, loaded, config);
  const held = preparePreference(split.eval, loaded, config);
  const cut = train.truncatedCompletions + held.truncatedCompletions;
  if (cut) log(`${cut} completions longer than max_completion_length=${config.max_completion_length} were cut (TRL's truncation_mode "keep_start")`);
  if (train.examples.length === 0) throw new Error(`${dataPath}: no training examples left (every prompt is longer than max_prompt_length=${config.max_prompt_length})`);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  const metricsPath = join(outDir, 'metrics.jsonl');
  if (!checkpoint) await writeFile(metricsPath, '');
  const writeMetrics = (m: Metrics) => appendFile(metricsPath, JSON.stringify(m) + '\n');

  const gpu = await acquireNodeGpu();
  const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length, stepSeparator: config.step_separator });
  try {
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights, { basePrecision: config.base_precision, fileDtype: loaded.dtype });
    log(`model ${loaded.name}; adapter: ${gpu.describe()}`);
    log(`${config.algorithm}: ${config.max_steps} steps, ${train.examples.length} train / ${held.examples.length} held-out ${kind === 'preference' ? 'pairs' : 'examples'}`);
    // a reward model (algorithm reward_model) trains a LoRA and a scalar head on the same pairs
    const reward = config.algorithm === 'reward_model';
    const trainer = reward
      ? new RewardModelTrainer({ gpu, model, config, train: train.examples, eval: held.examples })
      : new PreferenceTrainer({ gpu, model, config, train: train.examples, eval: held.examples });
    if (a.init) {
      loadAdapterInto(gpu, trainer.lora, a.init);
      log('LoRA initialised from the --init-adapter adapter');
    }
    // held-out prompts answered greedily, scored against the chosen (KTO: the desirable) completion
    const evalPrompts = held.examples.filter((e) => e.desirable !== false).map((e) => e.prompt).slice(0, config.eval_max_samples);
    const evaluate = async (): Promise<Metrics> => {
      if (held.examples.length === 0) return {};
      const pairs = await trainer.evaluatePairs();
      if (reward) {
        // a reward model is judged by its ranking of held-out pairs (it does not change what the model writes)
        log(`eval @ step ${trainer.step}: accuracy ${fmt(pairs.eval_accuracy)}  margin ${fmt(pairs.eval_margin)}  mean_reward ${fmt(pairs.eval_mean_reward)}`);
        return pairs;
      }
      const e = await evaluatePrompts(model, loaded.tokenizer, trainer.lora, scorer, evalPrompts, config.max_completion_length, trainer.step, 32, {
        temperature: config.eval_temperature, topK: config.top_k, topP: config.top_p, seed: config.seed, kvPrecision: config.kv_precision,
      });
      log(`eval @ step ${trainer.step}: pair accuracy ${fmt(pairs['eval_rewards/accuracies'])}  margin ${fmt(pairs['eval_rewards/margins'])}  pass@1 ${fmt(e['pass@1'])} (n=${e.n})`);
      return { ...pairs, ...evalMetrics(e) };
    };
    const fp = fingerprint(train.examples);
    const saveCkpt = async () => {
      const bytes = await saveCheckpoint(gpu, trainer, fp);
      await writeFile(checkpointPath + '.tmp', bytes);
      await rename(checkpointPath + '.tmp', checkpointPath);
    };
    if (checkpoint) {
      const state = restoreCheckpoint(gpu, trainer, checkpoint, checkpointPath, fp);
      const kept = (await readFile(metricsPath, 'utf8').catch(() => '')).split('\n').filter((l) => l.trim() && (JSON.parse(l) as Metrics).step <= state.progress.step);
      await writeFile(metricsPath, kept.map((l) => l + '\n').join(''));
      log(`resumed at step ${trainer.step} from ${checkpointPath}`);
    } else {
      await writeMetrics({ step: 0, ...(await evaluate()) });
    }
    for (let s = trainer.step + 1; s <= config.max_steps; s++) {
      const { metrics: m } = await trainer.trainStep();
      const due = s === config.max_steps || (config.eval_interval > 0 && s % config.eval_interval === 0);
      const ev = due ? await evaluate() : {};
      await writeMetrics({ step: s, ...m, ...ev });
      if (reward) {
        log(`step ${s}/${config.max_steps}  loss ${fmt(m.loss, 4)}  accuracy ${fmt(m.accuracy, 2)}  margin ${fmt(m.margin)}  ` +
          `mean_reward ${fmt(m.mean_reward)}  grad_norm ${fmt(m.grad_norm)}  ${fmt(m.step_time, 2)}s`);
      } else {
        log(`step ${s}/${config.max_steps}  loss ${fmt(m.loss, 4)}  accuracy ${fmt(m['rewards/accuracies'], 2)}  margin ${fmt(m['rewards/margins'])}  ` +
          `logps chosen ${fmt(m['logps/chosen'], 2)} rejected ${fmt(m['logps/rejected'], 2)}  grad_norm ${fmt(m.grad_norm)}  ${fmt(m.step_time, 2)}s`);
      }
      const fault = trainer.faulted;
      if (fault) {
        await saveCkpt();
        throw new Error(`${fault} (checkpoint: ${checkpointPath}; continue with --resume ${outDir})`);
      }
      if (config.checkpoint_interval > 0 && s % config.checkpoint_interval === 0 && s < config.max_steps) await saveCkpt();
    }
    await saveCkpt();
    if (trainer instanceof RewardModelTrainer) {
      // PEFT's sequence-classification adapter: task_type SEQ_CLS, the score head in modules_to_save
      await writeAdapterFiles(outDir, await exportRewardAdapter(gpu, trainer.lora, await trainer.head.read(), loaded.name, config.lora_dropout));
    } else await writeAdapterDir(gpu, outDir, trainer.lora, loaded.name, config.lora_dropout);
    trainer.release();
    log(`wrote ${join(outDir, 'adapter_model.safetensors')}, adapter_config.json, config.json, metrics.jsonl, ${CHECKPOINT_FILE}`);
  } finally {
    scorer.dispose();
    gpu.destroy();
  }
}
