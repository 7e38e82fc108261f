// The page's state: one zustand store made of typed slices. Components select single fields; actions can be
// called outside React (useAppStore.getState().runSelfTest()). Actions talk to the engine worker through
// its client; nothing here touches the GPU.

import { create, type StateCreator } from 'zustand';
import type { PoolStats } from '../gpu/buffer_pool';
import type { EngineClient } from '../worker/client';
import type { AdapterInfo, KernelCheckResult, SelfTestSummary } from '../worker/protocol';

// ---- the engine ----

let engine: EngineClient | null = null;

/** Connects the store to the engine worker (main.tsx does this once at start-up). */
export function connectEngine(client: EngineClient): void {
  engine = client;
}

function requireEngine(): EngineClient {
  if (!engine) throw new Error('The engine worker is not connected (connectEngine was not called)');
  return engine;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---- slices ----

export type AdapterState =
  | { status: 'idle' }
  | { status: 'loading' }
  | { status: 'ready'; info: Extract<AdapterInfo, { available: true }> }
  | { status: 'unavailable'; problem: string; help: string }
  | { status: 'error'; message: string };

export interface AdapterSlice {
  adapter: AdapterState;
  /** the worker's buffer pool, as of its last report */
  pool: PoolStats | null;
  loadAdapter(): Promise<void>;
}

export type SelfTestStatus = 'idle' | 'running' | 'done' | 'error';

export interface SelfTestSlice {
  selfTestStatus: SelfTestStatus;
  /** results of the checks that have finished, in order */
  selfTestResults: KernelCheckResult[];
  /** the check running now */
  selfTestRunning: string | null;
  selfTestSummary: SelfTestSummary | null;
  selfTestError: string | null;
  runSelfTest(): Promise<void>;
}

export type AppState = AdapterSlice & SelfTestSlice;

const createAdapterSlice: StateCreator<AppState, [], [], AdapterSlice> = (set) => ({
  adapter: { status: 'idle' },
  pool: null,
  async loadAdapter() {
    set({ adapter: { status: 'loading' } });
    try {
      const info = await requireEngine().call({ type: 'adapterInfo' });
      if (info.available) set({ adapter: { status: 'ready', info }, pool: info.pool });
      else set({ adapter: { status: 'unavailable', problem: info.problem, help: info.help } });
    } catch (e) {
      set({ adapter: { status: 'error', message: errorMessage(e) } });
    }
  },
});

const createSelfTestSlice: StateCreator<AppState, [], [], SelfTestSlice> = (set, get) => ({
  selfTestStatus: 'idle',
  selfTestResults: [],
  selfTestRunning: null,
  selfTestSummary: null,
  selfTestError: null,
  async runSelfTest() {
    if (get().selfTestStatus === 'running') return;
    set({ selfTestStatus: 'running', selfTestResults: [], selfTestRunning: null, selfTestSummary: null, selfTestError: null });
    try {
      const summary = await requireEngine().call({ type: 'selfTest' }, (result) => {
        set((s) => ({ selfTestResults: [...s.selfTestResults, result], selfTestRunning: result.next }));
      });
      set({ selfTestStatus: 'done', selfTestSummary: summary, selfTestRunning: null, pool: summary.pool });
    } catch (e) {
      set({ selfTestStatus: 'error', selfTestError: errorMessage(e), selfTestRunning: null });
    }
  },
});

export const useAppStore = create<AppState>()((...a) => ({
  ...createAdapterSlice(...a),
  ...createSelfTestSlice(...a),
}));
