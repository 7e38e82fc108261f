// The worker's training state: the loaded model (host and GPU), the dataset, and the GRPO run. All GPU
// work of training happens here, inside the engine worker; the page only sends requests and draws.
//
// The run is checkpointed (every checkpoint_interval steps, and when it pauses, stops or finishes) into
// the browser's storage (checkpoint_store.ts) with what the page needs to resume it after a reload: the
// model's and dataset's origins and the metric history. When the GPU device is lost mid-run, the session
// takes a new device, uploads the model again and continues from the last checkpoint.

import type { GpuRuntime } from '../gpu/runtime';
import { autotunerOf } from '../gpu/autotune';
import { loadModelFiles, type FileSource, type LoadedModel } from '../model/load';
import { llamaParamCount } from '../model/config';
import { GpuTransformer } from '../model/transformer';
import { exportPeftAdapter, loadAdapterInto, parsePeftAdapter, type PeftAdapterFiles } from '../model/peft_adapter';
import { parseDatasetBytes, parseDatasetStream, splitDataset, type ColumnMapping, type DatasetRow, type ParsedDataset, type PromptSettings } from '../data';
import { defaultConfig, validateConfig, type GrpoConfig } from '../grpo/config';
import { generate } from '../model/generate';
import { completionLogprobs } from '../model/logprobs';
import type { LoraSet } from '../model/lora';
import { createRewardScorer, type RewardScorer } from '../grpo/rewards_scorer';
import { preparePrompts } from '../grpo/prompts';
import { GrpoTrainer, type EvalReport, type StepReport } from '../grpo/trainer';
import { datasetFingerprint, readCheckpointState, restoreCheckpoint, saveCheckpoint } from '../grpo/checkpoint';
import type { EvalPoint, MetricRow } from '../export/metrics';
import { CheckpointStoreError, DATASET_BYTES_KEPT, modelFilesMismatch, summarizeRecord, type CheckpointStore, type SavedRunRecord } from './checkpoint_store';
import type {
  DatasetLoadProgress,
  DatasetSummary,
  RestoredRun,
  RunOrigins,
  SavedRunSummary,
  EvalEvent,
  GenerateRequest,
  GenerateResult,
  GenerationView,
  ModelSummary,
  RunEnd,
  StepEvent,
  TokenLengths,
  TrainEvent,
} from './protocol';

const PREVIEW_ROWS = 20;
const MAX_ISSUES_SHOWN = 200;
/** Least time between two progress reports while a dataset loads. */
const PROGRESS_MS = 100;

export interface SessionOptions {
  /** acquires a new device after a loss (the worker's); without it a lost device ends the run */
  renewGpu?: () => Promise<GpuRuntime>;
  /** where checkpoints persist (IndexedDB in the worker); without one only the latest is kept, in memory */
  store?: CheckpointStore | null;
  /** device losses one train request recovers from before it gives up */
  maxRecoveries?: number;
}

export class TrainingSession {
  private loaded: LoadedModel | null = null;
  /** names and sizes of the files the model was read from (a resumed run checks them) */
  private modelFiles: { name: string; size: number }[] = [];
  private model: GpuTransformer | null = null;
  /** the device the model and the run live on */
  private modelGpu: GpuRuntime | null = null;
  private dataset: ParsedDataset | null = null;
  private datasetName = '';
  private datasetBytes: Uint8Array | null = null;
  private trainer: GrpoTrainer | null = null;
  private scorer: RewardScorer | null = null;
  private runConfig: GrpoConfig | null = null;
  /** set by pause/stop requests, read between steps */
  private interrupt: 'pause' | 'stop' | null = null;
  private running = false;
  // the run's record, for checkpoints
  private runId = '';
  private fingerprint = '';
  private origins: RunOrigins | null = null;
  private history: MetricRow[] = [];
  private evals: EvalPoint[] = [];
  private rewardNames: string[] = [];
  /** the latest checkpoint's bytes, kept here too: a lost device resumes from it even when storage is full */
  private lastCheckpoint: { step: number; bytes: Uint8Array } | null = null;
  private readonly store: CheckpointStore | null;

