// Where downloaded Hub files are kept: the page uses Cache Storage (cache_browser.ts), the command line a
// folder on disk (cache_node.ts). A file is found again by its key (endpoint host, repository, revision,
// path) and its version (the oid the listing gives, or the ETag); a download that stops half way keeps
// what arrived, so the next attempt asks for the rest with an HTTP Range request.

import type { RepoKind } from './client';
import { isRepoId } from './repo_id';
import { checkRepoPath, checkSegment, IntegrityError } from './verify';

/** A repository's listing, kept beside its files so that a cached model loads without the network
 * (not a file of the repository: the cache manager does not count it). */
export const LISTING_FILE = '.grpo-listing.json';

export interface FileKey {
  /** the endpoint, e.g. https://huggingface.co */
  endpoint: string;
  kind: RepoKind;
  repo: string;
  revision: string;
  /** the file's path in the repository */
  path: string;
}

/** A cached file's bytes: a Blob (the page: read from disk when used) or bytes in memory (Node). */
export type CachedData = Blob | Uint8Array;

export interface DownloadSink {
  /** bytes already held (a kept partial download of the same version), where the download continues */
  readonly offset: number;
  write(chunk: Uint8Array): Promise<void>;
  /** drop what is held: the server sent the whole file instead of the range */
  reset(): Promise<void>;
  /** the file is complete: run `check` on it (the size and hash the listing promised), then store it
   * (version = its oid/ETag) and return it; when the check throws, the partial file is discarded */
  finish(version: string, check?: (data: CachedData) => Promise<void>): Promise<CachedData>;
  /** drop what arrived and forget the partial download (it cannot be trusted) */
  discard(): Promise<void>;
  /** the download stopped: keep what arrived for a later resume */
  suspend(): Promise<void>;
}

export interface HubCache {
  /** The complete file when it is cached at this version (null: any version). */
  get(key: FileKey, version: string | null): Promise<CachedData | null>;
  /** A sink that continues a partial download of this version (null: any), else starts empty. */
  open(key: FileKey, version: string | null): Promise<DownloadSink>;
}

/** One cached repository, as the cache manager lists it. */
export interface CachedRepo {
  endpoint: string;
  kind: RepoKind;
  repo: string;
  revision: string;
  files: number;
  bytes: number;
  /** bytes of downloads that stopped half way */
  partialBytes: number;
}

/** "huggingface.co/models/org/name/main/config.json": the key as a relative path (revision escaped; an
 * http endpoint's host is written "http_HOST"). */
export function keyPath(key: FileKey): string {
  const url = new URL(key.endpoint);
  const host = url.protocol === 'http:' ? `http_${url.host}` : url.host;
  // every part is checked: a key comes from listings and URLs that somebody else wrote
  if (!isRepoId(key.repo)) throw new IntegrityError(`${JSON.stringify(key.repo)} is not a repository id (ORG/NAME)`);
  const revision = checkSegment(encodeURIComponent(key.revision), `${key.repo}: the revision`);
  return `${host}/${key.kind}s/${key.repo}/${revision}/${checkRepoPath(key.path, key.repo)}`;
}

/** The key back from keyPath's text. */
export function parseKeyPath(path: string): FileKey | null {
  const m = /^([^/]+)\/(model|dataset)s\/([^/]+\/[^/]+)\/([^/]+)\/(.+)$/.exec(path);
  if (!m) return null;
  const endpoint = m[1].startsWith('http_') ? `http://${m[1].slice(5)}` : `https://${m[1]}`;
  return { endpoint, kind: m[2] as RepoKind, repo: m[3], revision: decodeURIComponent(m[4]), path: m[5] };
}

export function dataSize(d: CachedData): number {
  return d instanceof Uint8Array ? d.byteLength : d.size;
}

export async function dataBytes(d: CachedData): Promise<Uint8Array> {
  return d instanceof Uint8Array ? d : new Uint8Array(await d.arrayBuffer());
}

export async function dataText(d: CachedData): Promise<string> {
  return d instanceof Uint8Array ? new TextDecoder().decode(d) : d.text();
}
