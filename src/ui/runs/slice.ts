// The experiments slice of the store: the separate eval file, the runs library (every run kept in
// IndexedDB, see recorder.ts), the runs selected for overlay, and the sweep queue (sweep_runner.ts).

import type { StateCreator } from 'zustand';
import type { DatasetKind } from '../../data';
import { datasetKindFor } from '../../grpo/preference/data';
import type { AppState } from '../store/types';
import { errorMessage, requireEngine } from '../store/engine';
import { LibraryFullError, RunLibrary, type RunListEntry } from './library';
import { loadSweep, type SweepState } from './sweep_state';

export type OverlayX = 'step' | 'tokens' | 'time';

export interface ExperimentsSlice {
  /** the separate test file, read as `kind` (the training data's kind for the config's algorithm) */
  evalFile: { name: string; rows: number; kind: DatasetKind } | null;
  evalFileStatus: 'none' | 'loading' | 'ready' | 'error';
  evalFileError: string | null;
  setEvalFile(name: string, bytes: Uint8Array): Promise<void>;
  /** Reads the test file again when the algorithm needs another kind of rows (pairs, labelled completions). */
  rereadEvalFileForAlgorithm(): Promise<void>;
  clearEvalFile(): Promise<void>;

  libraryRuns: RunListEntry[];
  /** the last storage problem (e.g. full), shown in the Runs panel */
  libraryError: string | null;
  libraryStorage: { usage: number; quota: number; persisted: boolean } | null;
  /** the library record the current run is written to */
  recordingId: string | null;
  /** set when another tab of the playground is training */
  runLockProblem: string | null;
  /** keep each finished run's adapter in the library */
  keepAdapters: boolean;
  refreshLibrary(): Promise<void>;
  renameLibraryRun(id: string, name: string): Promise<void>;
  starLibraryRun(id: string, starred: boolean): Promise<void>;
  deleteLibraryRun(id: string): Promise<void>;
  exportLibraryRun(id: string): Promise<{ name: string; text: string }>;
  importLibraryRun(fileName: string, text: string): Promise<void>;
  requestPersistentStorage(): Promise<void>;
  setKeepAdapters(on: boolean): void;
  setLibraryError(message: string | null): void;

  selectedRunIds: string[];
  /** draw the current run with the selected ones */
  overlayCurrent: boolean;
  overlayX: OverlayX;
  toggleRunSelected(id: string): void;
  setRunSelection(ids: string[]): void;
  setOverlayCurrent(on: boolean): void;
  setOverlayX(x: OverlayX): void;

  sweep: SweepState | null;
  setSweep(s: SweepState | null): void;
}

export const library = new RunLibrary();

const EVAL_FILE_KEY = 'grpo-playground:eval-file';
/** the test file's bytes, kept to read it again as another kind when the algorithm changes */
let evalBytes: { name: string; bytes: Uint8Array; kind: DatasetKind } | null = null;