  constructor(
    private readonly gpu: () => Promise<GpuRuntime>,
    private readonly options: SessionOptions = {},
  ) {
    this.store = options.store ?? null;
  }

  async loadModel(files: FileSource[]): Promise<ModelSummary> {
    const loaded = await loadModelFiles(files);
    const gpu = await this.liveGpu();
    this.endRun();
    this.model?.release();
    this.model = null;
    this.model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    this.modelGpu = gpu;
    this.loaded = loaded;
    this.modelFiles = files.map((f) => ({ name: f.name, size: f.size }));
    const c = loaded.config;
    return {
      name: loaded.name,
      architecture: c.architecture,
      params: llamaParamCount(c),
      layers: c.numLayers,
      hiddenSize: c.hiddenSize,
      intermediateSize: c.intermediateSize,
      numHeads: c.numHeads,
      numKvHeads: c.numKvHeads,
      headDim: c.headDim,
      vocabSize: c.vocabSize,
      maxPositions: c.maxPositionEmbeddings,
      dtype: loaded.dtype,
      weightBytes: this.model.bytes,
      hasChatTemplate: !!loaded.chatTemplate,
    };
  }

  loadDataset(name: string, bytes: Uint8Array, mapping?: Partial<ColumnMapping>): DatasetSummary {
    return this.keepDataset(name, bytes, parseDatasetBytes(bytes, name, { mapping }));
  }

