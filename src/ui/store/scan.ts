// The dataset's difficulty scan (issue 29): run in the worker on the loaded model and dataset (k completions per
// prompt at the config's temperature), or a scan JSONL the person uploads; kept by the worker with the dataset
// and in this browser's storage under the dataset + model, so it is looked up (not repeated) whenever either is
// loaded again. The data panel draws its pass-rate histogram and sets pass_rate_band from it.

import type { StateCreator } from 'zustand';
import type { ScanProgress, ScanSummary } from '../../worker/protocol';
import { errorMessage, requireEngine } from './engine';
import type { AppState } from './types';

export type ScanStatus = 'none' | 'scanning' | 'ready' | 'error';

export interface ScanSlice {
  scanStatus: ScanStatus;
  scan: ScanSummary | null;
  scanProgress: ScanProgress | null;
  scanError: string | null;
  /** completions per prompt the next scan samples */
  scanK: number;
  setScanK(k: number): void;
  runScan(): Promise<void>;
  uploadScan(name: string, file: Blob): Promise<void>;
  forgetScan(): Promise<void>;
  downloadScan(): Promise<string>;
  /** After a dataset or model is loaded: the stored scan of the pair, if any, is put in use. */
  refreshStoredScan(): Promise<void>;
}

/** The bytes of an uploaded scan file read at most (parseScanJsonl's own limit, checked before reading). */
const UPLOAD_BYTES = 256 * 2 ** 20;

export const createScanSlice: StateCreator<AppState, [], [], ScanSlice> = (set, get) => {
  let generation = 0;
  const done = (scan: ScanSummary | null) => set({ scan, scanStatus: scan ? 'ready' : 'none', scanProgress: null, scanError: null });
  const failed = (e: unknown) => set({ scanStatus: 'error', scanProgress: null, scanError: errorMessage(e) });
  return {
    scanStatus: 'none',
    scan: null,
    scanProgress: null,
    scanError: null,
    scanK: 8,
    setScanK: (k) => set({ scanK: k }),
    async runScan() {
      const my = ++generation;
      set({ scanStatus: 'scanning', scanProgress: null, scanError: null });
      try {
        const s = await requireEngine().call({ type: 'scan', config: get().config, k: get().scanK }, (p) => {
          if (my === generation) set({ scanProgress: p });
        });
        if (my === generation) done(s);
      } catch (e) {
        if (my === generation) failed(e);
      }
    },
    async uploadScan(name, file) {
      const my = ++generation;
      try {
        if (file.size > UPLOAD_BYTES) throw new Error(`${name}: ${file.size} bytes; a scan file holds at most ${UPLOAD_BYTES}`);
        const s = await requireEngine().call({ type: 'setScan', name, text: await file.text() });
        if (my === generation) done(s);
      } catch (e) {
        if (my === generation) failed(e);
      }
    },
    async forgetScan() {
      const my = ++generation;
      try {
        await requireEngine().call({ type: 'setScan', name: null, text: null });
        if (my === generation) done(null);
      } catch (e) {
        if (my === generation) failed(e);
      }
    },
    downloadScan: () => requireEngine().call({ type: 'scanJsonl' }),
    async refreshStoredScan() {
      const my = ++generation;
      const s = get();
      if (s.datasetStatus !== 'ready') {
        done(null);
        return;
      }
      try {
        const found = await requireEngine().call({ type: 'storedScan' });
        if (my === generation) done(found);
      } catch {
        if (my === generation) done(null);
      }
    },
  };
};
