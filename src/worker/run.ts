// One GRPO run in the worker: its trainer and reward scorer on the device the model lives on, its id, the
// fingerprint of its training prompts, the history the page drew (run_history.ts) and its latest
// checkpoint's bytes. A Run exists only with everything it needs; the run controller (run_controller.ts)
// creates, continues, recovers and ends runs.
//
// The run's config has ONE owner, its trainer (trainer.config): lengthening a resumed run changes it
// there, and a run rebuilt on a new device after a loss is built from it, so nothing can hold an older copy.

import { trainEvalRows } from '../experiments/eval_split';
import type { DatasetRow } from '../data';
import type { GrpoConfig } from '../grpo/config';
import { preparePrompts } from '../grpo/prompts';
import { createRewardScorer, type RewardScorer } from '../grpo/rewards_scorer';
import type { PeftAdapterFiles } from '../model/peft_adapter';
import { runRewardScorer } from './reward_adapters';
import { GrpoTrainer, type StepLayout } from '../grpo/trainer';
import { isPreferenceAlgorithm } from '../grpo/config/enums';
import { preparePreference } from '../grpo/preference/data';
import { PreferenceRunTrainer } from '../grpo/preference/run_trainer';
import { asGemma4 } from '../model/policy_model';
import type { GpuTransformer } from '../model/transformer';

import { SftRunTrainer } from '../grpo/sft_run_trainer';

/** What a run drives: GRPO's trainer, the offline preference trainer (algorithm dpo, simpo, orpo, kto), or
 * supervised fine-tuning (algorithm sft). */
export type RunTrainer = GrpoTrainer | PreferenceRunTrainer | SftRunTrainer;
import { createRolloutTools, usesTools } from '../grpo/tools/setup';
import type { RolloutTools } from '../grpo/rollout';
import { datasetFingerprint, restoreCheckpoint, saveCheckpoint } from '../grpo/checkpoint';
import { joinScan, scanNeededBy } from '../grpo/difficulty';
import type { LoadedDataset } from './dataset_slot';
import type { ModelOnDevice } from './model_slot';
import type { TrainEvent } from './protocol';
import { EMPTY_RUN_HISTORY, reduceRunHistory, type RunHistory } from './run_history';

export class Run {
  /** what the page drew: every step's metrics, the evaluations, the reward names */
  history: RunHistory = EMPTY_RUN_HISTORY;
  /** the latest checkpoint's bytes, kept here too: a lost device resumes from it even when storage is full */
  lastCheckpoint: { step: number; bytes: Uint8Array } | null = null;
  /** stopped: the adapter stays (export, try-it) but the next train request begins a new run */
  ended = false;
  /** the run whose adapter this run's LoRA started from ("Continue with GRPO" after an SFT run), or null */
  parentId: string | null = null;
  /** what a difficulty scan kept of the training prompts ("N of M training prompts kept"), for the run log */
  dataNote: string | null = null;

  private constructor(
    /** one id per run, kept when it is resumed or recovered */
    readonly id: string,
    /** the model and the device the run lives on */
    readonly on: ModelOnDevice,
    readonly trainer: RunTrainer,
    private readonly scorer: RewardScorer,
    /** of the training prompts: a checkpoint from other data is refused */
    readonly fingerprint: string,
    /** how a step is cut (the memory plan's layout; undefined: the config's own) */
    readonly layout: StepLayout | undefined,
    /** the separate test file's rows the run evaluates on (null: eval_split of the dataset) */
    readonly evalRows: DatasetRow[] | null = null,
    /** the reward adapters its reward_model entries name (saved runs' kept adapters, by name) */
    readonly rewardAdapters: ReadonlyMap<string, PeftAdapterFiles> = new Map(),
  ) {}