  /**
   * The same as loadDataset for a file read in chunks: each chunk is checked, decoded and parsed as it
   * arrives (yielding to the event loop now and then, so that other requests are answered), with
   * `onProgress` told the bytes done at most every PROGRESS_MS.
   */
  async loadDatasetStreamed(name: string, file: Blob, mapping: Partial<ColumnMapping> | undefined, onProgress?: (p: DatasetLoadProgress) => void): Promise<DatasetSummary> {
    const total = file.size;
    const bytes = new Uint8Array(total);
    let filled = 0;
    async function* chunks(): AsyncIterable<Uint8Array> {
      const reader = file.stream().getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          if (filled + value.length > total) throw new Error(`${name} grew while it was being read`);
          bytes.set(value, filled);
          filled += value.length;
          yield value;
        }
      } finally {
        reader.releaseLock();
      }
    }
    let last = -Infinity;
    onProgress?.({ bytes: 0, total });
    const ds = await parseDatasetStream(chunks(), name, (done) => {
      const now = performance.now();
      if (now - last < PROGRESS_MS && done < total) return;
      last = now;
      onProgress?.({ bytes: done, total });
    }, { mapping });
    return this.keepDataset(name, filled === total ? bytes : bytes.subarray(0, filled), ds);
  }

  private keepDataset(name: string, bytes: Uint8Array, ds: ParsedDataset): DatasetSummary {
    this.dataset = ds;
    this.datasetName = name;
    this.datasetBytes = bytes;
    return {
      name,
      format: ds.format,
      columns: ds.columns,
      mapping: ds.mapping,
      counts: ds.counts,
      issues: ds.issues.slice(0, MAX_ISSUES_SHOWN),
      issuesOmitted: ds.issuesOmitted + Math.max(0, ds.issues.length - MAX_ISSUES_SHOWN),
      preview: ds.rows.slice(0, PREVIEW_ROWS).map((r) => ({ line: r.line, prompt: r.prompt, answer: r.answer, raw: r.raw })),
    };
  }

  /** Runs steps until max_steps, a pause or a stop. Continues the current run unless `fresh`. `origins`
   * (what the page loaded the model and dataset from) go into the checkpoints. */
  async run(config: GrpoConfig, fresh: boolean, onEvent: (e: TrainEvent) => void, maxSteps = Infinity, origins?: RunOrigins): Promise<RunEnd> {
    if (this.running) throw new Error('a training run is already going: pause or stop it first');
    this.running = true;
    this.interrupt = null;
    if (origins) this.origins = origins;
    const emit = (e: TrainEvent) => {
      this.record(e);
      onEvent(e);
    };
    try {
      // a device lost while no run was going: move to a new one first
      const lost = this.modelGpu?.lost;
      if (lost && this.options.renewGpu && this.model) {
        if (fresh || !this.trainer) {
          await this.moveToNewGpu();
          onEvent({ kind: 'recovered', step: 0, message: `${lost}. A new GPU device was acquired and the model uploaded again.` });
        } else {
          onEvent({ kind: 'deviceLost', message: lost, step: this.trainer.step });
          await this.recover(onEvent);
        }
      }
      let trainer = await this.trainerFor(config, fresh);
      const c = () => trainer.config;
      let initialEval = trainer.step === 0 && fresh;
      let done = 0;
      let recoveries = 0;
      let fault: string | null = null;
      for (;;) {
        try {
          if (initialEval) {
            emit(evalEvent(await trainer.evaluate()));
            initialEval = false;
          }
          while (trainer.step < c().max_steps && done < maxSteps) {
            if (this.interrupt) break;
            const report = await trainer.trainStep();
            if (this.modelGpu) await autotunerOf(this.modelGpu)?.afterStep(); // gpuvar: time kernel variants of new shapes
            done++;
            emit(stepEvent(report));
            const due = trainer.step === c().max_steps || (c().eval_interval > 0 && trainer.step % c().eval_interval === 0);
            if (due) emit(evalEvent(await trainer.evaluate()));
            fault = trainer.faulted;
            if (fault) break; // paused, with a checkpoint of the last good update (below)
            const every = c().checkpoint_interval;
            if (every > 0 && trainer.step % every === 0 && trainer.step < c().max_steps) await this.checkpoint(trainer, onEvent);
          }
          break;
        } catch (e) {
          const lost = await this.lostReason();
          if (!lost) throw e;
          if (!this.options.renewGpu || recoveries >= (this.options.maxRecoveries ?? 3)) {
            throw new Error(`${lost}; the run stopped at step ${trainer.step}${recoveries ? ` after ${recoveries} recoveries` : ''}. Reload the page to resume from the last checkpoint`);
          }
          recoveries++;
          onEvent({ kind: 'deviceLost', message: lost, step: trainer.step });
          trainer = await this.recover(onEvent);
        }
      }
      const interrupted = this.interrupt as 'pause' | 'stop' | null;
      const state: RunEnd['state'] =
        interrupted === 'stop' ? 'stopped' : trainer.step >= c().max_steps ? 'finished' : 'paused';
      if (trainer.step > 0 && this.lastCheckpoint?.step !== trainer.step) await this.checkpoint(trainer, onEvent);
      if (state === 'stopped') this.runConfig = null; // the next start begins a new run; the adapter stays exportable
      return fault && state === 'paused' ? { state, step: trainer.step, reason: fault } : { state, step: trainer.step };
    } finally {
      this.running = false;
      this.interrupt = null;
    }
  }

  /** a train request is in progress */
  get isRunning(): boolean {
    return this.running;
  }

  requestInterrupt(kind: 'pause' | 'stop'): boolean {
    if (!this.running) {
      if (kind === 'stop') this.runConfig = null;
      return false;
    }
    this.interrupt = kind;
    return true;
  }

  async evaluate(): Promise<EvalEvent> {
    if (!this.trainer) throw new Error('nothing to evaluate yet: start a run first');
    return evalEvent(await this.trainer.evaluate());
  }

  async exportAdapter(): Promise<PeftAdapterFiles> {
    if (!this.trainer || !this.loaded) throw new Error('there is no adapter to export yet: train at least one step');
    return exportPeftAdapter(this.modelGpu!, this.trainer.lora, this.loaded.name, this.trainer.config.lora_dropout);
  }

  /** Loads a PEFT adapter into the current run's LoRA (creating the run from `config` if there is none). */
  async importAdapter(files: PeftAdapterFiles, config: GrpoConfig): Promise<{ r: number; targetModules: string[] }> {
    if (!this.loaded) throw new Error('load a model before importing an adapter');
    const parsed = parsePeftAdapter(files, this.loaded.config);
    const trainer = await this.trainerFor({
      ...config,
      lora_r: parsed.spec.r,
      lora_alpha: parsed.spec.alpha,
      lora_target_modules: parsed.spec.targetModules,
      use_rslora: parsed.spec.useRslora,
    }, true);
    loadAdapterInto(this.modelGpu!, trainer.lora, parsed);
    // step 0 of this run is the imported adapter, not a fresh one: keep it for recovery from a lost device
    this.lastCheckpoint = { step: 0, bytes: await saveCheckpoint(this.modelGpu!, trainer, this.fingerprint) };
    return { r: parsed.spec.r, targetModules: parsed.spec.targetModules };
  }

  /** Token lengths of every kept row's prompt (as the model will see it) and answer. CPU only. */
  tokenLengths(settings: PromptSettings): TokenLengths {
    if (!this.loaded) throw new Error('load a model first: token lengths depend on its tokenizer');
    if (!this.dataset) throw new Error('load a dataset first');
    const loaded = this.loaded;
    const prompts = this.promptIds(this.dataset.rows, settings, Number.MAX_SAFE_INTEGER);
    const prompt = Uint32Array.from(prompts, (p) => p.ids.length);
    const answer = Uint32Array.from(this.dataset.rows, (r) => loaded.tokenizer.encode(r.answer, { addBos: false }).length);
    return { prompt, answer };
  }

  /** One prompt completed by the base model (LoRA off) and by the current adapter, with the same seed;
   * and the log-probability of `answer` as the completion under each. */
  async generate(r: GenerateRequest): Promise<GenerateResult> {
    if (!this.loaded || !this.model) throw new Error('load a model first');
    if (this.running) throw new Error('a training run is going: pause it to try the model');
    const { tokenizer, config: mc } = this.loaded;
    const maxNew = Math.max(1, Math.floor(r.maxNewTokens));
    const [prompt] = this.promptIds([{ prompt: r.prompt, answer: r.answer ?? '', line: 1, raw: {} }], r.settings, Math.max(1, mc.maxPositionEmbeddings - maxNew));
    const answerIds = r.answer ? tokenizer.encode(r.answer, { addBos: false }) : [];
    const model = this.model;
    const complete = async (lora: LoraSet | null): Promise<GenerationView> => {
      const gen = await generate(model, [prompt.ids], {
        maxNewTokens: maxNew,
        temperature: r.temperature,
        topK: r.topK,
        topP: r.topP,
        seed: r.seed >>> 0,
        stopIds: tokenizer.eosIds,
        lora,
      });
      let answerLogprob: number | null = null;
      if (answerIds.length > 0 && prompt.ids.length + answerIds.length <= mc.maxPositionEmbeddings) {
        const lp = await completionLogprobs(model, [{ prompt: prompt.ids, completion: answerIds }], lora, 1);
        answerLogprob = lp.logprobs[0].reduce((a, b) => a + b, 0);
      }
      const ids = gen.tokens[0];
      // (an immediate end-of-sequence is an empty completion; some tokenizers refuse to decode [])
      return { text: ids.length ? tokenizer.decode(ids) : '', tokens: ids.length, finish: gen.finish[0], answerLogprob };
    };
    const base = await complete(null);
    const tuned = this.trainer ? await complete(this.trainer.lora) : null;
    return { promptText: prompt.text, promptTokens: prompt.ids.length, answerTokens: answerIds.length, base, tuned, step: this.trainer?.step ?? 0 };
  }

  private promptIds(rows: readonly DatasetRow[], settings: PromptSettings, maxLength: number) {
    const loaded = this.loaded!;
    const c = { ...defaultConfig(), ...settings, max_prompt_length: maxLength };
    return preparePrompts(rows, loaded, c).examples;
  }

  private async trainerFor(config: GrpoConfig, fresh: boolean): Promise<GrpoTrainer> {
    if (!this.loaded || !this.model) throw new Error('load a model first');
    if (!this.dataset) throw new Error('load a dataset first');
    const problems = validateConfig(config, { maxSequenceLength: this.loaded.config.maxPositionEmbeddings });
    if (problems.length) throw new Error(`the config has ${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
    if (this.trainer && !fresh && this.runConfig) {
      // a resumed run keeps its config except its length and eval interval
      this.trainer.setRunLength(config.max_steps, config.eval_interval);
      return this.trainer;
    }
    const trainer = await this.newTrainer(config);
    this.runId = `run-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
    this.history = [];
    this.evals = [];
    this.rewardNames = [];
    this.lastCheckpoint = null;
    return trainer;
  }

  /** A trainer at step 0 for `config` on the loaded model and dataset (any earlier one ends). */
  private async newTrainer(config: GrpoConfig): Promise<GrpoTrainer> {
    this.endRun();
    const loaded = this.loaded!;
    const split = splitDataset(this.dataset!.rows, config.eval_split, config.seed);
    const train = preparePrompts(split.train, loaded, config);
    const evalSet = preparePrompts(split.eval, loaded, config);
    if (train.examples.length === 0) throw new Error(`${this.datasetName}: the training split is empty`);
    this.scorer = createRewardScorer(config.reward_funcs, config.max_completion_length);
    this.trainer = new GrpoTrainer({
      gpu: this.modelGpu!,
      model: this.model!,
      tokenizer: loaded.tokenizer,
      config,
      train: train.examples,
      eval: evalSet.examples,
      scorer: this.scorer,
    });
    this.fingerprint = datasetFingerprint(train.examples);
    this.runConfig = config;
    return this.trainer;
  }

  // ---- checkpoints ----

  /** Keeps what the page drew: every step's metrics and the evaluations (as the page's run slice does). */
  private record(e: TrainEvent): void {
    if (e.kind === 'step') {
      this.history.push({ step: e.step, ...e.metrics });
      this.rewardNames = e.rewardNames;
    } else if (e.kind === 'eval' && e.n > 0) {
      this.evals = [...this.evals.filter((x) => x.step !== e.step), { step: e.step, passAt1: e.passAt1, rewardMean: e.rewardMean }];
    }
  }

  /** Takes a checkpoint: in memory always, and in the browser's storage when there is one. A storage
   * problem (e.g. full) is reported as the event's problem; the run goes on. */
  private async checkpoint(trainer: GrpoTrainer, onEvent: (e: TrainEvent) => void): Promise<void> {
    const savedAt = Date.now();
    let bytes: Uint8Array;
    try {
      bytes = await saveCheckpoint(this.modelGpu!, trainer, this.fingerprint);
    } catch (e) {
      if (await this.lostReason()) throw e;
      onEvent({ kind: 'checkpoint', step: trainer.step, savedAt, problem: `the checkpoint of step ${trainer.step} could not be read from the GPU: ${errorMessage(e)}` });
      return;
    }
    this.lastCheckpoint = { step: trainer.step, bytes };
    if (!this.store) return;
    let problem: string | null;
    try {
      problem = await this.store.save({
        runId: this.runId,
        step: trainer.step,
        maxSteps: trainer.config.max_steps,
        savedAt,
        finished: trainer.step >= trainer.config.max_steps,
        config: trainer.config,
        model: this.savedModel(),
        dataset: this.savedDataset(),
        history: this.history,
        evals: this.evals,
        rewardNames: this.rewardNames,
        checkpoint: bytes,
        datasetBytes: this.datasetBytes && this.datasetBytes.byteLength <= DATASET_BYTES_KEPT ? this.datasetBytes : null,
      });
    } catch (e) {
      problem = e instanceof CheckpointStoreError ? e.message : `the checkpoint of step ${trainer.step} could not be saved: ${errorMessage(e)}`;
    }
    onEvent({ kind: 'checkpoint', step: trainer.step, savedAt, problem });
  }

  private savedModel(): SavedRunRecord['model'] {
    const origin = this.origins?.model ?? { kind: 'files' as const, label: this.loaded!.name };
    return { ...origin, modelName: this.loaded!.name, files: this.modelFiles };
  }

  private savedDataset(): SavedRunRecord['dataset'] {
    const origin = this.origins?.dataset ?? { kind: 'file' as const, name: this.datasetName };
    const size = this.datasetBytes?.byteLength ?? 0;
    return { ...origin, mapping: this.dataset!.mapping, fingerprint: this.fingerprint, stored: size <= DATASET_BYTES_KEPT, size };
  }

  /** The run saved in the browser's storage, or null. */
  async savedRun(): Promise<SavedRunSummary | null> {
    const r = await this.store?.latest();
    return r ? summarizeRecord(r) : null;
  }

  async savedRunDataset(): Promise<{ name: string; bytes: Uint8Array; mapping: ColumnMapping }> {
    const r = await this.store?.latest();
    if (!r) throw new Error('there is no saved run in this browser');
    const bytes = await this.store!.datasetBytes(r);
    if (!bytes) throw new Error(`the saved run did not keep its dataset ${r.dataset.name}: pick the file again`);
    return { name: r.dataset.name, bytes, mapping: r.dataset.mapping };
  }

  async discardSavedRun(): Promise<boolean> {
    if (!this.store || !(await this.store.latest())) return false;
    await this.store.discard();
    return true;
  }

  /** Restores the saved run into the loaded model and dataset, paused at its step; train (not fresh) continues it. */
  async restoreSavedRun(): Promise<RestoredRun> {
    if (this.running) throw new Error('a training run is going: stop it before resuming a saved one');
    const r = await this.store?.latest();
    if (!r) throw new Error('there is no saved run in this browser');
    if (!this.loaded || !this.model) throw new Error(`load the saved run's model (${r.model.modelName}) first`);
    if (!this.dataset) throw new Error(`load the saved run's dataset (${r.dataset.name}) first`);
    const mismatch = modelFilesMismatch(r.model.files, this.modelFiles);
    if (mismatch) throw new Error(`the loaded model is not the one the run was saved with: ${mismatch}`);
    const bytes = await this.store!.checkpoint(r);
    const state = readCheckpointState(bytes, `the saved checkpoint of step ${r.step}`);
    try {
      const trainer = await this.newTrainer(state.config);
      restoreCheckpoint(this.modelGpu!, trainer, bytes, `the saved checkpoint of step ${r.step}`, this.fingerprint);
      this.runId = r.runId;
      this.history = r.history.filter((h) => h.step <= trainer.step);
      this.evals = r.evals.filter((e) => e.step <= trainer.step);
      this.rewardNames = r.rewardNames;
      this.origins = { model: originOfModel(r.model), dataset: originOfDataset(r.dataset) };
      this.lastCheckpoint = { step: trainer.step, bytes };
      return {
        step: trainer.step,
        config: trainer.config,
        history: this.history,
        evals: this.evals,
        rewardNames: this.rewardNames,
        finished: trainer.step >= trainer.config.max_steps,
      };
    } catch (e) {
      this.endRun();
      throw e;
    }
  }

  // ---- device loss ----

  /** The reason the run's device was lost, or null; waits a moment, since the loss may be reported
   * just after the call it made fail. */
  private async lostReason(): Promise<string | null> {
    const gpu = this.modelGpu;
    if (!gpu) return null;
    if (gpu.lost) return gpu.lost;
    return Promise.race([
      gpu.device.lost.then(() => gpu.lost ?? 'GPU device lost'),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 1000)),
    ]);
  }

  /** The worker's device, or a new one when it was lost (and a new one can be had). */
  private async liveGpu(): Promise<GpuRuntime> {
    const gpu = await this.gpu();
    return gpu.lost && this.options.renewGpu ? this.options.renewGpu() : gpu;
  }

  /** A new device with the model uploaded to it again (the host keeps the weights). */
  private async moveToNewGpu(): Promise<void> {
    const gpu = await this.options.renewGpu!();
    // the old device's buffers went with it: drop them without releasing into its pool
    this.trainer = null;
    this.scorer?.dispose();
    this.scorer = null;
    this.model = GpuTransformer.upload(gpu, this.loaded!.config, this.loaded!.weights);
    this.modelGpu = gpu;
  }

  /** After a lost device: a new device, the model, and the run back at its last checkpoint (step 0 of a
   * fresh trainer when there is none yet: with the same seed that is where the run began). */
  private async recover(onEvent: (e: TrainEvent) => void): Promise<GrpoTrainer> {
    const config = this.runConfig;
    if (!config || !this.loaded) throw new Error('the GPU device was lost and there is no run to resume');
    const lostAt = this.trainer?.step ?? 0;
    await this.moveToNewGpu();
    const trainer = await this.newTrainer(config);
    const ckpt = this.lastCheckpoint;
    if (ckpt) restoreCheckpoint(this.modelGpu!, trainer, ckpt.bytes, `the checkpoint of step ${ckpt.step}`, this.fingerprint);
    this.history = this.history.filter((h) => h.step <= trainer.step);
    this.evals = this.evals.filter((e) => e.step <= trainer.step);
    const redo = lostAt - trainer.step;
    onEvent({
      kind: 'recovered',
      step: trainer.step,
      message: `A new GPU device was acquired, the model uploaded again and the run resumed from ${ckpt ? `the checkpoint of step ${trainer.step}` : 'its start (no checkpoint yet)'}` +
        (redo > 0 ? `; ${redo} step${redo === 1 ? '' : 's'} after it will be redone (with the same results)` : ''),
    });
    return trainer;
  }

  private endRun(): void {
    this.trainer?.release();
    this.trainer = null;
    this.scorer?.dispose();
    this.scorer = null;
    this.runConfig = null;
  }
}

