// Keeps every run of this tab in the runs library. It watches the store (no change to the run slice's
// reducer): a run that starts from nothing gets a new record; a run restored after a reload continues
// the record it was written to (found by id in localStorage and checked against its first step). Steps
// are saved at most every SAVE_MS, and at once on an evaluation or a change of state; a finished run's
// adapter is kept when keepAdapters is on. A full storage is reported (naming what is needed and the
// largest runs) and the run goes on training.
//
// Two tabs never write the same run: starting or resuming takes the Web Lock "grpo-playground-training"
// (held until the run pauses, stops or ends); when another tab holds it, the start is refused with a
// message and nothing is written.

import type { AppState } from '../store/types';
import { setRunGate, isBusy } from '../store/run';
import { errorMessage, requireEngine } from '../store/engine';
import type { RunRecord, RunRecordStatus } from '../../experiments/run_record';
import { LibraryFullError } from './library';
import { library } from './slice';

const SAVE_MS = 1500;
const RECORDING_KEY = 'grpo-playground:recording';
export const TRAINING_LOCK = 'grpo-playground-training';

type Store = { getState(): AppState; setState(p: Partial<AppState>): void; subscribe(l: (s: AppState, prev: AppState) => void): () => void };

/** FNV-1a of a string, as hex: an identity for a model or dataset description. */
export function fingerprint(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** What the next new run is called and which sweep it belongs to (set by the sweep runner). */
let nextRunMeta: { name: string; sweep: RunRecord['sweep'] } | null = null;
export function setNextRunMeta(meta: typeof nextRunMeta): void {
  nextRunMeta = meta;
}

function statusOf(s: AppState): RunRecordStatus {
  switch (s.runStatus) {
    case 'finished':
      return 'finished';
    case 'stopped':
      return 'stopped';
    case 'error':
      return 'error';
    case 'paused':
    case 'idle':
      return 'paused';
    default:
      return 'running';
  }
}

function defaultName(s: AppState): string {
  const c = s.runConfig ?? s.config;
  const d = new Date();
  // a reward model is named as one (reward_model entries name saved runs)
  const what = c.algorithm === 'sft' ? 'sft' : c.algorithm === 'reward_model' ? 'reward_model' : c.loss_type;
  return `${what} lr ${c.learning_rate} seed ${c.seed}${s.runParent ? ` from ${s.runParent.algorithm}` : ''} · ${d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
}

export function startRecorder(store: Store): void {
  let current: RunRecord | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let saving: Promise<void> = Promise.resolve();
  let adapterSavedFor: string | null = null;

  // ---- the cross-tab lock ----
  let lockRelease: (() => void) | null = null;
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  setRunGate(async () => {
    if (!locks || lockRelease) return null;
    const granted = await new Promise<boolean>((resolve) => {
      void locks.request(TRAINING_LOCK, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(false);
          return undefined;
        }
        resolve(true);
        return new Promise<void>((release) => (lockRelease = release));
      });
    });
    if (!granted) {
      const msg = 'A run is active in another tab of the playground. One tab trains at a time, so that two tabs never write the same run: pause or finish it there, then start here.';
      store.setState({ runLockProblem: msg });
      return msg;
    }
    store.setState({ runLockProblem: null });
    return null;
  });
  const releaseLock = () => {
    lockRelease?.();
    lockRelease = null;
  };

  const identity = (s: AppState) => {
    const m = s.modelSummary;
    const d = s.datasetSummary;
    return {
      model: { name: m?.name ?? 'unknown model', fingerprint: fingerprint(JSON.stringify(m ?? {})) },
      dataset: {
        name: d?.name ?? 'unknown dataset',
        fingerprint: fingerprint(JSON.stringify({ n: d?.name, c: d?.counts, m: d?.mapping, p: d?.preview?.map((r) => [r.prompt, r.answer]), e: s.evalFile })),
        evalFile: s.evalFile?.name ?? null,
      },
    };
  };

  const snapshot = (s: AppState, base: RunRecord): RunRecord => ({
    ...base,
    updatedAt: Date.now(),
    status: statusOf(s),
    config: s.runConfig ?? base.config,
    history: s.history,
    evals: s.evals,
    rollouts: s.rollouts.slice(-3).flatMap((e) =>
      e.groups.slice(0, 2).map((g) => ({ step: e.step, prompt: g.prompt.slice(0, 300), answer: g.answer.slice(0, 200), completions: g.completions.slice(0, 4).map((c) => ({ text: c.text.slice(0, 300), reward: c.reward })) })),
    ).concat(s.rollouts.length ? [] : base.rollouts),
    steps: s.runStep,
    maxSteps: s.runMaxSteps,
    durationMs: s.runActiveMs + (s.runResumedAt !== null ? Date.now() - s.runResumedAt : 0),
  });

  const write = (s: AppState) => {
    if (!current) return;
    const rec = snapshot(s, current);
    current = rec;
    saving = saving.then(async () => {
      try {
        await library.put(rec);
        if (store.getState().libraryError?.startsWith("The browser's storage is full")) store.setState({ libraryError: null });
      } catch (e) {
        const msg = e instanceof LibraryFullError ? e.message : `The run could not be saved in the runs library: ${errorMessage(e)}. Training goes on.`;
        if (store.getState().libraryError !== msg) {
          store.setState({ libraryError: msg });
          store.getState().logRun('warn', msg);
        }
      }
    });
    void saving.then(() => store.getState().refreshLibrary());
  };

  const schedule = (s: AppState, now = false) => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (now) write(s);
    else timer = setTimeout(() => write(store.getState()), SAVE_MS);
  };

  const begin = async (s: AppState) => {
    // a run restored after a reload continues its record when it is the same run
    let stored: RunRecord | null = null;
    try {
      const kept = JSON.parse(localStorage.getItem(RECORDING_KEY) ?? 'null') as { id: string } | null;
      if (kept && s.history.length > 0) {
        const r = await library.get(kept.id);
        const a = r?.history[0];
        const b = s.history[0];
        // the same run: its first step agrees (or the record was written before its first step)
        if (r && b && (!a || (a.step === b.step && Object.is(a.reward, b.reward) && Object.is(a.loss, b.loss)))) stored = r;
      }
    } catch {
      // no record to continue: a new one
    }
    const meta = nextRunMeta;
    nextRunMeta = null;
    const now = Date.now();
    if (stored && meta?.sweep && !stored.sweep) stored = { ...stored, sweep: meta.sweep };
    current = stored ?? {
      id: `run-${now.toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`,
      name: meta?.name ?? defaultName(s),
      starred: false,
      createdAt: now,
      updatedAt: now,
      status: 'running',
      config: s.runConfig ?? s.config,
      ...identity(s),
      history: [],
      evals: [],
      rollouts: [],
      steps: 0,
      maxSteps: s.runMaxSteps,
      durationMs: 0,
      sweep: meta?.sweep ?? null,
      hasAdapter: false,
      parent: s.runParent ? { id: s.runParent.recordId, name: s.runParent.name, algorithm: s.runParent.algorithm } : null,
    };
    adapterSavedFor = null;
    try {
      localStorage.setItem(RECORDING_KEY, JSON.stringify({ id: current.id }));
    } catch {
      // a reload then starts a new record
    }
    store.setState({ recordingId: current.id });
    schedule(store.getState(), true);
  };

  let starting = false;
  store.subscribe((s, prev) => {
    const busy = isBusy(s.runStatus);
    const wasBusy = isBusy(prev.runStatus);
    // a new run: the history was cleared (Start) or replaced (a restored run)
    const restarted = s.history.length === 0 && prev.history.length > 0;
    if (restarted || (s.history !== prev.history && prev.history.length === 0 && s.history.length > 1)) {
      if (current && restarted) schedule(prev, true);
      current = null;
      store.setState({ recordingId: null });
    }
    if (busy && !current && !starting) {
      starting = true;
      void begin(s).finally(() => (starting = false));
      return;
    }
    if (!current) {
      if (!busy && wasBusy) releaseLock();
      return;
    }
    if (s.runStatus !== prev.runStatus || s.evals !== prev.evals || (prev.history.length === 0 && s.history.length > 0)) schedule(s, true);
    else if (s.history !== prev.history) schedule(s);
    if (!busy && wasBusy) {
      releaseLock();
      if (s.runStatus === 'finished' && s.keepAdapters && adapterSavedFor !== current.id) {
        const id = current.id;
        adapterSavedFor = id;
        void saving.then(async () => {
          try {
            const files = await requireEngine().call({ type: 'exportAdapter' });
            await library.putAdapter(id, files.weights, files.config);
            await store.getState().refreshLibrary();
          } catch (e) {
            const msg = e instanceof LibraryFullError ? e.message : `The final adapter was not kept: ${errorMessage(e)}`;
            store.setState({ libraryError: msg });
          }
        });
      }
    }
  });
  void store.getState().refreshLibrary();
}
