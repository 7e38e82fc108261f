// A model by its repository id: list the repository's files and sizes, check that it has what the
// loader reads (config.json, tokenizer.json, safetensors weights), fetch config.json and refuse an
// unsupported architecture before any weights move (src/model/config.ts decides what is supported), read
// the shard index, then say how much will download; fetchModel then brings every file, from the cache
// when it holds that version, with progress per file and in total.
// A repository of GGUF files (no config.json, or a GGUF named after ":" in the spec) is a choice of
// quantisations (gguf_choice.ts): the plan lists them with their sizes; once one is chosen (named, or the only
// one) it is the one file to fetch, verified as every download is, and the loader reads its config from its header.

import { parseHfConfig, type ModelConfig } from '../model/config';
import { dataText, LISTING_FILE, type CachedData, type FileKey, type HubCache } from './cache';
import { HubError, type HubClient, type RepoFile } from './client';
import { fetchFile, formatSize, type FileProgress } from './download';
import type { ModelSpec } from './repo_id';
import { checkListedSize, checkRepoPath } from './verify';
import { checkedChoice, chooseMessage, describeSkipped, ggufChoices, pickGguf, type GgufChoice, type GgufChoices } from './gguf_choice';
import { formatModelSpec } from './repo_id';
import { GGUF_ARCHITECTURES } from '../model/gguf/config';
import { peekGgufMetadata } from '../model/gguf/reader';

const INDEX = 'model.safetensors.index.json';

const SINGLE = 'model.safetensors';
/** read when present */
const OPTIONAL = ['tokenizer_config.json', 'generation_config.json', 'chat_template.jinja'];

export interface PlannedFile extends RepoFile {
  /** already in the cache at this version */
  cached: boolean;
}

export interface ModelPlan {
  spec: ModelSpec;
  endpoint: string;
  /** the repository's name part: the loaded model's name */
  name: string;
  /** every file the loader will read, config first, weights last */
  files: PlannedFile[];
  totalBytes: number;
  /** bytes not yet in the cache */
  downloadBytes: number;
  /** the validated config (what the worker will load); null for a GGUF file (its header holds it: read at load) */
  config: ModelConfig | null;
  /** a repository of GGUF files: its choices and the one chosen (null: several, none named yet) */
  gguf: (GgufChoices & { chosen: GgufChoice | null; architecture: string | null }) | null;
  /** the Hub could not be reached: the plan comes from the listing cached at the last load */
  offline: boolean;
}

export interface ModelProgress {
  file: FileProgress;
  /** files done, of files */
  filesDone: number;
  files: number;
  /** bytes of every file so far, of all (cached files count as done) */
  bytesDone: number;
  totalBytes: number;
}

export interface FetchedFile {
  /** "NAME/path": the name the loaders expect (a folder named after the model) */
  name: string;
  data: CachedData;
}

function keyOf(client: HubClient, spec: ModelSpec, path: string): FileKey {
  return { endpoint: client.endpoint, kind: 'model', repo: spec.repo, revision: spec.revision, path };
}

function listNames(files: RepoFile[]): string {
  const names = files.map((f) => f.path);
  return names.length > 12 ? `${names.slice(0, 12).join(', ')}, ... (${names.length} files)` : names.join(', ') || 'none';
}

