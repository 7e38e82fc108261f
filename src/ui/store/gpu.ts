// The GPU the worker acquired: adapter, limits, buffer pool counters (polled), and device loss.

import type { StateCreator } from 'zustand';
import type { PoolStats } from '../../gpu/buffer_pool';
import type { AdapterInfo } from '../../worker/protocol';
import type { VariantReportRow } from '../../gpu/autotune';
import { errorMessage, requireEngine } from './engine';
import type { AppState } from './types';

export type AdapterState =
  | { status: 'idle' }
  | { status: 'loading' }
  | { status: 'ready'; info: Extract<AdapterInfo, { available: true }> }
  | { status: 'unavailable'; problem: string; help: string }
  | { status: 'error'; message: string };

export interface GpuSlice {
  adapter: AdapterState;
  /** the worker's buffer pool, as of its last report */
  pool: PoolStats | null;
  /** why the GPU device was lost, once it is; every later GPU request fails */
  deviceLost: string | null;
  /** the engine worker itself stopped (crashed or failed to load) */
  workerFailed: string | null;
  /** gpuvar: the kernel variant each op shape class runs, as of the last report */
  variants: VariantReportRow[] | null;
  loadAdapter(): Promise<void>;
  /** asks the worker for the pool counters and device state (answered at once, even during a run) */
  refreshGpuStatus(): Promise<void>;
}

export const createGpuSlice: StateCreator<AppState, [], [], GpuSlice> = (set, get) => ({
  adapter: { status: 'idle' },
  pool: null,
  deviceLost: null,
  workerFailed: null,
  variants: null,
  async loadAdapter() {
    set({ adapter: { status: 'loading' } });
    try {
      const info = await requireEngine().call({ type: 'adapterInfo' });
      if (info.available) set({ adapter: { status: 'ready', info }, pool: info.pool });
      // without a GPU the GPU tab is what there is to read
      else set({ adapter: { status: 'unavailable', problem: info.problem, help: info.help }, resultsTab: 'gpu' });
    } catch (e) {
      set({ adapter: { status: 'error', message: errorMessage(e) }, resultsTab: 'gpu' });
    }
  },
  async refreshGpuStatus() {
    if (get().workerFailed) return;
    try {
      const s = await requireEngine().call({ type: 'gpuStatus' });
      if (s.pool) set({ pool: s.pool });
      if (s.variants && JSON.stringify(s.variants) !== JSON.stringify(get().variants)) set({ variants: s.variants });
      if (s.lost && s.lost !== get().deviceLost) set({ deviceLost: s.lost });
    } catch (e) {
      const message = errorMessage(e);
      if (/engine worker/i.test(message)) set({ workerFailed: message });
    }
  },
});
