// The page's Hub cache, in Cache Storage ("grpo-playground-hub-v1"): each file is one entry whose URL is
// its key (https://hub-cache.invalid/HOST/models/ORG/NAME/REVISION/PATH), with its version and size in
// the stored response's headers. A download that stopped half way is kept under the same URL + "?partial"
// and continued from its length. Also lists and deletes cached repositories for the cache manager.

import { keyPath, LISTING_FILE, parseKeyPath, type CachedRepo, type DownloadSink, type FileKey, type HubCache } from './cache';

export const HUB_CACHE_NAME = 'grpo-playground-hub-v1';
const BASE = 'https://hub-cache.invalid/';
const VERSION = 'x-hub-version';

function urlOf(key: FileKey): string {
  return BASE + keyPath(key).split('/').map(encodeURIComponent).join('/');
}

function keyOfUrl(url: string): FileKey | null {
  if (!url.startsWith(BASE)) return null;
  const path = new URL(url).pathname.slice(1).split('/').map(decodeURIComponent).join('/');
  return parseKeyPath(path);
}

function response(data: Blob, version: string): Response {
  return new Response(data, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.size), [VERSION]: version } });
}

export class BrowserHubCache implements HubCache {
  private constructor(private readonly cache: Cache | null) {}

  /** The cache, or one that keeps nothing where Cache Storage is unavailable (insecure page, storage blocked). */
  static async open(): Promise<BrowserHubCache> {
    try {
      if (typeof caches !== 'undefined') return new BrowserHubCache(await caches.open(HUB_CACHE_NAME));
    } catch {
      // storage blocked: downloads still work, they are just not kept
    }
    return new BrowserHubCache(null);
  }

  get available(): boolean {
    return this.cache !== null;
  }

  async get(key: FileKey, version: string | null): Promise<Blob | null> {
    const res = await this.cache?.match(urlOf(key));
    if (!res || (version !== null && res.headers.get(VERSION) !== version)) return null;
    return res.blob();
  }

  async open(key: FileKey, version: string | null): Promise<DownloadSink> {
    const cache = this.cache;
    const url = urlOf(key);
    const partialUrl = `${url}?partial`;
    const chunks: BlobPart[] = [];
    let offset = 0;
    const kept = await cache?.match(partialUrl);
    if (kept && (version === null || kept.headers.get(VERSION) === version)) {
      const blob = await kept.blob();
      chunks.push(blob);
      offset = blob.size;
    }
    const keptVersion = kept?.headers.get(VERSION) ?? '';
    const discard = async () => {
      chunks.length = 0;
      offset = 0;
      try {
        await cache?.delete(partialUrl);
      } catch {
        // storage blocked: nothing was kept
      }
    };
    return {
      get offset() {
        return offset;
      },
      async write(chunk) {
        chunks.push(chunk as Uint8Array<ArrayBuffer>);
        offset += chunk.length;
      },
      async reset() {
        chunks.length = 0;
        offset = 0;
      },
      async finish(v, check) {
        const blob = new Blob(chunks);
        try {
          await check?.(blob);
        } catch (e) {
          await discard();
          throw e;
        }
        try {
          await cache?.put(url, response(blob, v));
          await cache?.delete(partialUrl);
        } catch {
          // out of quota: the file is used, just not kept
        }
        return blob;
      },
      discard,
      async suspend() {
        if (!cache || offset === 0) return;
        try {
          await cache.put(partialUrl, response(new Blob(chunks), version ?? keptVersion));
        } catch {
          // out of quota: the next attempt starts over
        }
      },
    };
  }

  /** Cached repositories with their file counts and sizes. */
  async list(): Promise<CachedRepo[]> {
    if (!this.cache) return [];
    const repos = new Map<string, CachedRepo>();
    for (const req of await this.cache.keys()) {
      const partial = req.url.endsWith('?partial');
      const key = keyOfUrl(partial ? req.url.slice(0, -'?partial'.length) : req.url);
      if (!key) continue;
      const listing = key.path === LISTING_FILE;
      const id = `${key.endpoint} ${key.kind} ${key.repo} ${key.revision}`;
      let r = repos.get(id);
      if (!r) repos.set(id, (r = { endpoint: key.endpoint, kind: key.kind, repo: key.repo, revision: key.revision, files: 0, bytes: 0, partialBytes: 0 }));
      const res = await this.cache.match(req);
      const size = Number(res?.headers.get('content-length') ?? 0) || 0;
      if (listing) continue;
      if (partial) r.partialBytes += size;
      else {
        r.files++;
        r.bytes += size;
      }
    }
    return [...repos.values()].sort((a, b) => a.repo.localeCompare(b.repo) || a.revision.localeCompare(b.revision));
  }

  /** Deletes every cached file (and partial download) of the repository at the revision. */
  async delete(repo: Pick<CachedRepo, 'endpoint' | 'kind' | 'repo' | 'revision'>): Promise<number> {
    if (!this.cache) return 0;
    let n = 0;
    for (const req of await this.cache.keys()) {
      const key = keyOfUrl(req.url.replace(/\?partial$/, ''));
      if (key && key.endpoint === repo.endpoint && key.kind === repo.kind && key.repo === repo.repo && key.revision === repo.revision) {
        await this.cache.delete(req);
        n++;
      }
    }
    return n;
  }
}
