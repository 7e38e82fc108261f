// The dataset: a demo dataset (fetched from the site) or a file the person picked or dropped. The worker
// reads and parses it in chunks (the page only hands it the File, so a 100 MB file costs the page no copy
// and no parsing), reports how far it got, then counts, a preview and every bad row with its line; the
// page keeps the file so that a new column mapping re-parses the same file.

import type { StateCreator } from 'zustand';
import { BUILTIN_MODEL, DEMO_DATASETS, demoConfig } from '../../demo/builtin';
import type { ColumnMapping } from '../../data';
import { datasetKindFor } from '../../grpo/preference/data';
import type { DatasetLoadProgress, DatasetSummary, FilePayload, TokenLengths } from '../../worker/protocol';
import { errorMessage, requireEngine } from './engine';
import { fetchSiteFile } from './model';
import type { AppState } from './types';

export type DatasetSource = { kind: 'demo'; id: string; name: string } | { kind: 'file'; name: string };

export type DatasetStatus = 'none' | 'loading' | 'ready' | 'error';

export interface DatasetSlice {
  datasetStatus: DatasetStatus;
  datasetSource: DatasetSource | null;
  datasetSummary: DatasetSummary | null;
  /** a problem with the file as a whole (not UTF-8, no usable columns, ...); row problems are in the summary */
  datasetError: string | null;
  /** how far the worker has read the file while datasetStatus is 'loading' (null before its first report) */
  datasetProgress: DatasetLoadProgress | null;
  /** token lengths of the rows under the loaded model's tokenizer (null until both are loaded) */
  tokenLengths: TokenLengths | null;
  /** A demo dataset with its rewards. A demo made for another built-in model than the previous demo's (or one
   * that gives the model tools, or a preference demo) brings its whole demo config (demoConfig: lengths, tools,
   * call format, algorithm), and
   * when a built-in model is loaded, the demo's own built-in model is loaded in its place; a model of the
   * person's own stays (the model panel says which model the demo is made for). */
  selectDemoDataset(id: string): Promise<void>;
  /** a picked or dropped File (read by the worker), or bytes already in memory */
  uploadDataset(name: string, data: Blob | Uint8Array): Promise<void>;
  setColumnMapping(mapping: ColumnMapping): Promise<void>;
  /** Reads the same file again as the config's algorithm needs it (preference pairs, KTO's labelled
   * completions, or prompt/answer rows), when that differs from how it was read. */
  reparseForAlgorithm(): Promise<void>;
  refreshTokenLengths(): Promise<void>;
}

export { datasetKindFor };

export const createDatasetSlice: StateCreator<AppState, [], [], DatasetSlice> = (set, get) => {
  let bytes: Blob | Uint8Array | null = null;
  let generation = 0;
  const payload = (name: string, data: Blob | Uint8Array): FilePayload => (data instanceof Uint8Array ? { name, bytes: data } : { name, blob: data });
  const parse = async (source: DatasetSource, file: () => Promise<Blob | Uint8Array>, mapping?: ColumnMapping): Promise<void> => {
    const my = ++generation;
    set({ datasetStatus: 'loading', datasetSource: source, datasetError: null, datasetProgress: null });
    try {
      const data = await file();
      if (my !== generation) return;
      bytes = data;
      const kind = datasetKindFor(get().config.algorithm);
      const summary = await requireEngine().call({ type: 'loadDataset', file: payload(source.name, data), mapping, ...(kind !== 'prompt_answer' ? { kind } : {}) }, (p) => {
        if (my === generation) set({ datasetProgress: p });
      });
      if (my !== generation) return;
      set({ datasetStatus: 'ready', datasetSummary: summary, tokenLengths: null, datasetProgress: null });
      void get().refreshTokenLengths();
      void get().refreshStoredScan(); // a new dataset has no scan in the worker: the stored one, if any
    } catch (e) {
      if (my !== generation) return;
      set({ datasetStatus: 'error', datasetError: errorMessage(e), datasetSummary: null, tokenLengths: null, datasetProgress: null });
    }
  };
  return {
    datasetStatus: 'none',
    datasetSource: null,
    datasetSummary: null,
    datasetError: null,
    datasetProgress: null,
    tokenLengths: null,
    async selectDemoDataset(id) {
      const ds = DEMO_DATASETS.find((d) => d.id === id);
      if (!ds) {
        set({ datasetStatus: 'error', datasetError: `unknown demo dataset ${id}` });
        return;
      }
      const prev = get().datasetSource;
      const prevDemo = prev?.kind === 'demo' ? DEMO_DATASETS.find((d) => d.id === prev.id) : undefined;
      const prevModel = prevDemo?.model ?? BUILTIN_MODEL.name;
      if (ds.tools || prevDemo?.tools || ds.algorithm || prevDemo?.algorithm || ds.model !== prevModel) {
        // another built-in model, tools, or a preference demo (or leaving one): the demo's whole config (its
        // lengths, tools and call format, its algorithm), so the file is read as the pairs it holds
        get().replaceConfig(demoConfig(id));
      } else {
        // the demo's rewards come with it
        get().setConfigField(
          'reward_funcs',
          ds.rewardFuncs.map((r) => ({ name: r.name, weight: r.weight, params: structuredClone(r.params) })),
        );
      }
      const model = get().modelSource;
      if (model?.kind === 'builtin' && model.name !== ds.model) void get().loadBuiltinModel(ds.model);
      await parse({ kind: 'demo', id, name: ds.path.slice(ds.path.lastIndexOf('/') + 1) }, () => fetchSiteFile(ds.path, `the demo dataset ${ds.name}`));
    },
    uploadDataset: (name, data) => parse({ kind: 'file', name }, async () => data),
    async setColumnMapping(mapping) {
      const source = get().datasetSource;
      if (!source || !bytes) return;
      const data = bytes;
      await parse(source, async () => data, mapping);
    },
    async reparseForAlgorithm() {
      const source = get().datasetSource;
      const read = get().datasetSummary?.kind ?? 'prompt_answer';
      if (!source || !bytes || get().datasetStatus === 'loading' || read === datasetKindFor(get().config.algorithm)) return;
      const data = bytes;
      await parse(source, async () => data);
    },
    async refreshTokenLengths() {
      const s = get();
      if (s.modelStatus !== 'ready' || s.datasetStatus !== 'ready') return;
      const c = s.config;
      try {
        const lengths = await requireEngine().call({
          type: 'tokenLengths',
          settings: { system_prompt: c.system_prompt, prompt_template: c.prompt_template, use_chat_template: c.use_chat_template },
        });
        set({ tokenLengths: lengths });
      } catch {
        set({ tokenLengths: null });
      }
    },
  };
};
