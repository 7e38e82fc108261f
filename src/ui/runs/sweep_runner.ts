// Runs a sweep's queue in the page: each run's config replaces the settings, Start trains it on the
// loaded model and data, and when it finishes the next one starts. The queue is in localStorage
// (sweep_state.ts): after a reload, the run that was going resumes from its last checkpoint (the saved
// run the page offers anyway) and the queue goes on. Pausing or stopping the run pauses the sweep.

import type { AppState } from '../store/types';
import { errorMessage, requireEngine } from '../store/engine';
import { newSweep, saveSweep, type SweepState } from './sweep_state';
import type { SweepSpec } from '../../experiments/spec';
import { setNextRunMeta } from './recorder';

type Store = { getState(): AppState; setState(p: Partial<AppState>): void; subscribe(l: (s: AppState, prev: AppState) => void): () => void };

let driving = false;

function update(store: Store, change: (s: SweepState) => SweepState): SweepState | null {
  const cur = store.getState().sweep;
  if (!cur) return null;
  const next = change(structuredClone(cur));
  saveSweep(next);
  store.setState({ sweep: next });
  return next;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(100);
  }
  return true;
}

export async function startSweep(store: Store, spec: SweepSpec): Promise<void> {
  const s = store.getState();
  const sweep = newSweep(spec, s.modelSummary?.maxPositions);
  saveSweep(sweep);
  store.setState({ sweep });
  await driveSweep(store);
}

export function pauseSweep(store: Store): void {
  update(store, (s) => ({ ...s, state: s.state === 'finished' ? 'finished' : 'paused' }));
  if (store.getState().runStatus === 'running') void store.getState().pauseRun();
}

export function discardSweep(store: Store): void {
  saveSweep(null);
  store.setState({ sweep: null });
}

export async function continueSweep(store: Store): Promise<void> {
  update(store, (s) => ({ ...s, state: 'running', note: undefined }));
  await driveSweep(store);
}

/** Advances the queue until it is done or paused. */
export async function driveSweep(store: Store): Promise<void> {
  if (driving) return;
  driving = true;
  try {
    for (;;) {
      const sweep = store.getState().sweep;
      if (!sweep || sweep.state !== 'running') return;
      const i = sweep.runs.findIndex((r) => r.status === 'queued' || r.status === 'running');
      if (i < 0) {
        update(store, (s) => ({ ...s, state: 'finished' }));
        return;
      }
      const run = sweep.runs[i];
      const st = store.getState();
      const saved = st.savedRun;
      if (run.status === 'running' && saved && run.startedAt !== null && saved.savedAt >= run.startedAt) {
        // interrupted by a reload: continue from its checkpoint
        st.logRun('info', `Sweep ${sweep.spec.name}: continuing ${run.name} (${i + 1} of ${sweep.runs.length}) from its checkpoint of step ${saved.step}.`);
        setNextRunMeta({ name: run.name, sweep: { id: sweep.id, name: sweep.spec.name, arm: run.arm, value: run.value, seed: run.seed } });
        await st.resumeSavedRun();
        setNextRunMeta(null);
        await until(() => store.getState().resume.phase !== 'working' && store.getState().runStatus !== 'running', 24 * 3600_000);
      } else {
        if (store.getState().modelStatus !== 'ready' || store.getState().datasetStatus !== 'ready') {
          update(store, (s) => ({ ...s, state: 'paused', note: 'Load the model and the dataset, then press Continue.' }));
          return;
        }
        store.getState().logRun('info', `Sweep ${sweep.spec.name}: starting ${run.name} (${i + 1} of ${sweep.runs.length})${run.status === 'running' ? `, again from step 0 (${saved ? 'the saved checkpoint is older than this run' : 'no checkpoint of it was saved'})` : ''}.`);
        store.getState().replaceConfig(structuredClone(run.config));
        setNextRunMeta({ name: run.name, sweep: { id: sweep.id, name: sweep.spec.name, arm: run.arm, value: run.value, seed: run.seed } });
        update(store, (s) => {
          s.runs[i] = { ...s.runs[i], status: 'running', startedAt: Date.now() };
          return s;
        });
        const before = store.getState().recordingId;
        const started = store.getState().startRun();
        // the record's id, once the recorder made it
        await until(() => (store.getState().recordingId !== null && store.getState().recordingId !== before) || store.getState().runStatus === 'error' || !!store.getState().runLockProblem, 10_000);
        const id = store.getState().recordingId !== before ? store.getState().recordingId : null;
        update(store, (s) => {
          s.runs[i] = { ...s.runs[i], recordId: id };
          return s;
        });
        await started;
        const now = store.getState();
        if (now.runLockProblem && now.recordingId === before) {
          // refused: another tab is training (nothing ran here)
          setNextRunMeta(null);
          update(store, (s) => {
            s.runs[i] = { ...s.runs[i], status: 'queued', startedAt: null, recordId: null };
            return { ...s, state: 'paused', note: now.runLockProblem ?? undefined };
          });
          return;
        }
      }
      const end = store.getState();
      if (end.runStatus === 'finished') {
        update(store, (s) => {
          s.runs[i] = { ...s.runs[i], status: 'done', recordId: end.recordingId ?? s.runs[i].recordId };
          return s;
        });
        // let the recorder write the last state before the next run clears the history
        await sleep(300);
        continue;
      }
      if (end.runStatus === 'error' || end.runError) {
        update(store, (s) => {
          s.runs[i] = { ...s.runs[i], status: end.runStatus === 'error' ? 'failed' : s.runs[i].status, error: end.runError ?? undefined };
          return { ...s, state: 'paused', note: `${s.runs[i].name}: ${end.runError ?? 'the run stopped'}` };
        });
        return;
      }
      // paused or stopped by the person (or a lost resume): the sweep waits
      update(store, (s) => ({ ...s, state: 'paused', note: s.note ?? `Paused at ${run.name} (${end.runStatus}). Continue resumes the queue.` }));
      return;
    }
  } catch (e) {
    update(store, (s) => ({ ...s, state: 'paused', note: errorMessage(e) }));
  } finally {
    driving = false;
  }
}

/** At start-up: a sweep that was running continues once the page is ready (the model loaded, the saved
 * run known). */
export async function resumeSweepAfterReload(store: Store): Promise<void> {
  const sweep = store.getState().sweep;
  if (!sweep || sweep.state !== 'running') return;
  let saved = null;
  try {
    saved = await requireEngine().call({ type: 'savedRun' });
  } catch {
    // no saved run: the run in progress starts again
  }
  if (saved) await until(() => store.getState().savedRun !== null, 15_000);
  await until(() => {
    const s = store.getState();
    return (s.modelStatus === 'ready' || s.modelStatus === 'error') && (s.datasetStatus === 'ready' || s.datasetStatus === 'error');
  }, 120_000);
  await driveSweep(store);
}