/** The files to fetch, their sizes, and the validated config; nothing but config.json and the shard index downloads. */
export async function planModel(client: HubClient, cache: HubCache, spec: ModelSpec): Promise<ModelPlan> {
  const { listing, offline } = await listWithCache(client, cache, spec);
  const byPath = new Map(listing.map((f) => [f.path, f]));
  const at = spec.revision === 'main' ? '' : ` at ${spec.revision}`;
  const config = byPath.get('config.json');
  if (spec.file !== undefined || (!config && listing.some((f) => typeof f.path === 'string' && /\.gguf$/i.test(f.path)))) {
    return planGguf(client, cache, spec, listing, offline);
  }
  if (!config) {
    throw new HubError(`${spec.repo}${at} has no config.json, so it is not a transformers model repository this playground can load (files: ${listNames(listing)})`);
  }
  const hasIndex = byPath.has(INDEX);
  if (!hasIndex && !byPath.has(SINGLE)) {
    const bins = listing.filter((f) => /^pytorch_model.*\.bin$/.test(f.path) || f.path === 'pytorch_model.bin.index.json');
    if (bins.length) {
      throw new HubError(
        `${spec.repo}${at} has only PyTorch weights (${bins.map((b) => b.path).join(', ')}) and no model.safetensors: this playground reads safetensors only ` +
          `(pickled .bin files can run code); pick a repository with safetensors weights, or convert it (transformers: save_pretrained(..., safe_serialization=True))`,
      );
    }
    const other = listing.filter((f) => f.path.endsWith('.safetensors') || f.path.endsWith('.gguf') || f.path.endsWith('.onnx'));
    throw new HubError(
      `${spec.repo}${at} has no model.safetensors nor ${INDEX} at its top level${other.length ? ` (it has ${other.map((f) => f.path).slice(0, 5).join(', ')}, which this playground does not read)` : ''}; files: ${listNames(listing)}`,
    );
  }
  if (!byPath.has('tokenizer.json')) {
    throw new HubError(`${spec.repo}${at} has no tokenizer.json (the tokenizers-library file this playground reads; tokenizer.model / vocab.json alone are not enough); files: ${listNames(listing)}`);
  }

  // config.json first: an unsupported architecture is refused before any weights download
  const small = async (f: RepoFile): Promise<unknown> => {
    const { data } = await fetchFile(client, cache, keyOf(client, spec, f.path), { url: resolveUrl(client, spec, f.path), size: f.size, version: f.oid });
    const text = await dataText(data);
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new HubError(`${spec.repo}: ${f.path} is not valid JSON (${(e as Error).message})`);
    }
  };
  let parsed: ModelConfig;
  try {
    parsed = parseHfConfig(await small(config), `${spec.repo}: config.json`);
  } catch (e) {
    if (e instanceof HubError) throw e;
    throw new HubError(`${(e as Error).message} — nothing else was downloaded`);
  }

  let weights: RepoFile[];
  if (hasIndex) {
    const index = byPath.get(INDEX)!;
    const json = (await small(index)) as { weight_map?: unknown } | null;
    const map = json?.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new HubError(`${spec.repo}: ${INDEX} has no weight_map (tensor -> shard file)`);
    const shards = [...new Set(Object.values(map as Record<string, unknown>).map(String))];
    const missing = shards.filter((s) => !byPath.has(s));
    if (missing.length) throw new HubError(`${spec.repo}: ${INDEX} names shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which the repository does not have`);
    weights = [index, ...shards.map((s) => byPath.get(s)!)];
  } else weights = [byPath.get(SINGLE)!];

  const wanted = [config, byPath.get('tokenizer.json')!, ...OPTIONAL.flatMap((p) => (byPath.has(p) ? [byPath.get(p)!] : [])), ...weights];
  const files: PlannedFile[] = [];
  // the listing is somebody else's: every file to fetch needs a safe path and a stated size
  for (const f of wanted) {
    checkRepoPath(f.path, `${spec.repo}: the file`);
    checkListedSize(f.size, `${spec.repo}: ${f.path}`);
  }
  for (const f of wanted) files.push({ ...f, cached: (await cache.get(keyOf(client, spec, f.path), f.oid).then((d) => d !== null)) });
  const totalBytes = files.reduce((a, f) => a + f.size, 0);
  return {
    spec,
    endpoint: client.endpoint,
    name: spec.repo.slice(spec.repo.indexOf('/') + 1),
    files,
    totalBytes,
    downloadBytes: files.filter((f) => !f.cached).reduce((a, f) => a + f.size, 0),
    config: parsed,
    gguf: null,
    offline,
  };
}

