// `grpo-playground train` and `grpo-playground eval`: the same trainer as the page's worker, from Node.
import { mkdir, readFile, rename, writeFile, appendFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { acquireNodeGpu } from '../gpu/node';
import { Autotuner } from '../gpu/autotune';
import { fileAutotuneStore } from '../gpu/autotune_file';
import type { LoadedModel } from '../model/load';
import { GpuTransformer } from '../model/transformer';
import { LoraSet } from '../model/lora';
import type { DatasetKind, ParsedDataset } from '../data';
import { loadModelArg, readDatasetArg } from './sources';
import { configWarnings, defaultConfig, modelValidationContext, parseConfigJson, validateConfig, type GrpoConfig } from '../grpo/config';
import { parameterCount, resolveBasePrecision } from '../model/weight_storage';
import { choosePlan, describePlan, refuseUnlessFits } from '../grpo/memory_plan';
import { loadQuantSummary, quantTypesOf } from '../model/quant_storage';
import { trainEvalRows } from '../experiments/eval_split';
import { evalMetrics } from '../experiments/eval_metrics';
import { createRewardScorer } from '../grpo/rewards_scorer';
import { CliRewardModels } from './reward_models';
import { preparePrompts } from '../grpo/prompts';
import { GrpoTrainer, evaluatePrompts, type Metrics } from '../grpo/trainer';
import { SftTrainer, type SftModel } from '../grpo/sft';
import { isPreferenceAlgorithm } from '../grpo/config/enums';
import { trainPreferenceRun } from './train_preference';
import { selectTrainRows } from './scan';
import { asGemma4, uploadPolicyModel } from '../model/policy_model';
import { exportGemma4Adapter } from '../model/gemma4_trainable';
import { GGUF_ADAPTER, loadAdapterDir, readAdapterDir, writeAdapterDir, writeAdapterFiles } from './adapter_dir';
import { loadAdapterInto } from '../model/peft_adapter';
import { SftRunTrainer } from '../grpo/sft_run_trainer';
import type { LoraModule } from '../model/lora';
import { basePrecisionOpt, numberOpt, parse, requireString, UsageError } from './args';
import { createRolloutTools, usesTools } from '../grpo/tools/setup';
import { CHECKPOINT_FILE, datasetFingerprint, readCheckpointState, restoreCheckpoint, saveCheckpoint } from '../grpo/checkpoint';
import { dryLimitsOf } from '../gpu/dry_device';

export async function readConfig(path: string | undefined, model: LoadedModel, overrides: Partial<GrpoConfig> = {}): Promise<GrpoConfig> {
  const ctx = modelValidationContext(model.config);
  if (!path) {
    const c = { ...defaultConfig(), ...overrides };
    const problems = validateConfig(c, ctx);
    if (problems.length) throw new Error(`default config: ${problems.join('; ')}`);
    return c;
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`${path}: config file not found`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (json && typeof json === 'object' && !Array.isArray(json)) json = { ...json, ...overrides };
  return parseConfigJson(json, path, ctx);
}

export async function readDataset(path: string, v: Record<string, unknown>, kind?: DatasetKind): Promise<ParsedDataset> {
  const mapping = {
    ...(typeof v['prompt-column'] === 'string' ? { prompt: v['prompt-column'] } : {}),
    ...(typeof v['answer-column'] === 'string' ? { answer: v['answer-column'] } : {}),
    // preference data: --answer-column names the chosen (KTO: the completion) column
    ...(typeof v['rejected-column'] === 'string' ? { rejected: v['rejected-column'] } : {}),
    ...(typeof v['label-column'] === 'string' ? { label: v['label-column'] } : {}),
  };
  const { label, dataset: ds } = await readDatasetArg(path, mapping, undefined, kind);
  if (ds.rows.length === 0) {
    const first = ds.issues[0];
    const where = ds.format === 'parquet' ? 'row' : 'line';
    throw new Error(`${label}: no usable rows${first ? ` (${where} ${first.line}${first.field ? `, ${first.field}` : ''}: ${first.message})` : ''}`);
  }
  return ds;
}

export function describeDataset(path: string, ds: ParsedDataset): string {
  const c = ds.counts;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  const skipped = c.invalid ? `, ${plural(c.invalid, 'invalid row')} skipped (first: line ${ds.issues[0]?.line}: ${ds.issues[0]?.message})` : '';
  return `${path}: ${plural(c.kept, 'row')} (${ds.format}, prompt="${ds.mapping.prompt}", answer="${ds.mapping.answer}")${skipped}${c.duplicate ? `, ${plural(c.duplicate, 'duplicate')}` : ''}`;
}

const fmt = (x: number | undefined, d = 3) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));

