// The GRPO run: Start, Pause, Resume, Stop and Step drive the worker's `train` request, whose progress
// events fill the metric history (every step kept, for export), the evaluations and the recent rollouts.
// The worker checkpoints the run into the browser's storage; when the page opens with a saved run, it is
// offered for resuming (the model and dataset are loaded again, the checkpoint restored, the history
// redrawn, and training continues). Checkpoints, storage problems and lost devices go to the run log.
// Over 400 lines: the run's controls (start, pause, resume, stop, step, resume-after-reload) share one driver
// loop and its state; the history itself is folded by src/worker/run_history.ts.

import { REWARD_MODEL_NAME, rewardModelAdapters } from '../../grpo/rewards/registry';
import { isPreferenceAlgorithm } from '../../grpo/config/enums';
import type { StateCreator } from 'zustand';
import { cloneConfig, summaryValidationContext, validateConfig, type GrpoConfig, type LoraTargetModule } from '../../grpo/config';
import { datasetKindFor } from '../../grpo/preference/data';
import type { EvalEvent, FilePayload, RunOrigins, SavedRunSummary, StepEvent, TrainEvent } from '../../worker/protocol';
import type { EvalPoint, MetricRow } from '../../export/metrics';
import { modelFilesMismatch } from '../../worker/checkpoint_store';
import { reduceRunHistory, type RunHistory } from '../../worker/run_history';
import { errorMessage, requireEngine } from './engine';
import type { AppState } from './types';

export type RunStatus = 'idle' | 'running' | 'pausing' | 'paused' | 'stopping' | 'finished' | 'stopped' | 'error';

/** One line of the run log: what happened to the run besides its steps. */
export interface RunLogEntry {
  at: number;
  level: 'info' | 'warn' | 'error';
  text: string;
}

/** Where resuming a saved run stands. */
export type ResumeState =
  | { phase: 'none' }
  | { phase: 'offered' }
  /** the saved run's model came from files: the person picks them again (problem: what was wrong with the last pick) */
  | { phase: 'model-files'; problem?: string }
  /** the saved run's dataset was too large to keep: the person picks it again */
  | { phase: 'dataset-file'; problem?: string }
  | { phase: 'working'; doing: string }
  | { phase: 'error'; message: string };

/** run log entries kept */
export const RUN_LOG_KEPT = 200;

/** steps of rollouts kept for the inspector */
export const ROLLOUT_STEPS_KEPT = 100;
/** steps whose per-token traces (the token inspector's) are kept; older steps keep their completions only */
export const TRACE_STEPS_KEPT = 10;

/** recipes: the kept steps with token traces dropped from all but the last TRACE_STEPS_KEPT - 1 (memory stays bounded). */
export function withoutOldTraces(events: StepEvent[]): StepEvent[] {
  const cut = events.length - (TRACE_STEPS_KEPT - 1);
  if (cut <= 0) return events;
  const old = events[cut - 1];
  if (!old.groups.some((g) => g.completions.some((c) => c.trace))) return events;
  const stripped: StepEvent = { ...old, groups: old.groups.map((g) => ({ ...g, completions: g.completions.map(({ trace: _t, ...c }) => c) })) };
  return [...events.slice(0, cut - 1), stripped, ...events.slice(cut)];
}