/** The plan of a repository of GGUF files: the choices, and the chosen file (when named or the only one). */
async function planGguf(client: HubClient, cache: HubCache, spec: ModelSpec, listing: RepoFile[], offline: boolean): Promise<ModelPlan> {
  const g = ggufChoices(listing);
  const repoSpec = formatModelSpec({ repo: spec.repo, revision: spec.revision });
  if (g.choices.length === 0) {
    const skipped = describeSkipped(g);
    throw new HubError(`${repoSpec} has no GGUF file this playground can read${skipped ? ` (set aside: ${skipped})` : ''}; files: ${listNames(listing)}`);
  }
  const picked = pickGguf(g, spec.file, repoSpec);
  const chosen = picked ? checkedChoice(picked, spec.repo) : null;
  const files: PlannedFile[] = chosen
    ? [{ path: chosen.path, size: chosen.size, oid: chosen.oid, cached: (await cache.get(keyOf(client, spec, chosen.path), chosen.oid)) !== null }]
    : [];
  // the architecture from the file's first bytes (one Range request), so an unsupported one is refused before the rest moves
  let architecture: string | null = null;
  if (chosen && !files[0].cached && !offline) {
    architecture = await peekArchitecture(client, spec, chosen.path);
    if (architecture !== null && !GGUF_ARCHITECTURES[architecture]) {
      throw new HubError(
        `${repoSpec}: ${chosen.path} holds a ${JSON.stringify(architecture.slice(0, 64))} model (general.architecture), which is not supported ` +
          `(supported: ${Object.keys(GGUF_ARCHITECTURES).join(', ')}); nothing else was downloaded`,
      );
    }
  }
  const totalBytes = files.reduce((a, f) => a + f.size, 0);
  return {
    spec,
    endpoint: client.endpoint,
    name: spec.repo.slice(spec.repo.indexOf('/') + 1),
    files,
    totalBytes,
    downloadBytes: files.filter((f) => !f.cached).reduce((a, f) => a + f.size, 0),
    config: null,
    gguf: { ...g, chosen, architecture },
    offline,
  };
}

/** The first bytes a GGUF file's architecture is looked for in (llama.cpp writes general.architecture first). */
export const GGUF_PEEK_BYTES = 64 * 1024;

/** general.architecture from the first GGUF_PEEK_BYTES of the file, or null when they do not hold it or the
 * server does not answer a Range request with them (the load then reads it from the whole file). */
async function peekArchitecture(client: HubClient, spec: ModelSpec, path: string): Promise<string | null> {
  try {
    const { url } = await client.fileInfo('model', spec.repo, spec.revision, path);
    const res = await client.fetch(url, { headers: { Range: `bytes=0-${GGUF_PEEK_BYTES - 1}` } });
    if (res.status !== 206 && res.status !== 200) return null;
    // read at most GGUF_PEEK_BYTES, whatever the server sends
    const reader = res.body?.getReader();
    if (!reader) return null;
    const prefix = new Uint8Array(GGUF_PEEK_BYTES);
    let n = 0;
    while (n < GGUF_PEEK_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, GGUF_PEEK_BYTES - n);
      prefix.set(value.subarray(0, take), n);
      n += take;
    }
    await reader.cancel().catch(() => {});
    const v = peekGgufMetadata(prefix.subarray(0, n), path, 'general.architecture');
    return typeof v === 'string' ? v : null;
  } catch (e) {
    if (e instanceof HubError && e.status !== null && e.status !== 416) throw e; // refused (gated, missing): say so now
    if (e instanceof Error && /not a GGUF file|GGUF version/.test(e.message)) throw new HubError(`${formatModelSpec({ repo: spec.repo, revision: spec.revision })}: ${e.message}; nothing else was downloaded`);
    return null;
  }
}

/** What the plan loads, for a line: the architecture, or "GGUF Q4_K_M (file)" */
export function planKind(plan: ModelPlan): string {
  if (plan.config) return plan.config.architecture;
  const c = plan.gguf?.chosen;
  const arch = plan.gguf?.architecture;
  return c ? `GGUF${c.quant ? ` ${c.quant}` : ''} (${c.path}${arch ? `, ${arch}` : ''})` : 'GGUF';
}

