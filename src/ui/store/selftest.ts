// The kernel self-test: every WGSL kernel against its CPU reference, streamed check by check.

import type { StateCreator } from 'zustand';
import type { KernelCheckResult, SelfTestSummary } from '../../worker/protocol';
import { errorMessage, requireEngine } from './engine';
import type { AppState } from './types';

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

export const createSelfTestSlice: StateCreator<AppState, [], [], SelfTestSlice> = (set, get) => ({
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
