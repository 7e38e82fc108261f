// The model: the built-in one (fetched from the site), files the person picked or dropped (a Hugging Face
// folder, or a llama2.c checkpoint with its tokenizer.bin), or URLs (downloaded once, then cached).
// Loading a model sends its files to the worker, which uploads the weights to the GPU; any run ends.

import type { StateCreator } from 'zustand';
import { BUILTIN_MODEL, builtinModel } from '../../demo/builtin';
import type { FilePayload, ModelSummary } from '../../worker/protocol';
import { browserDownloadEnv, downloadModel, planModelUrls, type DownloadProgress } from '../model/download';
import { errorMessage, requireEngine } from './engine';
import { fetchModel, planModel, type ModelPlan } from '../../hub/model';
import { formatModelSpec, parseModelSpec } from '../../hub/repo_id';
import { hubContext, useHubSettings } from '../hub/settings';
import type { AppState } from './types';

export type ModelSource =
  | { kind: 'builtin'; name: string }
  | { kind: 'files'; label: string }
  | { kind: 'url'; input: string; repo: string | null };

export type ModelStatus = 'none' | 'fetching' | 'loading' | 'ready' | 'error';

export interface ModelSlice {
  modelStatus: ModelStatus;
  /** what is loaded, or being loaded */
  modelSource: ModelSource | null;
  modelSummary: ModelSummary | null;
  modelError: string | null;
  modelDownload: DownloadProgress | null;
  /** a built-in model by its name (BUILTIN_MODELS; the first screen's tiny-puzzles by default) */
  loadBuiltinModel(name?: string): Promise<void>;
  loadModelFiles(files: FilePayload[], label: string): Promise<void>;
  loadModelFromUrls(input: string): Promise<void>;
  /** A model by its Hub id ("org/name[@revision]"), with the endpoint and token of the Hub settings; a
   * plan from planModel for the same repository saves listing it again. */
  loadModelFromHub(input: string, plan?: ModelPlan): Promise<void>;
}

/** A URL relative to the page (the site's public/ folder), which works under any base path. */
export function siteUrl(path: string): string {
  return new URL(path, document.baseURI).href;
}

/** A file of the site; a missing one is an error even where the server answers with its index page. */
export async function fetchSiteFile(path: string, what: string): Promise<Uint8Array> {
  const res = await fetch(siteUrl(path));
  const html = (res.headers.get('content-type') ?? '').includes('text/html') && !path.endsWith('.html');
  if (!res.ok || html) throw new Error(`${what} is missing from this site (${path}: ${res.ok ? 'not found' : `${res.status} ${res.statusText}`})`);
  return new Uint8Array(await res.arrayBuffer());
}

export const createModelSlice: StateCreator<AppState, [], [], ModelSlice> = (set, get) => {
  /** Sends files to the worker; the last request wins when loads overlap. */
  let generation = 0;
  const load = async (source: ModelSource, files: () => Promise<FilePayload[]>): Promise<void> => {
    const s = get();
    if (s.runStatus === 'running' || s.runStatus === 'pausing' || s.runStatus === 'stopping') {
      set({ modelError: 'Stop the run before loading another model.' });
      return;
    }
    const my = ++generation;
    set({ modelStatus: 'fetching', modelSource: source, modelError: null, modelDownload: null });
    try {
      const payload = await files();
      if (my !== generation) return;
      set({ modelStatus: 'loading', modelDownload: null });
      const summary = await requireEngine().call({ type: 'loadModel', files: payload });
      if (my !== generation) return;
      set({ modelStatus: 'ready', modelSummary: summary });
      get().resetRun(); // the worker ended any run with the old model
      void get().refreshTokenLengths();
      void get().refreshStoredScan(); // a scan is of a dataset by a model: this model's, if stored
      void get().refreshGpuStatus();
    } catch (e) {
      if (my !== generation) return;
      set({ modelStatus: 'error', modelError: errorMessage(e), modelSummary: null, modelDownload: null });
    }
  };

  return {
    modelStatus: 'none',
    modelSource: null,
    modelSummary: null,
    modelError: null,
    modelDownload: null,
    loadBuiltinModel: async (name = BUILTIN_MODEL.name) => {
      let m;
      try {
        m = builtinModel(name);
      } catch (e) {
        set({ modelError: errorMessage(e) });
        return;
      }
      await load({ kind: 'builtin', name: m.name }, async () =>
        Promise.all(
          m.files.map(async (f) => ({
            name: `${m.name}/${f}`,
            bytes: await fetchSiteFile(m.path + f, `the built-in model ${m.name}'s ${f}`),
          })),
        ),
      );
    },
    loadModelFiles: (files, label) => load({ kind: 'files', label }, async () => files),
    loadModelFromUrls: async (input) => {
      // a repository (hf:org/name, org/name, a huggingface.co URL) goes through the Hub client
      if (/^hf:/.test(input.trim())) return get().loadModelFromHub(input);
      let plan;
      try {
        plan = planModelUrls(input);
      } catch (e) {
        set({ modelError: errorMessage(e) });
        return;
      }
      if (plan.repo) return get().loadModelFromHub(input);
      await load({ kind: 'url', input: input.trim(), repo: plan.repo }, async () => {
        const env = await browserDownloadEnv();
        const files = await downloadModel(plan, env, (p) => set({ modelDownload: p }));
        return files.map((f) => ({ name: f.name, bytes: f.bytes }));
      });
    },
    loadModelFromHub: async (input, given) => {
      let spec;
      try {
        spec = parseModelSpec(input);
      } catch (e) {
        set({ modelError: errorMessage(e) });
        return;
      }
      // the origin names the repository only (checkpoints keep it; never the token)
      await load({ kind: 'url', input: `hf:${formatModelSpec(spec)}`, repo: spec.repo }, async () => {
        const { client, cache } = await hubContext();
        try {
          const same = given && given.spec.repo === spec.repo && given.spec.revision === spec.revision && given.spec.file === spec.file && given.endpoint === client.endpoint;
          const plan = same ? given : await planModel(client, cache, spec);
          const files = await fetchModel(client, cache, plan, (p) =>
            set({
              modelDownload: {
                file: p.file.path,
                done: p.filesDone,
                files: p.files,
                loaded: p.file.loaded,
                total: p.file.size,
                bytesDone: p.bytesDone,
                bytesTotal: p.totalBytes,
                resumedFrom: p.file.resumedFrom,
                fromCache: p.file.fromCache,
              },
            }),
          );
          return files.map((f) => (f.data instanceof Uint8Array ? { name: f.name, bytes: f.data } : { name: f.name, blob: f.data }));
        } finally {
          useHubSettings.getState().cacheChanged();
        }
      });
    },
  };
};