export async function trainCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    model: { type: 'string' },
    tokenizer: { type: 'string' },
    dataset: { type: 'string' },
    'eval-dataset': { type: 'string' },
    'prompt-column': { type: 'string' },
    'answer-column': { type: 'string' },
    'rejected-column': { type: 'string' },
    'label-column': { type: 'string' },
    config: { type: 'string' },
    steps: { type: 'string' },
    sft: { type: 'boolean' },
    out: { type: 'string' },
    resume: { type: 'string' },
    quiet: { type: 'boolean' },
    'no-autotune': { type: 'boolean' },
    tools: { type: 'string' },
    env: { type: 'string' },
    'base-precision': { type: 'string' },
    scan: { type: 'string' },
    'init-adapter': { type: 'string' },
  });
  const modelPath = requireString(v, 'model');
  const dataPath = requireString(v, 'dataset');
  const initAdapter = typeof v['init-adapter'] === 'string' ? v['init-adapter'] : null;
  const resumeDir = typeof v.resume === 'string' ? v.resume : null;
  if (resumeDir && v.config) throw new UsageError(`--resume continues the run with its own config (${join(resumeDir, 'config.json')}); drop --config`);
  if (resumeDir && v.sft) throw new UsageError('--resume applies to GRPO runs; drop --sft');
  if (initAdapter && resumeDir) throw new UsageError('--resume continues from the run\'s own checkpoint; drop --init-adapter');
  if (initAdapter && v.sft) throw new UsageError('--init-adapter starts a GRPO (or DPO, SFT) run from an adapter; --sft always starts a new LoRA: drop one of them');
  if (resumeDir && typeof v.out === 'string' && v.out !== resumeDir) throw new UsageError('--resume writes into the run\'s own folder: drop --out or give the same folder');
  const outDir = resumeDir ?? requireString(v, 'out');
  const loaded = await loadModelArg(modelPath, v.tokenizer as string | undefined);
  const checkpointPath = join(outDir, CHECKPOINT_FILE);
  let checkpoint: Uint8Array | null = null;
  if (resumeDir) {
    try {
      checkpoint = new Uint8Array(await readFile(checkpointPath));
    } catch {
      throw new Error(`${checkpointPath}: no checkpoint to resume from (a run writes one every checkpoint_interval steps and at its end)`);
    }
  }
  // --tools / --env: their sources go into the config (tools_source, env_source), so checkpoints keep them
  const overrides: Partial<GrpoConfig> = {};
  for (const [flag, field] of TOOL_FLAGS) {
    if (typeof v[flag] !== 'string') continue;
    if (checkpoint) throw new UsageError(`--resume continues the run with its own ${field} (in its checkpoint); drop --${flag}`);
    if (v.sft) throw new UsageError(`--${flag} applies to GRPO runs; drop --sft`);
  }
  Object.assign(overrides, await readToolFiles(v));
  const basePrecision = basePrecisionOpt(v); // --base-precision: the config's base_precision (nf4, nf4_dq, q8_0, ...)
  if (basePrecision) {
    if (checkpoint) throw new UsageError('--resume continues the run with its own base_precision (in its checkpoint); drop --base-precision');
    overrides.base_precision = basePrecision;
  }
  const config = checkpoint ? readCheckpointState(checkpoint, checkpointPath, modelValidationContext(loaded.config)).config : await readConfig(v.config as string | undefined, loaded, overrides);
  config.max_steps = numberOpt(v, 'steps', config.max_steps, (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
  // --init-adapter DIR: the run's LoRA starts from that adapter (e.g. an SFT run's), in its own shape
  const init = initAdapter ? await readAdapterDir(initAdapter, loaded.config) : null;
  if (init) {
    Object.assign(config, { lora_r: init.spec.r, lora_alpha: init.spec.alpha, lora_target_modules: [...init.spec.targetModules] as LoraModule[], use_rslora: init.spec.useRslora });
  }
  if (isPreferenceAlgorithm(config.algorithm)) {
    if (v.sft) throw new UsageError(`--sft trains on prompt/answer rows; the config's algorithm "${config.algorithm}" trains on preference data: drop one of them`);
    if (usesTools(config)) throw new UsageError(`algorithm "${config.algorithm}" trains on a preference dataset; tools and environments apply to rollouts (GRPO)`);
    await trainPreferenceRun({ v, config, loaded, dataPath, outDir, checkpoint, checkpointPath, init });
    return;
  }
  // tools and environment load in their sandbox first: a file that does not load stops here, naming it
  const tools = v.sft ? null : await loadTools(config, loaded, v);
  const ds = await readDataset(dataPath, v);
  const log = (s: string) => {
    if (!v.quiet) process.stdout.write(s + '\n');
  };
  log(describeDataset(dataPath, ds));
  for (const w of configWarnings(config)) log(`note (${w.field}): ${w.message}`);
  const evalPath = typeof v['eval-dataset'] === 'string' ? v['eval-dataset'] : null;
  const evalDs = evalPath ? await readDataset(evalPath, v) : null;
  if (evalPath && evalDs) log(`${describeDataset(evalPath, evalDs)}: held out for evaluation (the whole of ${dataPath} trains)`);
  const split = trainEvalRows(ds.rows, evalDs?.rows ?? null, config.eval_split, config.seed);
  const toolInfos = tools?.setup.tools ? tools.setup.runner.tools : undefined;
  // a difficulty scan (--scan): pass rates joined to the training rows, cut to pass_rate_band (held-out rows stay)
  const trainRows = v.sft ? split.train : await selectTrainRows(v.scan as string | undefined, split.train, config, log);
  const train = preparePrompts(trainRows, loaded, config, toolInfos);
  const evalSet = preparePrompts(split.eval, loaded, config, toolInfos);
  if (tools) log(`${tools.setup.tools ? `tools: ${tools.setup.runner.tools.map((t) => t.name).join(', ')}; ` : ''}${tools.setup.env ? 'environment loaded; ' : ''}call format ${tools.setup.format.name}`);
  if (train.truncated + evalSet.truncated) log(`${train.truncated + evalSet.truncated} prompts longer than max_prompt_length=${config.max_prompt_length} were cut from the left`);
  const skipped = [...train.skippedLines, ...evalSet.skippedLines].sort((a, b) => a - b);
  if (skipped.length) log(`${skipped.length} prompts longer than max_prompt_length=${config.max_prompt_length} were left out (long_prompts "skip"; lines ${skipped.slice(0, 10).join(', ')}${skipped.length > 10 ? ', ...' : ''})`);
  if (train.examples.length === 0) throw new Error(`${dataPath}: no training prompts left (every prompt is longer than max_prompt_length=${config.max_prompt_length})`);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  const metricsPath = join(outDir, 'metrics.jsonl');
  if (!checkpoint) await writeFile(metricsPath, '');
  const writeMetrics = (m: Metrics) => appendFile(metricsPath, JSON.stringify(m) + '\n');

  const gpu = await acquireNodeGpu();
  // kernel variants: autotuned per adapter and shape class between steps (src/gpu/autotune.ts)
  const autotune = new Autotuner(gpu, !v['no-autotune'], fileAutotuneStore());
  // reward models (reward_model entries): their adapter folders, read and checked before anything is uploaded
  const rewardModels = await CliRewardModels.read(config, loaded.config);
  const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length, rewardModels: rewardModels.hooks(), stepSeparator: config.step_separator });
  try {
    const storage = { basePrecision: config.base_precision, fileDtype: loaded.dtype, quant: quantTypesOf(loaded.weights) };
    // the exact memory plan first: a run that cannot fit is refused before any weight is uploaded
    const plan = v.sft ? null : await choosePlan(loaded.config, config, {
      budgetBytes: config.memory_budget_bytes, storage, adapter: { isSoftware: gpu.adapter.isSoftware }, rewardModels: rewardModels.planSpecs(),
      limits: dryLimitsOf(gpu),
    });
    if (plan) refuseUnlessFits(plan);
    // Gemma 4 runs its own GPU model (LoRA only; its PLE table in host memory when no buffer holds it: policy_model.ts)
    // (Gemma 4's embedding table stays in host memory when the plan needs it)
    const sftModel: SftModel = uploadPolicyModel(gpu, loaded.config, loaded.weights, { ...storage, embedOnHost: !!plan?.embedOnHost });
    const model = asGemma4(sftModel) ? null : (sftModel as GpuTransformer);
    if (rewardModels.count) {
      if (!model) throw new Error(`${loaded.config.modelType}: reward_model rewards run on the engine's model; Gemma 4 does not score with reward adapters yet`);
      rewardModels.bind(gpu, model);
      log(`reward models: ${rewardModels.count} reward adapter${rewardModels.count === 1 ? '' : 's'} on the policy's base weights`);
    }
    log(`model ${loaded.name}: ${loaded.config.numLayers} layers, ${(parameterCount(loaded.config) / 1e6).toFixed(2)}M parameters (base in ${resolveBasePrecision(loaded.config, storage)}); adapter: ${gpu.describe()}`);
    const quantNote = loadQuantSummary(loaded.config, config.base_precision);
    if (quantNote) log(quantNote);
    if (plan) log(`memory plan: ${describePlan(plan).split('\n').join('; ')}`);
    log(await autotune.init());
    log(`${v.sft ? 'supervised' : 'GRPO'}: ${config.max_steps} steps, ${train.examples.length} train / ${evalSet.examples.length} eval prompts`);
    if (v.sft) {
      const lora = new LoraSet(gpu, loaded.config, { r: config.lora_r, alpha: config.lora_alpha, targetModules: config.lora_target_modules, useRslora: config.use_rslora, dropout: config.lora_dropout });
      lora.initialize(config.seed);
      const eos = loaded.tokenizer.eosIds[0];
      const examples = train.examples.map((e) => ({
        prompt: e.ids,
        answer: [...loaded.tokenizer.encode(e.answer, { addBos: false }), ...(eos !== undefined ? [eos] : [])],
      }));
      const sft = new SftTrainer(gpu, sftModel, examples, {
        mode: 'lora', learningRate: config.learning_rate, scheduler: config.lr_scheduler_type, warmupRatio: config.warmup_ratio,
        maxSteps: config.max_steps, batchSize: config.prompts_per_step * config.num_generations, seed: config.seed,
        beta1: config.adam_beta1, beta2: config.adam_beta2, eps: config.adam_epsilon, weightDecay: config.weight_decay, maxGradNorm: config.max_grad_norm,
      }, lora);
      for (let s = 0; s < config.max_steps; s++) {
        const r = await sft.trainStep();
        await autotune.afterStep();
        await writeMetrics({ ...r, skipped: r.skipped ? 1 : 0 });
        log(`step ${r.step}/${config.max_steps}  loss ${fmt(r.loss)}  grad_norm ${fmt(r.grad_norm)}  lr ${r.learning_rate.toExponential(2)}  ${fmt(r.step_time, 2)}s`);
      }
      if (model) await writeAdapterDir(gpu, outDir, lora, loaded.name, config.lora_dropout);
      else await writeAdapterFiles(outDir, await exportGemma4Adapter(gpu, lora, loaded.name, config.lora_dropout));
      sft.release();
      lora.release();
    } else {
      // algorithm "sft": the page's supervised run (SftRunTrainer: checkpoints, evaluation and TRL's SFT metrics)
      const sftRun = config.algorithm === 'sft';
      if (sftRun && !model) throw new Error(`${loaded.config.modelType}: algorithm "sft" runs on the engine's model; for Gemma 4 use train --sft`);
      const trainer = sftRun
        ? new SftRunTrainer(gpu, model!, loaded.tokenizer, config, train.examples, evalSet.examples, scorer)
        : new GrpoTrainer({ gpu, model: sftModel, tokenizer: loaded.tokenizer, config, train: train.examples, eval: evalSet.examples, scorer, layout: plan?.layout, tools });
      if (init) {
        loadAdapterInto(gpu, trainer.lora, init);
        await writeFile(join(outDir, 'init_adapter.json'), JSON.stringify({ init_adapter: initAdapter }, null, 2) + '\n');
        log(`LoRA initialised from the adapter in ${initAdapter} (r ${init.spec.r}, alpha ${init.spec.alpha}, ${init.spec.targetModules.join(', ')})`);
      }
      const fingerprint = datasetFingerprint(train.examples);
      const saveCkpt = async () => {
        const bytes = await saveCheckpoint(gpu, trainer, fingerprint);
        // a crash mid-write leaves the previous checkpoint intact: write aside, then rename over it
        await writeFile(checkpointPath + '.tmp', bytes);
        await rename(checkpointPath + '.tmp', checkpointPath);
      };
      const evaluate = async (): Promise<Metrics> => {
        if (evalSet.examples.length === 0) return {};
        const e = await trainer.evaluate();
        const k = config.num_generations_eval ?? 1;
        log(`eval @ step ${e.step}: pass@1 ${fmt(e['pass@1'])}${k > 1 ? `  pass@${k} ${fmt(e.atK?.[`pass@${k}`])}  maj@${k} ${fmt(e.atK?.[`maj@${k}`])}` : ''}  reward ${fmt(e.reward_mean)}  (n=${e.n}${k > 1 ? ` x ${k}` : ''})`);
        return evalMetrics(e);
      };
      if (checkpoint) {
        const state = restoreCheckpoint(gpu, trainer, checkpoint, checkpointPath, fingerprint);
        // metrics written after the checkpoint (by a run that then died) are dropped: they are redone
        const kept = (await readFile(metricsPath, 'utf8').catch(() => '')).split('\n').filter((l) => l.trim() && (JSON.parse(l) as Metrics).step <= state.progress.step);
        await writeFile(metricsPath, kept.map((l) => l + '\n').join(''));
        log(`resumed at step ${trainer.step} from ${checkpointPath}`);
      } else {
        await writeMetrics({ step: 0, ...(await evaluate()) });
      }
      for (let s = trainer.step + 1; s <= config.max_steps; s++) {
        const r = await trainer.trainStep();
        await autotune.afterStep();
        const m = r.metrics;
        const due = s === config.max_steps || (config.eval_interval > 0 && s % config.eval_interval === 0);
        const ev = due ? await evaluate() : {};
        await writeMetrics({ step: s, ...m, ...ev });
        if (sftRun) log(`step ${s}/${config.max_steps}  loss ${fmt(m.loss, 4)}  mean_token_accuracy ${fmt(m.mean_token_accuracy)}  entropy ${fmt(m.entropy)}  num_tokens ${m.num_tokens}  grad_norm ${fmt(m.grad_norm)}  ${fmt(m.step_time, 2)}s`);
        else log(`step ${s}/${config.max_steps}  reward ${fmt(m.reward)} ±${fmt(m.reward_std, 2)}  loss ${fmt(m.loss, 4)}  kl ${fmt(m.kl, 4)}  ` +
          `len ${fmt(m['completions/mean_length'], 1)}  grad_norm ${fmt(m.grad_norm)}  ${fmt(m.step_time, 2)}s` +
          (r.rewardErrors.length ? `  reward errors: ${r.rewardErrors[0]}` : '') +
          (tools ? `  tool calls/completion ${fmt(m['tools/call_frequency'], 2)}  failures ${m['tools/failures'] ?? 0}  timeouts ${m['tools/timeouts'] ?? 0}  turns ${fmt(m['turns/mean'], 2)}` +
            (tools.setup.env ? `  env reward ${fmt(m['env/reward_mean'])}  env errors ${m['env/errors'] ?? 0}` : '') : '') +
          (config.sft_coef > 0 ? `  sft/loss ${fmt(m['sft/loss'])}  sft/groups ${m['sft/groups'] ?? 0}` : ''));
        const fault = trainer.faulted;
        if (fault) {
          await saveCkpt();
          throw new Error(`${fault} (checkpoint: ${checkpointPath}; continue with --resume ${outDir})`);
        }
        if (config.checkpoint_interval > 0 && s % config.checkpoint_interval === 0 && s < config.max_steps) await saveCkpt();
      }
      await saveCkpt();
      if (model) await writeAdapterDir(gpu, outDir, trainer.lora, loaded.name, config.lora_dropout);
      else await writeAdapterFiles(outDir, await exportGemma4Adapter(gpu, trainer.lora, loaded.name, config.lora_dropout));
      trainer.release();
    }
    log(`wrote ${join(outDir, 'adapter_model.safetensors')}, adapter_config.json, ${existsSync(join(outDir, GGUF_ADAPTER)) ? `${GGUF_ADAPTER}, ` : ''}config.json, metrics.jsonl${v.sft ? '' : `, ${CHECKPOINT_FILE}`}`);
  } finally {
    scorer.dispose();
    rewardModels.release();
    tools?.setup.runner.dispose();
    gpu.destroy();
  }
}

