// The worker's run controller: starts, continues, pauses and stops the GRPO run (run.ts) on the model slot's
// model and the dataset slot's dataset; checkpoints it (every checkpoint_interval steps, and when it pauses,
// stops or finishes) into the browser's storage (checkpoint_store.ts) with what the page needs to resume it
// after a reload (the model's and dataset's origins and the drawn history); restores a saved run; and when
// the GPU device is lost mid-run, takes a new device (the model slot uploads the model again) and continues
// from the last checkpoint with the run's current config. A new run is planned first (plan_request.ts: the
// exact memory plan of one step against memory_budget_bytes, 2 GiB when null) and refused before anything is
// allocated when it cannot fit; it runs with the plan's layout on a base stored as base_precision says.

import { exportPeftAdapter, loadAdapterInto, parsePeftAdapter, type PeftAdapterFiles } from '../model/peft_adapter';
import { exportRewardAdapter } from '../model/reward_adapter';
import { PreferenceRunTrainer } from '../grpo/preference/run_trainer';
import { RewardModelTrainer } from '../grpo/reward_model/trainer';
import { parseRunRewardAdapters, rewardAdapterSpecs } from './reward_adapters';
import { exportGemma4Adapter } from '../model/gemma4_trainable';
import type { ColumnMapping } from '../data';
import { autotunerOf } from '../gpu/autotune';
import { modelValidationContext, validateConfig, type GrpoConfig } from '../grpo/config';
import { readCheckpointState } from '../grpo/checkpoint';
import { CheckpointStoreError, DATASET_BYTES_KEPT, modelFilesMismatch, summarizeRecord, type CheckpointStore, type SaveInput, type SavedRunRecord } from './checkpoint_store';
import type { DatasetSlot } from './dataset_slot';
import type { ModelSlot } from './model_slot';
import type { EvalEvent, RestoredRun, RunEnd, RunOrigins, SavedRunSummary, TrainEvent } from './protocol';
import { Run } from './run';
import { datasetKindFor } from '../grpo/preference/data';
import { planForModel } from './plan_request';
import { quantTypesOf } from '../model/quant_storage';
import { refuseUnlessFits } from '../grpo/memory_plan';
import { rewindRunHistory } from './run_history';
import { evalEvent, stepEvent } from './train_events';
import type { TunedAdapter } from './try_model';

export interface RunControllerOptions {
  /** where checkpoints persist (IndexedDB in the worker); without one only the latest is kept, in memory */
  store?: CheckpointStore | null;
  /** device losses one train request recovers from before it gives up */
  maxRecoveries?: number;
}

/** A train request in progress; pause and stop requests are read between steps. */
interface Going {
  interrupt: 'pause' | 'stop' | null;
}

type Emit = (e: TrainEvent) => void;

export class RunController {
  /** the current run: null before the first, after a new model or a lost device while idle */
  private run: Run | null = null;
  private going: Going | null = null;
  /** where the page last said it loaded the model and dataset from (for the checkpoints) */
  private origins: RunOrigins | null = null;
  private readonly store: CheckpointStore | null;
  private rewardAdapterFiles = new Map<string, PeftAdapterFiles>();
  private readonly maxRecoveries: number;

  constructor(
    private readonly models: ModelSlot,
    private readonly data: DatasetSlot,
    options: RunControllerOptions = {},
  ) {
    this.store = options.store ?? null;
    this.maxRecoveries = options.maxRecoveries ?? 3;
  }

  /** a train request is in progress */
  get isRunning(): boolean {
    return this.going !== null;
  }

  /** The current run's adapter (also of a stopped run), for the try-it panel. */
  get adapter(): TunedAdapter | null {
    return this.run ? { lora: this.run.trainer.lora, step: this.run.step } : null;
  }

  /** Ends the current run and frees it (a new model replaces the one it lives on). */
  end(): void {
    this.run?.release();
    this.run = null;
  }