/** Throws (with the choices and how to pick one) when the plan is of several GGUF files and none was chosen. */
export function requireChosen(plan: ModelPlan): void {
  if (plan.gguf && !plan.gguf.chosen) throw new HubError(chooseMessage(plan.gguf, formatModelSpec({ repo: plan.spec.repo, revision: plan.spec.revision })));
}

/** The repository's listing from the Hub (and kept in the cache); when the Hub cannot be reached at all
 * (no answer, not a refusal), the listing kept at the last load. */
async function listWithCache(client: HubClient, cache: HubCache, spec: ModelSpec): Promise<{ listing: RepoFile[]; offline: boolean }> {
  const key = keyOf(client, spec, LISTING_FILE);
  try {
    const listing = await client.listRepoFiles('model', spec.repo, spec.revision);
    const sink = await cache.open(key, null);
    await sink.reset();
    await sink.write(new TextEncoder().encode(JSON.stringify(listing)));
    await sink.finish('listing');
    return { listing, offline: false };
  } catch (e) {
    if (!(e instanceof HubError) || e.status !== null) throw e;
    const kept = await cache.get(key, null);
    if (!kept) throw e;
    return { listing: JSON.parse(await dataText(kept)) as RepoFile[], offline: true };
  }
}

/** The file's download URL, from @huggingface/hub's fileDownloadInfo (asked only when it is not cached). */
function resolveUrl(client: HubClient, spec: ModelSpec, path: string): () => Promise<string> {
  return async () => (await client.fileInfo('model', spec.repo, spec.revision, path)).url;
}

/** "3 files, 2.1 MB to download (1.2 kB cached)" */
export function describePlan(plan: ModelPlan): string {
  if (plan.gguf && !plan.gguf.chosen) return `${plan.gguf.choices.length} GGUF files (quantisations): choose one`;
  const cached = plan.totalBytes - plan.downloadBytes;
  const n = plan.files.length;
  const files = `${n} file${n === 1 ? '' : 's'}`;
  if (plan.offline) {
    const missing = plan.downloadBytes ? `; ${formatSize(plan.downloadBytes)} not cached cannot download now` : ', all in the cache';
    return `${files}, ${formatSize(plan.totalBytes)} (offline: the Hub cannot be reached, the listing of the last load is used${missing})`;
  }
  if (plan.downloadBytes === 0) return `${files}, ${formatSize(plan.totalBytes)}, all in the cache: nothing to download`;
  return `${files}, ${formatSize(plan.totalBytes)}: ${formatSize(plan.downloadBytes)} to download${cached ? ` (${formatSize(cached)} already cached)` : ''}`;
}

/** Every planned file, from the cache or downloaded (resumably); progress per file and in total. */
export async function fetchModel(
  client: HubClient,
  cache: HubCache,
  plan: ModelPlan,
  onProgress?: (p: ModelProgress) => void,
  opts: { retries?: number; retryDelayMs?: number; signal?: AbortSignal } = {},
): Promise<FetchedFile[]> {
  requireChosen(plan);
  const out: FetchedFile[] = [];
  let done = 0;
  for (const f of plan.files) {
    const { data } = await fetchFile(client, cache, keyOf(client, plan.spec, f.path), {
      url: resolveUrl(client, plan.spec, f.path),
      size: f.size,
      version: f.oid,
      ...opts,
      onProgress: (p) => onProgress?.({ file: p, filesDone: out.length, files: plan.files.length, bytesDone: done + p.loaded, totalBytes: plan.totalBytes }),
    });
    done += f.size;
    out.push({ name: `${plan.name}/${f.path}`, data });
  }
  onProgress?.({
    file: { path: plan.files[plan.files.length - 1].path, loaded: 0, size: 0, fromCache: false, resumedFrom: 0, retries: 0 },
    filesDone: out.length,
    files: plan.files.length,
    bytesDone: plan.totalBytes,
    totalBytes: plan.totalBytes,
  });
  return out;
}
