// Start-up of the experiments features: the recorder that keeps every run in the runs library, the eval
// file kept from the last session, and a sweep that was going before a reload.

import { useAppStore } from '../store';
import { setRewardAdapterSource } from '../store/run';
import { library } from './slice';
import { startRecorder } from './recorder';
import { keptEvalFile } from './slice';
import { resumeSweepAfterReload } from './sweep_runner';

export function startExperiments(): void {
  startRecorder(useAppStore);
  // reward_model rewards name saved runs (by name or id) whose kept adapter is a reward adapter
  setRewardAdapterSource(async (names) => {
    const runs = (await library.list()).map((e) => e.run);
    const adapters = [];
    for (const name of names) {
      const run = runs.find((r) => r.id === name) ?? runs.find((r) => r.name === name);
      if (!run) return { error: `No saved run is named "${name}" (reward_model adapters name runs of the Runs panel).` };
      const files = run.hasAdapter ? await library.adapter(run.id) : null;
      if (!files) return { error: `The saved run "${name}" kept no adapter: train it with "keep adapters" on.` };
      adapters.push({ name, ...files });
    }
    return { adapters };
  });
  const kept = keptEvalFile();
  const ready = kept ? useAppStore.getState().setEvalFile(kept.name, kept.bytes) : Promise.resolve();
  void ready.then(() => resumeSweepAfterReload(useAppStore));
}
