// The engine worker's autotuner: the IndexedDB setting and cache (autotune_idb.ts) around autotune.ts.

import { Autotuner, type AutotuneStore } from './autotune';
import { idbAutotuneStore, readAutotuneSetting } from './autotune_idb';
import type { GpuRuntime } from './runtime';

/** The page's autotuner for a runtime: the IndexedDB setting and cache (cached choices loaded). Without
 * IndexedDB (a private window may refuse it) autotuning still runs, without a cache. */
export async function pageAutotuner(gpu: GpuRuntime): Promise<Autotuner> {
  let enabled = true;
  let store: AutotuneStore | null = idbAutotuneStore();
  try {
    enabled = await readAutotuneSetting();
  } catch {
    store = null;
  }
  const tuner = new Autotuner(gpu, enabled, store);
  try {
    await tuner.init();
  } catch {
    // an unreadable cache: tune afresh
  }
  return tuner;
}