export async function evalCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    model: { type: 'string' },
    tokenizer: { type: 'string' },
    adapter: { type: 'string' },
    dataset: { type: 'string' },
    'prompt-column': { type: 'string' },
    'answer-column': { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
    tools: { type: 'string' },
    env: { type: 'string' },
    'no-tools': { type: 'boolean' },
  });
  const modelPath = requireString(v, 'model');
  const dataPath = requireString(v, 'dataset');
  const loaded = await loadModelArg(modelPath, v.tokenizer as string | undefined);
  const config = await readConfig(v.config as string | undefined, loaded, await readToolFiles(v));
  // with tools (the config's or --tools/--env), evaluation runs the same episodes as training; --no-tools
  // measures the model on its own
  const tools = v['no-tools'] ? null : await loadTools(config, loaded, v);
  const ds = await readDataset(dataPath, v);
  const prompts = preparePrompts(ds.rows, loaded, config);
  const gpu = await acquireNodeGpu();
  const rewardModels = await CliRewardModels.read(config, loaded.config);
  const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length, rewardModels: rewardModels.hooks(), stepSeparator: config.step_separator });
  try {
    const model = uploadPolicyModel(gpu, loaded.config, loaded.weights, { basePrecision: config.base_precision, fileDtype: loaded.dtype });
    if (rewardModels.count) {
      const engine = asGemma4(model) ? null : (model as GpuTransformer);
      if (!engine) throw new Error(`${loaded.config.modelType}: reward_model rewards run on the engine's model; Gemma 4 does not score with reward adapters yet`);
      rewardModels.bind(gpu, engine);
    }
    const lora = typeof v.adapter === 'string' ? await loadAdapterDir(gpu, v.adapter, loaded.config) : null;
    const r = await evaluatePrompts(model, loaded.tokenizer, lora, scorer, prompts.examples, config.max_completion_length, 0, 32, {
      temperature: config.eval_temperature, topK: config.top_k, topP: config.top_p, seed: config.seed, kvPrecision: config.kv_precision,
    }, config.num_generations_eval ?? 1, tools);
    const toolStats = r.tools ? { 'tools/call_frequency': r.tools.call_frequency, 'tools/failure_frequency': r.tools.failure_frequency, 'turns/mean': r.tools.turns_mean } : {};
    if (v.json) process.stdout.write(JSON.stringify({ 'pass@1': r['pass@1'], reward_mean: r.reward_mean, n: r.n, ...(r.atK ?? {}), ...toolStats }) + '\n');
    else process.stdout.write(`pass@1 ${fmt(r['pass@1'])}  reward_mean ${fmt(r.reward_mean)}  n ${r.n}${r.atK ? '  ' + Object.entries(r.atK).map(([k, x]) => `${k} ${fmt(x)}`).join('  ') : ''}${Object.entries(toolStats).map(([k, x]) => `  ${k} ${fmt(x)}`).join('')}\n`);
  } finally {
    tools?.setup.runner.dispose();
    scorer.dispose();
    rewardModels.release();
    gpu.destroy();
  }
}

const TOOL_FLAGS = [['tools', 'tools_source'], ['env', 'env_source']] as const;

/** The config fields --tools FILE.js / --env FILE.js give: the files' text. */
async function readToolFiles(v: Record<string, unknown>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [flag, field] of TOOL_FLAGS) {
    if (typeof v[flag] !== 'string') continue;
    try {
      out[field] = await readFile(v[flag] as string, 'utf8');
    } catch {
      throw new Error(`${v[flag]}: ${flag === 'tools' ? 'tools' : 'environment'} file not found`);
    }
  }
  return out;
}

/** The run's tools and environment, loaded in their sandbox first (null without them): a file that does not
 * load stops here, naming it. */
async function loadTools(config: GrpoConfig, loaded: Parameters<typeof createRolloutTools>[1], v: Record<string, unknown>): Promise<Awaited<ReturnType<typeof createRolloutTools>>> {
  if (!usesTools(config)) return null;
  try {
    return await createRolloutTools(config, loaded);
  } catch (e) {
    const file = [v.tools, v.env].filter((x) => typeof x === 'string').join(' / ') || 'the config\'s tools_source / env_source';
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}
