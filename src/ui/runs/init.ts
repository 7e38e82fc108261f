// Start-up of the experiments features: the recorder that keeps every run in the runs library, the eval
// file kept from the last session, and a sweep that was going before a reload.

import { useAppStore } from '../store';
import { startRecorder } from './recorder';
import { keptEvalFile } from './slice';
import { resumeSweepAfterReload } from './sweep_runner';

export function startExperiments(): void {
  startRecorder(useAppStore);
  const kept = keptEvalFile();
  const ready = kept ? useAppStore.getState().setEvalFile(kept.name, kept.bytes) : Promise.resolve();
  void ready.then(() => resumeSweepAfterReload(useAppStore));
}