export const createExperimentsSlice: StateCreator<AppState, [], [], ExperimentsSlice> = (set, get) => ({
  evalFile: null,
  evalFileStatus: 'none',
  evalFileError: null,
  async setEvalFile(name, bytes) {
    set({ evalFileStatus: 'loading', evalFileError: null });
    try {
      // read as the training data is: prompt/answer, preference pairs or KTO's labelled completions
      const kind = datasetKindFor(get().config.algorithm);
      evalBytes = { name, bytes, kind };
      const summary = await requireEngine().call({ type: 'loadEvalDataset', file: { name, bytes }, ...(kind !== 'prompt_answer' ? { kind } : {}) });
      set({ evalFile: summary ? { name, rows: summary.counts.kept, kind } : null, evalFileStatus: 'ready' });
      try {
        // kept for a reload (a resumed run needs the same split); small files only
        if (bytes.byteLength <= 1_000_000) localStorage.setItem(EVAL_FILE_KEY, JSON.stringify({ name, text: new TextDecoder().decode(bytes) }));
      } catch {
        // not kept: a reload asks for it again
      }
    } catch (e) {
      set({ evalFile: null, evalFileStatus: 'error', evalFileError: errorMessage(e) });
    }
  },
  async rereadEvalFileForAlgorithm() {
    // also a file that failed as the previous algorithm's kind (pairs picked while GRPO was chosen)
    if (!evalBytes || get().evalFileStatus === 'loading' || evalBytes.kind === datasetKindFor(get().config.algorithm)) return;
    await get().setEvalFile(evalBytes.name, evalBytes.bytes);
  },
  async clearEvalFile() {
    evalBytes = null;
    await requireEngine().call({ type: 'loadEvalDataset', file: null });
    set({ evalFile: null, evalFileStatus: 'none', evalFileError: null });
    try {
      localStorage.removeItem(EVAL_FILE_KEY);
    } catch {
      // nothing kept
    }
  },

  libraryRuns: [],
  libraryError: null,
  libraryStorage: null,
  recordingId: null,
  runLockProblem: null,
  keepAdapters: true,
  async refreshLibrary() {
    try {
      const runs = await library.list();
      set({ libraryRuns: runs });
    } catch (e) {
      set({ libraryError: `The runs library could not be read: ${errorMessage(e)}` });
    }
    try {
      const est = await navigator.storage?.estimate?.();
      const persisted = (await navigator.storage?.persisted?.()) ?? false;
      if (est) set({ libraryStorage: { usage: est.usage ?? 0, quota: est.quota ?? 0, persisted } });
    } catch {
      // no storage estimate in this browser
    }
  },
  async renameLibraryRun(id, name) {
    await library.update(id, { name: name.trim() || 'run' });
    await get().refreshLibrary();
  },
  async starLibraryRun(id, starred) {
    await library.update(id, { starred });
    await get().refreshLibrary();
  },
  async deleteLibraryRun(id) {
    if (get().recordingId === id) {
      set({ libraryError: 'The current run cannot be deleted while it is recorded; stop it or start another first.' });
      return;
    }
    await library.delete(id);
    set((s) => ({ selectedRunIds: s.selectedRunIds.filter((x) => x !== id) }));
    await get().refreshLibrary();
  },
  exportLibraryRun: (id) => library.exportRun(id),
  async importLibraryRun(fileName, text) {
    try {
      const run = await library.importRun(text, fileName);
      set({ libraryError: null });
      await get().refreshLibrary();
      set((s) => ({ selectedRunIds: s.selectedRunIds.includes(run.id) ? s.selectedRunIds : [...s.selectedRunIds, run.id] }));
    } catch (e) {
      set({ libraryError: e instanceof LibraryFullError ? e.message : errorMessage(e) });
    }
  },
  async requestPersistentStorage() {
    const ok = (await navigator.storage?.persist?.()) ?? false;
    if (!ok) set({ libraryError: 'The browser did not grant persistent storage (it may ask, or decide by how often this site is used); runs stay until the browser needs the space.' });
    await get().refreshLibrary();
  },
  setKeepAdapters: (keepAdapters) => set({ keepAdapters }),
  setLibraryError: (libraryError) => set({ libraryError }),

  selectedRunIds: [],
  overlayCurrent: true,
  overlayX: 'step',
  toggleRunSelected: (id) => set((s) => ({ selectedRunIds: s.selectedRunIds.includes(id) ? s.selectedRunIds.filter((x) => x !== id) : [...s.selectedRunIds, id] })),
  setRunSelection: (selectedRunIds) => set({ selectedRunIds }),
  setOverlayCurrent: (overlayCurrent) => set({ overlayCurrent }),
  setOverlayX: (overlayX) => set({ overlayX }),

  sweep: typeof localStorage !== 'undefined' ? loadSweep() : null,
  setSweep: (sweep) => set({ sweep }),
});

/** The eval file kept from the last session, to load again at start-up. */
export function keptEvalFile(): { name: string; bytes: Uint8Array } | null {
  try {
    const text = localStorage.getItem(EVAL_FILE_KEY);
    if (!text) return null;
    const o = JSON.parse(text) as { name: string; text: string };
    return { name: o.name, bytes: new TextEncoder().encode(o.text) };
  } catch {
    return null;
  }
}