export interface RunSlice {
  runStatus: RunStatus;
  /** between a Start / Resume / Step click and the worker taking the run (the cross-tab lock, the reward models'
   * adapters): the status still shows the last run's, so this keeps a second click from starting a second run */
  runStarting: boolean;
  /** optimizer steps done in this run */
  runStep: number;
  runMaxSteps: number;
  runError: string | null;
  /** time spent running before the current stretch, and when the current stretch began */
  runActiveMs: number;
  runResumedAt: number | null;
  /** the config the run started with (a resumed run keeps it, except max_steps and eval_interval) */
  runConfig: GrpoConfig | null;
  /** every step's metrics, in TRL's names */
  history: MetricRow[];
  evals: EvalPoint[];
  lastEval: EvalEvent | null;
  /** the most recent steps' rollouts, oldest first */
  rollouts: StepEvent[];
  rewardNames: string[];
  rewardErrors: string[];
  /** the worker holds an adapter that can be exported or compared */
  hasAdapter: boolean;
  /** set when the run's adapter came from an import */
  importedAdapter: { name: string; r: number; targetModules: string[] } | null;
  /** the run whose adapter this run's LoRA started from ("Continue with GRPO / DPO" after SFT): its runs-library
   * record, its name there and its algorithm */
  runParent: { recordId: string | null; name: string; algorithm: string } | null;
  /** the run's latest checkpoint, and why it is not in the browser's storage when it is not */
  lastCheckpoint: { step: number; savedAt: number; problem: string | null } | null;
  runLog: RunLogEntry[];
  /** the run saved in this browser when the page opened, until it is resumed or discarded */
  savedRun: SavedRunSummary | null;
  resume: ResumeState;
  startRun(): Promise<void>;
  pauseRun(): Promise<void>;
  resumeRun(): Promise<void>;
  stopRun(): Promise<void>;
  stepRun(): Promise<void>;
  resetRun(): void;
  importAdapter(name: string, weights: Uint8Array, config: string): Promise<void>;
  /** After an SFT run: starts a new run of `algorithm` whose LoRA starts from the SFT run's adapter (one click). */
  continueFromAdapter(algorithm: 'grpo' | 'dpo'): Promise<void>;
  logRun(level: RunLogEntry['level'], text: string): void;
  /** asks the worker for a saved run (once) and offers it */
  checkSavedRun(): Promise<void>;
  /** loads the saved run's model and dataset, restores its checkpoint and continues training */
  resumeSavedRun(): Promise<void>;
  /** the saved run's model files, picked again (checked against the saved names and sizes) */
  provideResumeModelFiles(files: FilePayload[], sizes: { name: string; size: number }[], label: string): Promise<void>;
  /** the saved run's dataset file, picked again */
  provideResumeDatasetFile(name: string, bytes: Uint8Array): Promise<void>;
  discardSavedRun(): Promise<void>;
}

const FRESH = {
  runStep: 0,
  runError: null,
  runActiveMs: 0,
  runResumedAt: null,
  history: [] as MetricRow[],
  evals: [] as EvalPoint[],
  lastEval: null,
  rollouts: [] as StepEvent[],
  rewardNames: [] as string[],
  rewardErrors: [] as string[],
  hasAdapter: false,
  importedAdapter: null,
  lastCheckpoint: null,
  runParent: null,
};

/** Why Start cannot begin now, or null when it can. */
export function startBlocker(s: AppState): string | null {
  if (s.adapter.status === 'unavailable' || s.adapter.status === 'error') return 'WebGPU is not available in this browser.';
  if (s.deviceLost) return 'The GPU device was lost: reload the page.';
  if (s.runStarting) return 'Starting the run…';
  if (s.modelStatus !== 'ready') return s.modelStatus === 'error' ? 'The model did not load.' : 'Load a model first.';
  if (s.datasetStatus !== 'ready') return s.datasetStatus === 'error' ? 'The dataset did not load.' : 'Load a dataset first.';
  if ((s.datasetSummary?.counts.kept ?? 0) === 0) return 'The dataset has no usable rows.';
  const problems = validateConfig(s.config, summaryValidationContext(s.modelSummary));
  if (problems.length) return `Fix ${problems.length === 1 ? 'the setting' : `${problems.length} settings`} flagged in Settings.`;
  return null;
}

/** Asked before every start or resume (the runs library's cross-tab lock): a message refuses it. */
let runGate: (() => Promise<string | null>) | null = null;
export function setRunGate(gate: (() => Promise<string | null>) | null): void {
  runGate = gate;
}

/** Finds the kept adapters that a config's reward_model entries name (the runs library's, by run name or id);
 * a message refuses the start when one is missing. */
export type RewardAdapterSource = (names: string[]) => Promise<{ adapters: { name: string; weights: Uint8Array; config: string }[] } | { error: string }>;
let rewardAdapterSource: RewardAdapterSource | null = null;
export function setRewardAdapterSource(source: RewardAdapterSource | null): void {
  rewardAdapterSource = source;
}

