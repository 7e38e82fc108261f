// Node only: models and datasets by Hub id for the command line. The endpoint comes from HF_ENDPOINT (as
// in Python's huggingface_hub), the token from HF_TOKEN (or HUGGING_FACE_HUB_TOKEN), the cache folder from
// GRPO_HUB_CACHE (default ~/.cache/grpo-playground/hub). Progress goes to `log` (stderr in the CLI).

import { loadHfFolder, loadModelFiles, type FileSource, type LoadedModel } from '../model/load';
import { parseParquetFiles, type ParseOptions, type ParsedDataset } from '../data';
import { dataBytes } from './cache';
import { NodeHubCache, defaultCacheDir } from './cache_node';
import { HubClient } from './client';
import { chooseSplit, fetchSplit, listParquet } from './dataset';
import { formatSize } from './download';
import { describePlan, fetchModel, planKind, planModel, requireChosen } from './model';
import { formatDatasetSpec, formatModelSpec, parseDatasetSpec, parseModelSpec } from './repo_id';

export const HUB_PREFIX = 'hf:';

export function isHubArg(arg: string): boolean {
  return arg.startsWith(HUB_PREFIX);
}

export function hubClientFromEnv(env: NodeJS.ProcessEnv = process.env): HubClient {
  return new HubClient({ endpoint: env.HF_ENDPOINT, token: env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || null, tokenHint: 'HF_TOKEN (export HF_TOKEN=hf_...)' });
}

export function hubCacheFromEnv(env: NodeJS.ProcessEnv = process.env): NodeHubCache {
  return new NodeHubCache(defaultCacheDir(env));
}

/** Prints a line per file, and for long downloads a line every few seconds. */
function progressLogger(log: (s: string) => void) {
  let lastFile = '';
  let lastAt = 0;
  return (path: string, loaded: number, size: number | null, done: boolean, note: string) => {
    const now = Date.now();
    if (!done && path === lastFile && now - lastAt < 3000) return;
    if (!done && path !== lastFile) {
      lastFile = path;
      lastAt = now;
      return;
    }
    lastAt = now;
    log(`  ${path}  ${formatSize(loaded)}${size !== null && !done ? ` of ${formatSize(size)}` : ''}${note}`);
  };
}

export async function loadHubModel(arg: string, log: (s: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<LoadedModel> {
  const spec = parseModelSpec(arg);
  const client = hubClientFromEnv(env);
  const cache = hubCacheFromEnv(env);
  const plan = await planModel(client, cache, spec);
  requireChosen(plan); // a repository of several GGUF files: the message lists them and how to pick one
  log(`${formatModelSpec(spec)} (${client.endpoint}): ${planKind(plan)}, ${describePlan(plan)}`);
  const show = progressLogger(log);
  let current = '';
  const files = await fetchModel(client, cache, plan, (p) => {
    const f = p.file;
    const finished = f.size !== null && f.loaded === f.size;
    if (f.path === current && finished) return;
    if (finished) current = f.path;
    const note = f.fromCache ? '  (cache)' : f.resumedFrom > 0 ? `  (resumed at ${formatSize(f.resumedFrom)})` : '';
    show(f.path, f.loaded, f.size, finished, note);
  });
  const sources: FileSource[] = await Promise.all(
    files.map(async (f) => {
      const bytes = await dataBytes(f.data);
      return { name: f.name, size: bytes.byteLength, arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
    }),
  );
  return plan.gguf ? loadModelFiles(sources) : loadHfFolder(sources);
}

export async function loadHubDataset(arg: string, opts: ParseOptions, log: (s: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<{ label: string; dataset: ParsedDataset }> {
  const spec = parseDatasetSpec(arg);
  const client = hubClientFromEnv(env);
  const cache = hubCacheFromEnv(env);
  const choice = chooseSplit(await listParquet(client, spec.repo), spec);
  const label = formatDatasetSpec(choice);
  log(`${label} (${client.endpoint}): ${choice.urls.length} parquet file${choice.urls.length === 1 ? '' : 's'}`);
  const files = await fetchSplit(client, cache, choice, (p) => {
    if (p.file.size !== null && p.file.loaded === p.file.size) log(`  ${p.file.path}  ${formatSize(p.file.loaded)}${p.file.fromCache ? '  (cache)' : ''}`);
  });
  const parts = await Promise.all(files.map(async (f) => ({ name: `${spec.repo}/${f.name}`, bytes: await dataBytes(f.data) })));
  return { label, dataset: await parseParquetFiles(parts, opts) };
}