function originOfModel(m: SavedRunRecord['model']): RunOrigins['model'] {
  return m.kind === 'builtin' ? { kind: 'builtin', name: m.name } : m.kind === 'files' ? { kind: 'files', label: m.label } : { kind: 'url', input: m.input, repo: m.repo };
}

function originOfDataset(d: SavedRunRecord['dataset']): RunOrigins['dataset'] {
  return d.kind === 'demo' ? { kind: 'demo', id: d.id, name: d.name } : { kind: 'file', name: d.name };
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function stepEvent(r: StepReport): StepEvent {
  return {
    kind: 'step',
    step: r.step,
    metrics: r.metrics,
    rewardNames: r.rewardNames,
    rewardErrors: r.rewardErrors.slice(0, 20),
    groups: r.groups.map((g) => ({
      prompt: g.prompt.text,
      answer: g.prompt.answer,
      rewardStd: g.rewardStd,
      completions: g.completions.map((c) => ({
        text: c.text,
        tokens: c.trainIds.length,
        truncated: c.truncated,
        rewards: c.rewards,
        reward: c.reward,
        advantage: c.advantage,
      })),
    })),
  };
}

function evalEvent(e: EvalReport): EvalEvent {
  return { kind: 'eval', step: e.step, passAt1: e['pass@1'], rewardMean: e.reward_mean, n: e.n, samples: e.samples.slice(0, 20) };
}
