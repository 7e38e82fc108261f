// What the page shows: the results tab and the charts' smoothing.

import type { StateCreator } from 'zustand';
import type { AppState } from './types';

export type ResultsTab = 'rollouts' | 'tryit' | 'export' | 'gpu';

export interface ViewSlice {
  resultsTab: ResultsTab;
  /** exponential smoothing weight of the charts, 0 (none) to 0.99 */
  smoothing: number;
  setResultsTab(tab: ResultsTab): void;
  setSmoothing(w: number): void;
}

export const createViewSlice: StateCreator<AppState, [], [], ViewSlice> = (set) => ({
  resultsTab: 'rollouts',
  smoothing: 0.6,
  setResultsTab: (resultsTab) => set({ resultsTab }),
  setSmoothing: (w) => set({ smoothing: Math.min(0.99, Math.max(0, w)) }),
});