  /** A run at step 0 for `config` on the model and the dataset, its steps cut as `layout` says (the memory
   * plan's; the run controller plans before it creates a run). A separate test file (evalRows) is held out
   * whole; otherwise eval_split of the dataset. Tools / an environment load in their sandbox first (as the
   * command line does): a file that does not load stops here with the sandbox's message, and the tools
   * reach the chat template of every prompt (its `tools`, as TRL passes them). */
  static async create(
    on: ModelOnDevice, data: LoadedDataset, config: GrpoConfig, id = newRunId(), layout?: StepLayout, evalRows: DatasetRow[] | null = null,
    rewardAdapters: ReadonlyMap<string, PeftAdapterFiles> = new Map(),
  ): Promise<Run> {
    const split = trainEvalRows(data.parsed.rows, evalRows, config.eval_split, config.seed);
    let tools: RolloutTools | null = null;
    if (usesTools(config)) {
      try {
        tools = await createRolloutTools(config, on.loaded);
      } catch (e) {
        throw new Error(`the tools / environment (tools_source, env_source) did not load: ${(e as Error).message}`);
      }
    }
    const toolInfos = tools?.setup.tools ? tools.setup.runner.tools : undefined;
    let scorer: RewardScorer | null = null;
    if (isPreferenceAlgorithm(config.algorithm)) {
      // offline preference training: the dataset's pairs (or KTO's labelled completions), no rollouts
      const needs = scanNeededBy(config);
      if (needs) throw new Error(`${needs} chooses GRPO's prompts by a difficulty scan; algorithm "${config.algorithm}" trains on the dataset's pairs and does not read it: set it back to its default`);
      const train = preparePreference(split.train, on.loaded, config).examples;
      const held = preparePreference(split.eval, on.loaded, config).examples;
      if (train.length === 0) throw new Error(`${data.name}: the training split is empty`);
      scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length, stepSeparator: config.step_separator });
      try {
        if (asGemma4(on.model)) throw new Error(`Gemma 4: preference training (algorithm "${config.algorithm}") is not supported yet; use "grpo" or "expert_iteration"`);
        const trainer = new PreferenceRunTrainer(on.gpu, on.model as GpuTransformer, on.loaded.tokenizer, config, train, held, scorer);
        const fp = datasetFingerprint(train.map((e) => ({ ...e.prompt, answer: `${e.chosen.join(',')}|${e.rejected?.join(',') ?? ''}|${e.desirable ?? ''}` })));
        return new Run(id, on, trainer, scorer, fp, layout, evalRows);
      } catch (e) {
        scorer.dispose();
        throw e;
      }
    }
    if (config.algorithm === 'sft') {
      // supervised fine-tuning on the prompt/answer rows: no rollouts; evaluation answers the held-out prompts
      const train = preparePrompts(split.train, on.loaded, config);
      const held = preparePrompts(split.eval, on.loaded, config);
      if (train.examples.length === 0) throw new Error(`${data.name}: the training split is empty`);
      scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
      try {
        const engine = asGemma4(on.model) ? null : (on.model as GpuTransformer);
        if (!engine) throw new Error(`${on.loaded.config.modelType}: algorithm "sft" runs on the engine's model; Gemma 4 is supervised from the command line (train --sft)`);
        const trainer = new SftRunTrainer(on.gpu, engine, on.loaded.tokenizer, config, train.examples, held.examples, scorer);
        return new Run(id, on, trainer, scorer, datasetFingerprint(train.examples), layout, evalRows);
      } catch (e) {
        scorer.dispose();
        throw e;
      }
    }
    try {
      // a difficulty scan with the dataset: pass rates joined, cut to pass_rate_band (as the CLI's train --scan)
      const chosen = joinScan(split.train, data.scan ?? null, config, 'scan the dataset in the data panel (Scan difficulty) or upload a scan file there');
      const train = preparePrompts(chosen.rows, on.loaded, config, toolInfos);
      const evalSet = preparePrompts(split.eval, on.loaded, config, toolInfos);
      if (train.examples.length === 0) throw new Error(`${data.name}: the training split is empty`);
      // reward_model entries: the named reward adapters on this run's model (its own base weights)
      scorer = runRewardScorer(on, config, rewardAdapters);
      const trainer = new GrpoTrainer({
        gpu: on.gpu,
        model: on.model,
        tokenizer: on.loaded.tokenizer,
        config,
        train: train.examples,
        eval: evalSet.examples,
        scorer,
        layout,
        tools,
      });
      const run = new Run(id, on, trainer, scorer, datasetFingerprint(train.examples), layout, evalRows, rewardAdapters);
      run.dataNote = chosen.note;
      return run;
    } catch (e) {
      scorer?.dispose();
      tools?.setup.runner.dispose();
      throw e;
    }
  }

  /** The same run on `on` (a new device after a loss): a new trainer for the run's current config, with
   * its id, history and latest checkpoint (the caller restores it). */
  static async moved(old: Run, on: ModelOnDevice, data: LoadedDataset): Promise<Run> {
    const run = await Run.create(on, data, old.config, old.id, old.layout, old.evalRows, old.rewardAdapters);
    run.history = old.history;
    run.lastCheckpoint = old.lastCheckpoint;
    run.parentId = old.parentId;
    return run;
  }

  /** the run's config (its one copy: the trainer's) */
  get config(): GrpoConfig {
    return this.trainer.config;
  }

  get step(): number {
    return this.trainer.step;
  }

  /** A resumed run may be lengthened or shortened and evaluated at another interval; nothing else changes. */
  lengthen(maxSteps: number, evalInterval: number): void {
    this.trainer.setRunLength(maxSteps, evalInterval);
  }

  /** Folds an event the run sent to the page into its history. */
  record(e: TrainEvent): void {
    this.history = reduceRunHistory(this.history, e);
  }

  saveCheckpoint(): Promise<Uint8Array> {
    return saveCheckpoint(this.on.gpu, this.trainer, this.fingerprint);
  }

  /** Loads a checkpoint of this run (same config and data) into its trainer; `source` names it in errors. */
  restore(bytes: Uint8Array, source: string): void {
    restoreCheckpoint(this.on.gpu, this.trainer, bytes, source, this.fingerprint);
  }

  /** Frees the run's GPU buffers and the scorer. */
  release(): void {
    this.trainer.release();
    this.scorer.dispose();
  }

  /** The run's device was lost: its buffers went with it, so only the scorer is freed (nothing is
   * released into the lost device's pool). */
  drop(): void {
    this.scorer.dispose();
    this.trainer.releaseTools();
  }
}

function newRunId(): string {
  return `run-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