  /** Runs steps until max_steps, a pause or a stop. Continues the current run unless `fresh`. `origins`
   * (what the page loaded the model and dataset from) go into the checkpoints. */
  async train(config: GrpoConfig, fresh: boolean, onEvent: Emit, maxSteps = Infinity, origins?: RunOrigins, fromParent = false): Promise<RunEnd> {
    if (this.going) throw new Error('a training run is already going: pause or stop it first');
    const going: Going = { interrupt: null };
    this.going = going;
    if (origins) this.origins = origins;
    // every event the page sees also goes into the run's own history (for checkpoints)
    const emit: Emit = (e) => {
      this.run?.record(e);
      onEvent(e);
    };
    try {
      await this.renewIfLost(fresh, emit);
      const before = this.run;
      let run = fresh && fromParent ? await this.childRun(config) : await this.runFor(config, fresh);
      if (run !== before && run.dataNote) emit({ kind: 'data', message: run.dataNote });
      let initialEval = run.step === 0 && fresh;
      let done = 0;
      let recoveries = 0;
      let fault: string | null = null;
      for (;;) {
        try {
          if (initialEval) {
            emit(evalEvent(await run.trainer.evaluate()));
            initialEval = false;
          }
          while (run.step < run.config.max_steps && done < maxSteps) {
            if (going.interrupt) break;
            const report = await run.trainer.trainStep();
            await autotunerOf(run.on.gpu)?.afterStep(); // time kernel variants of shapes first met (hardware adapters)
            done++;
            emit(stepEvent(report));
            const c = run.config;
            const due = run.step === c.max_steps || (c.eval_interval > 0 && run.step % c.eval_interval === 0);
            if (due) emit(evalEvent(await run.trainer.evaluate()));
            fault = run.trainer.faulted;
            if (fault) break; // paused, with a checkpoint of the last good update (below)
            const every = c.checkpoint_interval;
            if (every > 0 && run.step % every === 0 && run.step < c.max_steps) await this.checkpoint(run, emit);
          }
          break;
        } catch (e) {
          const lost = await this.models.lostReason();
          if (!lost) throw e;
          if (!this.models.canRenew || recoveries >= this.maxRecoveries) {
            throw new Error(`${lost}; the run stopped at step ${run.step}${recoveries ? ` after ${recoveries} recoveries` : ''}. Reload the page to resume from the last checkpoint`);
          }
          recoveries++;
          emit({ kind: 'deviceLost', message: lost, step: run.step });
          run = await this.recover(run, emit);
        }
      }
      const state: RunEnd['state'] = going.interrupt === 'stop' ? 'stopped' : run.step >= run.config.max_steps ? 'finished' : 'paused';
      if (run.step > 0 && run.lastCheckpoint?.step !== run.step) await this.checkpoint(run, emit);
      if (state === 'stopped') run.ended = true; // the next start begins a new run; the adapter stays exportable
      const ids = run.parentId ? { parentRunId: run.parentId } : {};
      return fault && state === 'paused' ? { state, step: run.step, reason: fault, ...ids } : { state, step: run.step, ...ids };
    } finally {
      this.going = null;
    }
  }

  /** Asks the train request in progress to stop after its current step; false when none is going (a stop
   * then ends the paused run). */
  requestInterrupt(kind: 'pause' | 'stop'): boolean {
    if (!this.going) {
      if (kind === 'stop' && this.run) this.run.ended = true;
      return false;
    }
    this.going.interrupt = kind;
    return true;
  }

  async evaluate(): Promise<EvalEvent> {
    const run = this.requireRun('nothing to evaluate yet: start a run first');
    return evalEvent(await run.trainer.evaluate());
  }

