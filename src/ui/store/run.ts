// The GRPO run: Start, Pause, Resume, Stop and Step drive the worker's `train` request, whose progress
// events fill the metric history (every step kept, for export), the evaluations and the recent rollouts.

import type { StateCreator } from 'zustand';
import { cloneConfig, validateConfig, type GrpoConfig, type LoraTargetModule } from '../../grpo/config';
import type { EvalEvent, StepEvent, TrainEvent } from '../../worker/protocol';
import type { EvalPoint, MetricRow } from '../../export/metrics';
import { errorMessage, requireEngine } from './engine';
import type { AppState } from './types';

export type RunStatus = 'idle' | 'running' | 'pausing' | 'paused' | 'stopping' | 'finished' | 'stopped' | 'error';

/** steps of rollouts kept for the inspector */
export const ROLLOUT_STEPS_KEPT = 100;

export interface RunSlice {
  runStatus: RunStatus;
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
  startRun(): Promise<void>;
  pauseRun(): Promise<void>;
  resumeRun(): Promise<void>;
  stopRun(): Promise<void>;
  stepRun(): Promise<void>;
  resetRun(): void;
  importAdapter(name: string, weights: Uint8Array, config: string): Promise<void>;
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
};

/** Why Start cannot begin now, or null when it can. */
export function startBlocker(s: AppState): string | null {
  if (s.adapter.status === 'unavailable' || s.adapter.status === 'error') return 'WebGPU is not available in this browser.';
  if (s.deviceLost) return 'The GPU device was lost: reload the page.';
  if (s.modelStatus !== 'ready') return s.modelStatus === 'error' ? 'The model did not load.' : 'Load a model first.';
  if (s.datasetStatus !== 'ready') return s.datasetStatus === 'error' ? 'The dataset did not load.' : 'Load a dataset first.';
  if ((s.datasetSummary?.counts.kept ?? 0) === 0) return 'The dataset has no usable rows.';
  const problems = validateConfig(s.config, { maxSequenceLength: s.modelSummary?.maxPositions });
  if (problems.length) return `Fix ${problems.length === 1 ? 'the setting' : `${problems.length} settings`} flagged in Settings.`;
  return null;
}

export function isBusy(status: RunStatus): boolean {
  return status === 'running' || status === 'pausing' || status === 'stopping';
}

export const createRunSlice: StateCreator<AppState, [], [], RunSlice> = (set, get) => {
  const onEvent = (e: TrainEvent) => {
    if (e.kind === 'step') {
      set((s) => ({
        runStep: e.step,
        history: [...s.history, { step: e.step, ...e.metrics }],
        // log_completions off: the metrics only
        rollouts: s.runConfig?.log_completions === false ? s.rollouts : [...s.rollouts.slice(-(ROLLOUT_STEPS_KEPT - 1)), e],
        rewardNames: e.rewardNames,
        rewardErrors: e.rewardErrors,
        hasAdapter: true,
      }));
      void get().refreshGpuStatus();
    } else if (e.n > 0) {
      // (with no eval split the worker still reports an empty evaluation: nothing to draw)
      set((s) => ({ evals: [...s.evals.filter((x) => x.step !== e.step), { step: e.step, passAt1: e.passAt1, rewardMean: e.rewardMean }], lastEval: e }));
    }
  };

  const stopClock = () => {
    const s = get();
    if (s.runResumedAt !== null) set({ runActiveMs: s.runActiveMs + (Date.now() - s.runResumedAt), runResumedAt: null });
  };

  const drive = async (fresh: boolean, maxSteps?: number): Promise<void> => {
    const config = cloneConfig(get().config);
    if (fresh) set({ ...FRESH, runConfig: config });
    else set((s) => ({ runConfig: s.runConfig ? { ...s.runConfig, max_steps: config.max_steps, eval_interval: config.eval_interval } : config }));
    set({ runStatus: 'running', runError: null, runResumedAt: Date.now(), runMaxSteps: config.max_steps });
    try {
      const end = await requireEngine().call({ type: 'train', config, fresh, maxSteps }, onEvent);
      stopClock();
      set({ runStatus: end.state, runStep: end.step });
    } catch (e) {
      stopClock();
      set({ runStatus: 'error', runError: errorMessage(e) });
    }
    void get().refreshGpuStatus();
  };

  return {
    runStatus: 'idle',
    runMaxSteps: 0,
    runConfig: null,
    ...FRESH,
    async startRun() {
      const s = get();
      if (isBusy(s.runStatus) || startBlocker(s)) return;
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
  };
};
