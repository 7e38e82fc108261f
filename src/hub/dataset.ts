// A dataset by its repository id: the Hub converts every dataset to parquet (on the repository's
// refs/convert/parquet revision) and lists the files per config and split at
// GET {endpoint}/api/datasets/{repo}/parquet -> { config: { split: [url, ...] } }. The chosen split's files
// are fetched into the cache like model files (resumable, found again without downloading).

import type { CachedData, FileKey, HubCache } from './cache';
import { HubError, type HubClient } from './client';
import { fetchFile, type FileProgress } from './download';
import type { DatasetSpec } from './repo_id';
import { checkSegment, urlFileName } from './verify';

/** config -> split -> parquet file URLs */
export type ParquetListing = Record<string, Record<string, string[]>>;

export interface DatasetChoice {
  repo: string;
  config: string;
  split: string;
  urls: string[];
}

export interface DatasetProgress {
  file: FileProgress;
  filesDone: number;
  files: number;
}

/** The configs and splits of a dataset, with their parquet files. */
export async function listParquet(client: HubClient, repo: string): Promise<ParquetListing> {
  const json = await client.getJson(`/api/datasets/${repo}/parquet`, { kind: 'dataset', repo });
  const bad = () => new HubError(`${repo}: the Hub's parquet listing is not {config: {split: [urls]}}`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad();
  const out: ParquetListing = {};
  for (const [config, splits] of Object.entries(json as Record<string, unknown>)) {
    if (typeof splits !== 'object' || splits === null || Array.isArray(splits)) throw bad();
    out[config] = {};
    for (const [split, urls] of Object.entries(splits as Record<string, unknown>)) {
      if (!Array.isArray(urls) || urls.some((u) => typeof u !== 'string')) throw bad();
      out[config][split] = urls as string[];
    }
  }
  if (Object.keys(out).length === 0) throw new HubError(`${repo}: the Hub lists no parquet files for this dataset (it may not have been converted yet)`);
  return out;
}

const quoteList = (xs: string[]) => xs.map((x) => `"${x}"`).join(', ');

/** The config and split to load: as given, else the only one / "default" config and the "train" split. */
export function chooseSplit(listing: ParquetListing, spec: DatasetSpec): DatasetChoice {
  const configs = Object.keys(listing);
  const config = spec.config ?? (configs.length === 1 ? configs[0] : configs.includes('default') ? 'default' : null);
  if (config === null) {
    throw new HubError(`${spec.repo} has several configs (${quoteList(configs)}): choose one, e.g. hf:${spec.repo}:${configs[0]}`);
  }
  const splits = listing[config];
  if (!splits) throw new HubError(`${spec.repo} has no config "${config}"; its configs are ${quoteList(configs)}`);
  const names = Object.keys(splits);
  const split = spec.split ?? (names.includes('train') ? 'train' : names.length === 1 ? names[0] : null);
  if (split === null) throw new HubError(`${spec.repo}:${config} has several splits (${quoteList(names)}) and none is "train": choose one, e.g. hf:${spec.repo}:${config}/${names[0]}`);
  const urls = splits[split];
  if (!urls) throw new HubError(`${spec.repo}:${config} has no split "${split}"; its splits are ${quoteList(names)}`);
  if (urls.length === 0) throw new HubError(`${spec.repo}:${config}/${split} has no parquet files`);
  return { repo: spec.repo, config, split, urls };
}

/** The split's parquet files, from the cache or downloaded. Named CONFIG/SPLIT/FILE. */
export async function fetchSplit(
  client: HubClient,
  cache: HubCache,
  choice: DatasetChoice,
  onProgress?: (p: DatasetProgress) => void,
  opts: { retries?: number; retryDelayMs?: number; maxBytes?: number } = {},
): Promise<{ name: string; data: CachedData }[]> {
  const out: { name: string; data: CachedData }[] = [];
  for (const [i, url] of choice.urls.entries()) {
    // the listing's names become cache paths: each is checked as one safe file name (after URL-decoding)
    const href = new URL(url, client.endpoint).href;
    const file = new URL(href).pathname.endsWith('/') ? `${i}.parquet` : urlFileName(href, `${choice.repo}: parquet file ${i + 1}`);
    const path = `${checkSegment(choice.config, `${choice.repo}: the config name`)}/${checkSegment(choice.split, `${choice.repo}: the split name`)}/${file}`;
    const key: FileKey = { endpoint: client.endpoint, kind: 'dataset', repo: choice.repo, revision: 'refs/convert/parquet', path };
    const { data } = await fetchFile(client, cache, key, {
      url: href,
      size: null,
      version: null,
      ...opts,
      onProgress: (p) => onProgress?.({ file: p, filesDone: out.length, files: choice.urls.length }),
    });
    out.push({ name: path, data });
  }
  return out;
}