  async exportAdapter(): Promise<PeftAdapterFiles> {
    const run = this.requireRun('there is no adapter to export yet: train at least one step');
    const t = run.trainer;
    // a reward model: PEFT's SEQ_CLS adapter (task_type SEQ_CLS, the score head in modules_to_save)
    if (t instanceof PreferenceRunTrainer && t.inner instanceof RewardModelTrainer) {
      return exportRewardAdapter(run.on.gpu, t.inner.lora, await t.inner.head.read(), run.on.loaded.name, run.config.lora_dropout);
    }
    // Gemma 4's adapters in its own PEFT layout (no k/v on shared layers; both checkpoint layouts' key names)
    if (run.on.loaded.config.gemma4) return exportGemma4Adapter(run.on.gpu, run.trainer.lora, run.on.loaded.name, run.config.lora_dropout);
    return exportPeftAdapter(run.on.gpu, run.trainer.lora, run.on.loaded.name, run.config.lora_dropout);
  }

  /** The reward adapters (saved runs' kept adapters, by the names reward_model entries use) the next new run
   * may score with; replaces the previous set. */
  setRewardAdapters(list: readonly { name: string; weights: Uint8Array; config: string }[]): number {
    this.rewardAdapterFiles = new Map(list.map((a) => [a.name, { weights: a.weights, config: a.config }]));
    return this.rewardAdapterFiles.size;
  }

  /** Loads a PEFT adapter into a new run created from `config` (the adapter's r, alpha, target modules
   * and rsLoRA override the config's). */
  async importAdapter(files: PeftAdapterFiles, config: GrpoConfig): Promise<{ r: number; targetModules: string[] }> {
    const on = this.models.require('load a model before importing an adapter');
    const parsed = parsePeftAdapter(files, on.loaded.config);
    const run = await this.runFor({
      ...config,
      lora_r: parsed.spec.r,
      lora_alpha: parsed.spec.alpha,
      lora_target_modules: parsed.spec.targetModules,
      use_rslora: parsed.spec.useRslora,
    }, true);
    loadAdapterInto(run.on.gpu, run.trainer.lora, parsed);
    // step 0 of this run is the imported adapter, not a fresh one: keep it for recovery from a lost device
    run.lastCheckpoint = { step: 0, bytes: await run.saveCheckpoint() };
    return { r: parsed.spec.r, targetModules: parsed.spec.targetModules };
  }

  // ---- saved runs ----

  /** The run saved in the browser's storage, or null. */
  async savedRun(): Promise<SavedRunSummary | null> {
    const r = await this.store?.latest();
    return r ? summarizeRecord(r) : null;
  }

  async savedRunDataset(): Promise<{ name: string; bytes: Uint8Array; mapping: ColumnMapping }> {
    const { store, record: r } = await this.latestSaved();
    const bytes = await store.datasetBytes(r);
    if (!bytes) throw new Error(`the saved run did not keep its dataset ${r.dataset.name}: pick the file again`);
    return { name: r.dataset.name, bytes, mapping: r.dataset.mapping };
  }

  async discardSavedRun(): Promise<boolean> {
    if (!this.store || !(await this.store.latest())) return false;
    await this.store.discard();
    return true;
  }

  /** Restores the saved run into the loaded model and dataset, paused at its step; train (not fresh)
   * continues it. The current run ends, also when the saved one cannot be restored. */
  async restoreSavedRun(): Promise<RestoredRun> {
    if (this.going) throw new Error('a training run is going: stop it before resuming a saved one');
    const { store, record: r } = await this.latestSaved();
    const on = this.models.require(`load the saved run's model (${r.model.modelName}) first`);
    this.data.require(`load the saved run's dataset (${r.dataset.name}) first`);
    const mismatch = modelFilesMismatch(r.model.files, on.files);
    if (mismatch) throw new Error(`the loaded model is not the one the run was saved with: ${mismatch}`);
    const bytes = await store.checkpoint(r);
    const source = `the saved checkpoint of step ${r.step}`;
    const state = readCheckpointState(bytes, source, modelValidationContext(on.loaded.config));
    this.end();
    const run = await this.newRun(state.config, r.runId);
    try {
      run.restore(bytes, source);
    } catch (e) {
      run.release();
      throw e;
    }
    run.history = rewindRunHistory({ history: r.history, evals: r.evals, rewardNames: r.rewardNames }, run.step);
    run.lastCheckpoint = { step: run.step, bytes };
    run.parentId = r.parentRunId ?? null;
    this.run = run;
    this.origins = { model: originOfModel(r.model), dataset: originOfDataset(r.dataset) };
    return { step: run.step, config: run.config, ...run.history, finished: run.step >= run.config.max_steps };
  }