export function isBusy(status: RunStatus): boolean {
  return status === 'running' || status === 'pausing' || status === 'stopping';
}

export const createRunSlice: StateCreator<AppState, [], [], RunSlice> = (set, get) => {
  const log = (level: RunLogEntry['level'], text: string) =>
    set((s) => ({ runLog: [...s.runLog.slice(-(RUN_LOG_KEPT - 1)), { at: Date.now(), level, text }] }));

  /** the drawn history after `e`: the reducer the worker's run uses too (src/worker/run_history.ts) */
  const drawn = (s: AppState, e: TrainEvent): RunHistory =>
    reduceRunHistory({ history: s.history, evals: s.evals, rewardNames: s.rewardNames }, e);

  const onEvent = (e: TrainEvent) => {
    switch (e.kind) {
      case 'step':
        set((s) => ({
          ...drawn(s, e),
          runStep: e.step,
          // log_completions off: the metrics only
          rollouts: s.runConfig?.log_completions === false ? s.rollouts : [...withoutOldTraces(s.rollouts.slice(-(ROLLOUT_STEPS_KEPT - 1))), e],
          rewardErrors: e.rewardErrors,
          hasAdapter: true,
        }));
        void get().refreshGpuStatus();
        break;
      case 'eval':
        // (with no eval split the worker still reports an empty evaluation: nothing to draw)
        if (e.n > 0) set((s) => ({ ...drawn(s, e), lastEval: e }));
        break;
      case 'checkpoint':
        set({ lastCheckpoint: { step: e.step, savedAt: e.savedAt, problem: e.problem } });
        if (e.problem) log('warn', `Checkpoint of step ${e.step} not stored: ${e.problem}.`);
        break;
      case 'deviceLost':
        log('error', `The GPU device was lost after step ${e.step} (${e.message.replace(/\.+$/, '')}). Getting a new device and resuming from the last checkpoint…`);
        break;
      case 'data':
        log('info', e.message);
        break;
      case 'recovered':
        // the steps after the checkpoint are redone: drop them from the charts
        set((s) => ({
          ...drawn(s, e),
          runStep: e.step,
          rollouts: s.rollouts.filter((r) => r.step <= e.step),
          deviceLost: null,
        }));
        log('info', `${e.message}.`);
        break;
    }
  };

  const stopClock = () => {
    const s = get();
    if (s.runResumedAt !== null) set({ runActiveMs: s.runActiveMs + (Date.now() - s.runResumedAt), runResumedAt: null });
  };

  const drive = async (fresh: boolean, maxSteps?: number, parent: RunSlice['runParent'] = null): Promise<void> => {
    if (get().runStarting) return;
    set({ runStarting: true });
    let config: GrpoConfig | null = null;
    try {
      config = await prepare(fresh);
    } catch (e) {
      set({ runError: errorMessage(e) });
      log('error', `The run did not start: ${errorMessage(e)}`);
    } finally {
      set({ runStarting: false });
    }
    if (config) await run(config, fresh, maxSteps, parent);
  };

  /** The cross-tab lock and the reward models' adapters: the run's config, or null (with the reason in the run log)
   * when the run cannot start. */
  const prepare = async (fresh: boolean): Promise<GrpoConfig | null> => {
    const refused = runGate ? await runGate() : null;
    if (refused) {
      set({ runError: refused });
      log('warn', refused);
      return null;
    }
    const config = cloneConfig(get().config);
    // reward_model rewards: the saved runs' reward adapters go to the worker before a new run starts
    const rewardAdapterNames = [...new Set(config.reward_funcs.filter((f) => f.name === REWARD_MODEL_NAME).flatMap((f) => rewardModelAdapters(f.params)))];
    if (fresh && rewardAdapterNames.length && !isPreferenceAlgorithm(config.algorithm)) {
      const found = rewardAdapterSource ? await rewardAdapterSource(rewardAdapterNames) : { error: 'the runs library is not available here' };
      if ('error' in found) {
        set({ runError: found.error });
        log('warn', found.error);
        return null;
      }
      await requireEngine().call({ type: 'rewardAdapters', adapters: found.adapters });
      log('info', `Reward model${found.adapters.length === 1 ? '' : 's'}: ${found.adapters.map((a) => a.name).join(', ')} (on the policy's base weights).`);
    }
    return config;
  };

  const run = async (config: GrpoConfig, fresh: boolean, maxSteps: number | undefined, parent: RunSlice['runParent']): Promise<void> => {
    if (fresh) set({ ...FRESH, runConfig: config, runParent: parent });
    else set((s) => ({ runConfig: s.runConfig ? { ...s.runConfig, max_steps: config.max_steps, eval_interval: config.eval_interval } : config }));
    set({ runStatus: 'running', runError: null, runResumedAt: Date.now(), runMaxSteps: config.max_steps });
    const s = get();
    const origins: RunOrigins | undefined = s.modelSource && s.datasetSource ? { model: s.modelSource, dataset: s.datasetSource } : undefined;
    try {
      const end = await requireEngine().call({ type: 'train', config, fresh, maxSteps, origins, ...(parent ? { fromParent: true } : {}) }, onEvent);
      stopClock();
      set({ runStatus: end.state, runStep: end.step });
      if (end.reason) {
        set({ runError: end.reason });
        log('warn', `Paused at step ${end.step}: ${end.reason}.`);
      }
    } catch (e) {
      stopClock();
      set({ runStatus: 'error', runError: errorMessage(e) });
      log('error', `The run stopped: ${errorMessage(e)}`);
    }
    void get().refreshGpuStatus();
  };

  // ---- resuming a saved run ----

  let checked = false;
  /** files picked again for the saved run, until they are loaded */
  let pickedModel: { files: FilePayload[]; label: string } | null = null;
  let pickedDataset: { name: string; bytes: Uint8Array } | null = null;

  const working = (doing: string) => set({ resume: { phase: 'working', doing } });

  /** Loads the saved run's model; false when the person must pick its files first. */
  const loadSavedModel = async (saved: SavedRunSummary): Promise<boolean> => {
    const m = saved.model;
    const s = get();
    if (m.kind === 'files') {
      if (!pickedModel) return false;
      working(`Loading ${m.modelName}…`);
      const picked = pickedModel;
      pickedModel = null;
      await get().loadModelFiles(picked.files, picked.label);
    } else {
      const same = s.modelStatus === 'ready' && s.modelSummary?.name === m.modelName && s.modelSource?.kind === m.kind &&
        (m.kind === 'builtin' || (s.modelSource.kind === 'url' && s.modelSource.input === m.input));
      if (!same) {
        working(`Loading ${m.modelName}${m.kind === 'url' ? ' from its URL (or the browser cache)' : ''}…`);
        if (m.kind === 'builtin') await get().loadBuiltinModel(m.name);
        else await get().loadModelFromUrls(m.input);
      }
    }
    const after = get();
    if (after.modelStatus !== 'ready') throw new Error(`the model ${m.modelName} did not load: ${after.modelError ?? 'unknown error'}`);
    return true;
  };

  /** Loads the saved run's dataset with its column mapping; false when the person must pick the file first. */
  const loadSavedDataset = async (saved: SavedRunSummary): Promise<boolean> => {
    const d = saved.dataset;
    working(`Loading the dataset ${d.name}…`);
    // read as the saved run's algorithm needs (pairs, labelled completions); the restore then brings its whole config
    if (saved.algorithm && datasetKindFor(saved.algorithm) !== datasetKindFor(get().config.algorithm)) get().replaceConfig({ ...get().config, algorithm: saved.algorithm });
    if (d.kind === 'demo') await get().selectDemoDataset(d.id);
    else if (pickedDataset) {
      const picked = pickedDataset;
      pickedDataset = null;
      await get().uploadDataset(picked.name, picked.bytes);
    } else if (d.stored) {
      const kept = await requireEngine().call({ type: 'savedRunDataset' });
      await get().uploadDataset(kept.name, kept.bytes);
    } else return false;
    if (get().datasetStatus !== 'ready') throw new Error(`the dataset ${d.name} did not load: ${get().datasetError ?? 'unknown error'}`);
    const mapping = get().datasetSummary!.mapping;
    if (mapping.prompt !== d.mapping.prompt || mapping.answer !== d.mapping.answer) {
      await get().setColumnMapping(d.mapping);
      if (get().datasetStatus !== 'ready') throw new Error(`the dataset ${d.name} did not load with its columns ${d.mapping.prompt} / ${d.mapping.answer}: ${get().datasetError ?? ''}`);
    }
    return true;
  };

  return {
    runStatus: 'idle',
    runStarting: false,
    runMaxSteps: 0,
    runConfig: null,
    ...FRESH,
    lastCheckpoint: null,
    runLog: [],
    savedRun: null,
    resume: { phase: 'none' },
    logRun: log,
    async startRun() {
      const s = get();
      if (isBusy(s.runStatus) || startBlocker(s)) return;
      // the new run's first checkpoint replaces the saved one
      if (s.resume.phase !== 'working') set({ savedRun: null, resume: { phase: 'none' } });
      await drive(true);
    },
    async resumeRun() {
      const s = get();
      if (s.runStatus !== 'paused' || startBlocker(s)) return;
      await drive(false);
    },
    async stepRun() {
      const s = get();
      if (isBusy(s.runStatus) || startBlocker(s)) return;
      await drive(s.runStatus !== 'paused', 1);
    },
    async pauseRun() {
      if (get().runStatus !== 'running') return;
      set({ runStatus: 'pausing' });
      await requireEngine().call({ type: 'interrupt', kind: 'pause' });
    },
    async stopRun() {
      const status = get().runStatus;
      if (status === 'running' || status === 'pausing') {
        set({ runStatus: 'stopping' });
        await requireEngine().call({ type: 'interrupt', kind: 'stop' });
      } else if (status === 'paused') {
        await requireEngine().call({ type: 'interrupt', kind: 'stop' });
        set({ runStatus: 'stopped' });
      }
    },
    resetRun() {
      set({ ...FRESH, runStatus: 'idle', runConfig: null, runMaxSteps: 0 });
    },
    async importAdapter(name, weights, configText) {
      if (isBusy(get().runStatus)) throw new Error('Stop the run before importing an adapter.');
      const r = await requireEngine().call({ type: 'importAdapter', weights, config: configText, runConfig: get().config });
      // the adapter's own shape wins over the settings
      let alpha = get().config.lora_alpha;
      let rslora = get().config.use_rslora;
      try {
        const parsed = JSON.parse(configText) as { lora_alpha?: unknown; use_rslora?: unknown };
        if (typeof parsed.lora_alpha === 'number') alpha = parsed.lora_alpha;
        if (typeof parsed.use_rslora === 'boolean') rslora = parsed.use_rslora;
      } catch {
        // the worker already parsed it; keep the settings' values
      }
      set((s) => ({
        config: { ...s.config, lora_r: r.r, lora_alpha: alpha, use_rslora: rslora, lora_target_modules: r.targetModules as LoraTargetModule[] },
      }));
      set({ ...FRESH, runStatus: 'paused', runConfig: cloneConfig(get().config), runMaxSteps: get().config.max_steps, hasAdapter: true, importedAdapter: { name, r: r.r, targetModules: r.targetModules } });
    },
    async continueFromAdapter(algorithm) {
      const s = get();
      const parent = s.runConfig;
      if (!parent || parent.algorithm !== 'sft' || !s.hasAdapter || isBusy(s.runStatus)) return;
      // the new run keeps the SFT adapter's shape; DPO needs a positive beta (TRL's default 0.1)
      const next: GrpoConfig = {
        ...cloneConfig(s.config),
        algorithm,
        sft_coef: 0,
        lora_r: parent.lora_r,
        lora_alpha: parent.lora_alpha,
        lora_target_modules: [...parent.lora_target_modules],
        use_rslora: parent.use_rslora,
        ...(algorithm === 'dpo' && !(s.config.beta > 0) ? { beta: 0.1 } : {}),
      };
      get().replaceConfig(next);
      // DPO reads the loaded dataset as pairs (prompt/chosen/rejected): a preference file must be loaded
      if (algorithm === 'dpo') await get().reparseForAlgorithm();
      const blocker = startBlocker(get());
      if (blocker) {
        set({ runError: blocker });
        log('warn', `Continue with ${algorithm.toUpperCase()}: ${blocker}`);
        return;
      }
      const name = s.libraryRuns.find((r) => r.run.id === s.recordingId)?.run.name ?? 'the SFT run';
      log('info', `Continuing with ${algorithm.toUpperCase()} from the adapter of ${name} (step ${s.runStep}).`);
      await drive(true, undefined, { recordId: s.recordingId, name, algorithm: parent.algorithm });
    },
    async checkSavedRun() {
      if (checked) return;
      checked = true;
      try {
        const saved = await requireEngine().call({ type: 'savedRun' });
        // (a run started meanwhile replaces it)
        if (saved && get().runStatus === 'idle') set({ savedRun: saved, resume: { phase: 'offered' } });
      } catch (e) {
        log('warn', `The saved run could not be read from this browser's storage: ${errorMessage(e)}`);
      }
    },
    async resumeSavedRun() {
      const saved = get().savedRun;
      if (!saved || get().resume.phase === 'working' || isBusy(get().runStatus)) return;
      try {
        if (!(await loadSavedModel(saved))) {
          set({ resume: { phase: 'model-files' } });
          return;
        }
        if (!(await loadSavedDataset(saved))) {
          set({ resume: { phase: 'dataset-file' } });
          return;
        }
        working(`Restoring the checkpoint of step ${saved.step}…`);
        const r = await requireEngine().call({ type: 'restoreSavedRun' });
        get().replaceConfig(r.config);
        const activeMs = r.history.reduce((a, h) => a + (Number.isFinite(h.step_time) ? h.step_time * 1000 : 0), 0);
        set({
          ...FRESH,
          runConfig: cloneConfig(r.config),
          runMaxSteps: r.config.max_steps,
          runStep: r.step,
          runActiveMs: activeMs,
          history: r.history,
          evals: r.evals,
          rewardNames: r.rewardNames,
          hasAdapter: true,
          runStatus: r.finished ? 'finished' : 'paused',
          lastCheckpoint: { step: r.step, savedAt: saved.savedAt, problem: null },
          savedRun: null,
          resume: { phase: 'none' },
        });
        log('info', `Resumed the run saved at step ${r.step} (${new Date(saved.savedAt).toLocaleString()}).`);
        if (r.finished) return;
        const blocker = startBlocker(get());
        if (blocker) log('warn', `The run was restored but cannot continue yet: ${blocker}`);
        else await get().resumeRun();
      } catch (e) {
        const message = errorMessage(e);
        // a file picked again that does not fit is picked again
        if (saved.dataset.kind === 'file' && !saved.dataset.stored && /other training data|dataset/.test(message)) set({ resume: { phase: 'dataset-file', problem: message } });
        else if (saved.model.kind === 'files' && /model/.test(message) && !/dataset|training data/.test(message)) set({ resume: { phase: 'model-files', problem: message } });
        else set({ resume: { phase: 'error', message } });
      }
    },
    async provideResumeModelFiles(files, sizes, label) {
      const saved = get().savedRun;
      if (!saved) return;
      const mismatch = modelFilesMismatch(saved.model.files, sizes);
      if (mismatch) {
        set({ resume: { phase: 'model-files', problem: `These are not the files the run was saved with: ${mismatch}.` } });
        return;
      }
      pickedModel = { files, label };
      await get().resumeSavedRun();
    },
    async provideResumeDatasetFile(name, bytes) {
      if (!get().savedRun) return;
      pickedDataset = { name, bytes };
      await get().resumeSavedRun();
    },
    async discardSavedRun() {
      set({ savedRun: null, resume: { phase: 'none' } });
      try {
        await requireEngine().call({ type: 'discardSavedRun' });
      } catch (e) {
        log('warn', `The saved run could not be deleted: ${errorMessage(e)}`);
      }
    },
  };
};
