// The page's state: one zustand store made of typed slices (store/*.ts). Components select single fields;
// actions can be called outside React (useAppStore.getState().startRun()). Actions talk to the engine
// worker through its client; nothing here touches the GPU.

import { create } from 'zustand';
import { createConfigSlice } from './store/config';
import { createDatasetSlice } from './store/dataset';
import { createGpuSlice } from './store/gpu';
import { createModelSlice } from './store/model';
import { createRunSlice } from './store/run';
import { createSelfTestSlice } from './store/selftest';
import { createTryItSlice } from './store/tryit';
import { createViewSlice } from './store/view';
import { createScanSlice } from './store/scan';
import type { AppState } from './store/types';
import { createExperimentsSlice } from './runs/slice';

export { connectEngine } from './store/engine';
export type { AppState } from './store/types';
export type { AdapterState } from './store/gpu';
export type { RunStatus } from './store/run';
export { isBusy, startBlocker } from './store/run';

export const useAppStore = create<AppState>()((...a) => ({
  ...createGpuSlice(...a),
  ...createSelfTestSlice(...a),
  ...createModelSlice(...a),
  ...createDatasetSlice(...a),
  ...createConfigSlice(...a),
  ...createRunSlice(...a),
  ...createTryItSlice(...a),
  ...createViewSlice(...a),
  ...createScanSlice(...a),
  ...createExperimentsSlice(...a),
}));