  // ---- internals ----

  private requireRun(message: string): Run {
    if (!this.run) throw new Error(message);
    return this.run;
  }

  private async latestSaved(): Promise<{ store: CheckpointStore; record: SavedRunRecord }> {
    const record = await this.store?.latest();
    if (!this.store || !record) throw new Error('there is no saved run in this browser');
    return { store: this.store, record };
  }

  /** The run to train: the current one continued (its length and eval interval from `config`), or a new
   * one for `config` (when `fresh`, or there is none, or it was stopped). */
  private async runFor(config: GrpoConfig, fresh: boolean): Promise<Run> {
    const on = this.models.require();
    this.data.require();
    const problems = validateConfig(config, modelValidationContext(on.loaded.config));
    if (problems.length) throw new Error(`the config has ${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
    const current = this.run;
    if (current && !fresh && !current.ended) {
      current.lengthen(config.max_steps, config.eval_interval);
      return current;
    }
    this.end();
    this.run = await this.newRun(config);
    return this.run;
  }

  /** A new run of `config` whose LoRA starts from the current run's adapter (an SFT run continued with GRPO or
   * DPO): the adapter is read from the GPU in PEFT's form (as an export), the parent run ends, and the new run
   * (the parent's r, alpha, target modules and rsLoRA) loads it before its first step; step 0 is kept as its
   * first in-memory checkpoint, so a lost device resumes from the parent's adapter, not a fresh one. */
  private async childRun(config: GrpoConfig): Promise<Run> {
    const parent = this.requireRun('there is no run to continue from: train one (e.g. algorithm "sft") first');
    if (parent.step === 0) throw new Error('the run to continue from has not trained a step yet');
    const files = await exportPeftAdapter(parent.on.gpu, parent.trainer.lora, parent.on.loaded.name, parent.config.lora_dropout);
    const parsed = parsePeftAdapter(files, parent.on.loaded.config);
    const pc = parent.config;
    const run = await this.runFor({ ...config, lora_r: pc.lora_r, lora_alpha: pc.lora_alpha, lora_target_modules: pc.lora_target_modules, use_rslora: pc.use_rslora }, true);
    loadAdapterInto(run.on.gpu, run.trainer.lora, parsed);
    run.parentId = parent.id;
    run.lastCheckpoint = { step: 0, bytes: await run.saveCheckpoint() };
    return run;
  }

  /** A new run of `config` on the loaded model and dataset: planned (a dry run, nothing allocated), refused
   * with the plan when it does not fit the budget, the base uploaded again when base_precision asks for
   * another storage, and the trainer built with the plan's layout. */
  private async newRun(config: GrpoConfig, id?: string): Promise<Run> {
    const loaded = this.models.require();
    const data = this.data.require();
    // reward_model entries: their adapters parsed first (a missing or wrong one stops here), and planned
    const rewardModels = rewardAdapterSpecs(parseRunRewardAdapters(config, loaded.loaded.config, this.rewardAdapterFiles));
    const plan = await planForModel(loaded.gpu, loaded.loaded.config, loaded.loaded.dtype, config, quantTypesOf(loaded.loaded.weights), rewardModels);
    refuseUnlessFits(plan);
    const on = this.models.useBasePrecision(config.base_precision, !!plan.embedOnHost);
    return Run.create(on, data, config, id, plan.layout, this.data.evalRowsAs(datasetKindFor(config.algorithm)), new Map(this.rewardAdapterFiles));
  }

  /** A device lost while no run was going: move to a new one before training (and recover the run that
   * this request continues). */
  private async renewIfLost(fresh: boolean, emit: Emit): Promise<void> {
    const lost = this.models.model?.gpu.lost;
    if (!lost || !this.models.canRenew) return;
    const run = this.run;
    if (run && !fresh && !run.ended) {
      emit({ kind: 'deviceLost', message: lost, step: run.step });
      await this.recover(run, emit);
      return;
    }
    run?.drop();
    this.run = null;
    await this.models.renew();
    emit({ kind: 'recovered', step: 0, message: `${lost}. A new GPU device was acquired and the model uploaded again.` });
  }

  /** After a lost device: a new device, the model, and the run (with its current config) back at its last
   * checkpoint (step 0 of a fresh trainer when there is none yet: with the same seed that is where the
   * run began). */
  private async recover(lost: Run, emit: Emit): Promise<Run> {
    const lostAt = lost.step;
    lost.drop();
    this.run = null;
    const on = await this.models.renew();
    const run = await Run.moved(lost, on, this.data.require());
    const ckpt = run.lastCheckpoint;
    try {
      if (ckpt) run.restore(ckpt.bytes, `the checkpoint of step ${ckpt.step}`);
    } catch (e) {
      run.release();
      throw e;
    }
    this.run = run;
    const redo = lostAt - run.step;
    emit({
      kind: 'recovered',
      step: run.step,
      message: `A new GPU device was acquired, the model uploaded again and the run resumed from ${ckpt ? `the checkpoint of step ${run.step}` : 'its start (no checkpoint yet)'}` +
        (redo > 0 ? `; ${redo} step${redo === 1 ? '' : 's'} after it will be redone (with the same results)` : ''),
    });
    return run;
  }

  /** Takes a checkpoint: in memory always, and in the browser's storage when there is one. A storage
   * problem (e.g. full) is reported as the event's problem; the run goes on. */
  private async checkpoint(run: Run, emit: Emit): Promise<void> {
    const savedAt = Date.now();
    const step = run.step;
    let bytes: Uint8Array;
    try {
      bytes = await run.saveCheckpoint();
    } catch (e) {
      if (await this.models.lostReason()) throw e;
      emit({ kind: 'checkpoint', step, savedAt, problem: `the checkpoint of step ${step} could not be read from the GPU: ${errorMessage(e)}` });
      return;
    }
    run.lastCheckpoint = { step, bytes };
    if (!this.store) return;
    let problem: string | null;
    try {
      problem = await this.store.save(this.saveInput(run, savedAt, bytes));
    } catch (e) {
      problem = e instanceof CheckpointStoreError ? e.message : `the checkpoint of step ${step} could not be saved: ${errorMessage(e)}`;
    }
    emit({ kind: 'checkpoint', step, savedAt, problem });
  }

  /** What the storage keeps of the run: its record (with the page's origins and the current dataset's
   * file, kept when small enough) and the checkpoint's bytes. */
  private saveInput(run: Run, savedAt: number, checkpoint: Uint8Array): SaveInput {
    const { loaded, files } = run.on;
    const data = this.data.require();
    const size = data.bytes.byteLength;
    const stored = size <= DATASET_BYTES_KEPT;
    return {
      runId: run.id,
      step: run.step,
      maxSteps: run.config.max_steps,
      savedAt,
      ...(run.parentId ? { parentRunId: run.parentId } : {}),
      finished: run.step >= run.config.max_steps,
      config: run.config,
      model: { ...(this.origins?.model ?? { kind: 'files' as const, label: loaded.name }), modelName: loaded.name, files },
      dataset: { ...(this.origins?.dataset ?? { kind: 'file' as const, name: data.name }), mapping: data.parsed.mapping, fingerprint: run.fingerprint, stored, size },
      ...run.history,
      checkpoint,
      datasetBytes: stored ? data.bytes : null,
    };
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
