// One file from the Hub into a HubCache: read from the cache when it holds this version, else downloaded
// with progress; when the connection drops, the download continues where it stopped with an HTTP Range
// request (a few tries, waiting a little longer each time), and when it cannot, what arrived is kept so
// that loading again resumes instead of starting over.

import { dataSize, type CachedData, type FileKey, type HubCache } from './cache';
import { HubError, type HubClient } from './client';
import { checkListedSize, IntegrityError, MAX_UNKNOWN_SIZE, verifyDownload } from './verify';

export interface FileProgress {
  path: string;
  /** bytes of this file so far (a resumed download starts at what was kept) */
  loaded: number;
  size: number | null;
  fromCache: boolean;
  /** where the last Range request started (0: from the beginning) */
  resumedFrom: number;
  /** attempts after a dropped connection so far */
  retries: number;
}

export interface DownloadOptions {
  /** the URL to GET (a resolve URL, a parquet URL; it may redirect to a CDN), or how to find it when
   * the file is not cached */
  url: string | (() => Promise<string>);
  /** the size the listing gave, when it gave one */
  size: number | null;
  /** the version to store and look up (listing oid); null: any cached version, stored with the ETag */
  version: string | null;
  onProgress?: (p: FileProgress) => void;
  /** a file without a listed size stops here (default MAX_UNKNOWN_SIZE, 2 GiB) */
  maxBytes?: number;
  /** tries after a dropped connection before giving up (default 3) */
  retries?: number;
  /** first wait before a retry, doubled each time (default 300 ms) */
  retryDelayMs?: number;
  signal?: AbortSignal;
}

const MB = 1024 * 1024;

export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < MB) return `${(n / 1024).toFixed(1)} kB`;
  if (n < 1024 * MB) return `${(n / MB).toFixed(1)} MB`;
  return `${(n / 1024 / MB).toFixed(2)} GB`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason instanceof Error ? signal.reason : new Error('cancelled'));
    });
  });
}

/** "bytes 100-199/1000" -> [100, 1000] */
function contentRange(header: string | null): { start: number; total: number | null } | null {
  const m = header ? /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header.trim()) : null;
  return m ? { start: Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) } : null;
}

/** The cached file, or the file downloaded into the cache (resuming a kept partial download). What arrives
 * must agree with the listing: its size (a server's Content-Length or Content-Range that disagrees is
 * refused), its hash (verify.ts, before the file is stored), and a 206 only as the answer to our Range
 * request; a file without a listed size stops at opts.maxBytes. A refused download is discarded, not kept. */
export async function fetchFile(client: HubClient, cache: HubCache, key: FileKey, opts: DownloadOptions): Promise<{ data: CachedData; fromCache: boolean }> {
  const name = `${key.repo}: ${key.path}`;
  const listed = opts.size === null ? null : checkListedSize(opts.size, name);
  const cached = await cache.get(key, opts.version);
  if (cached) {
    const n = dataSize(cached);
    opts.onProgress?.({ path: key.path, loaded: n, size: n, fromCache: true, resumedFrom: 0, retries: 0 });
    return { data: cached, fromCache: true };
  }
  const url = typeof opts.url === 'string' ? opts.url : await opts.url();
  const sink = await cache.open(key, opts.version);
  const cap = listed ?? opts.maxBytes ?? MAX_UNKNOWN_SIZE;
  const maxRetries = opts.retries ?? 3;
  let retries = 0;
  let size = listed;
  let etag = opts.version ?? '';
  let lastProblem = '';
  const refuse = async (why: string): Promise<never> => {
    await sink.discard();
    throw new IntegrityError(`${name}: ${why}; what arrived was discarded (load again to download it afresh)`);
  };
  const finish = async () => ({
    data: await sink.finish(etag, (d) => verifyDownload(d, { size, oid: opts.version }, name)),
    fromCache: false,
  });
  if (sink.offset > cap) await refuse(`the kept partial download (${formatSize(sink.offset)}) is longer than the file's ${formatSize(cap)}`);
  for (;;) {
    const from = sink.offset;
    if (size !== null && from === size && from > 0) return finish();
    const report = (loaded: number) => opts.onProgress?.({ path: key.path, loaded, size, fromCache: false, resumedFrom: from, retries });
    let res: Response | null = null;
    try {
      res = await client.fetch(url, { headers: from > 0 ? { Range: `bytes=${from}-` } : {}, signal: opts.signal });
    } catch (e) {
      if (opts.signal?.aborted) {
        await sink.suspend();
        throw e;
      }
      lastProblem = (e as Error).message;
    }
    if (res) {
      if (res.status === 416 && size !== null && from >= size) return finish();
      if (!res.ok) {
        await sink.suspend();
        let said = '';
        try {
          said = ((await res.json()) as { error?: string }).error ?? '';
        } catch {
          // not JSON
        }
        throw client.failure(res.status, res.headers.get('x-error-code'), said, { kind: key.kind, repo: key.repo, revision: key.revision, file: key.path });
      }
      if (res.status === 206) {
        const header = res.headers.get('content-range');
        const range = contentRange(header);
        if (from === 0) await refuse('the server answered 206 (part of the file) to a request for the whole file');
        if (!range || range.start !== from) await refuse(`asked for the bytes from ${from}, the server sent ${header === null ? 'no Content-Range' : `"${header}"`}`);
        if (range!.total !== null) {
          if (listed !== null && range!.total !== listed) await refuse(`the server says the file has ${range!.total} bytes, the listing says ${listed}`);
          size = range!.total;
        }
      } else {
        if (from > 0) await sink.reset(); // the whole file came instead of the rest
        const length = Number(res.headers.get('content-length') ?? NaN);
        // a compressed answer's Content-Length is not the file's size
        if (Number.isFinite(length) && !res.headers.get('content-encoding')) {
          if (listed !== null && length !== listed) await refuse(`the server sends ${length} bytes, the listing says ${listed}`);
          size = length;
        }
      }
      if (size !== null && size > cap) await refuse(`the server announces ${formatSize(size)}, more than the ${formatSize(cap)} allowed for a file without a listed size`);
      etag = opts.version ?? (res.headers.get('etag') ?? '').replace(/^W\//, '').replace(/"/g, '');
      report(sink.offset);
      try {
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (sink.offset + value.length > (size ?? cap)) {
            await reader.cancel().catch(() => undefined);
            await refuse(size !== null ? `the server sent more bytes than the file's ${formatSize(size)}` : `more than ${formatSize(cap)} arrived for a file without a listed size`);
          }
          await sink.write(value);
          report(sink.offset);
        }
        if (size === null || sink.offset === size) return await finish();
        lastProblem = `the server closed the connection at ${formatSize(sink.offset)} of ${formatSize(size)}`;
      } catch (e) {
        if (e instanceof HubError) throw e;
        if (opts.signal?.aborted) {
          await sink.suspend();
          throw e;
        }
        lastProblem = `the connection dropped at ${formatSize(sink.offset)}${size !== null ? ` of ${formatSize(size)}` : ''} (${(e as Error).message})`;
      }
    }
    if (retries >= maxRetries) {
      await sink.suspend();
      const kept = sink.offset > 0 ? `; the ${formatSize(sink.offset)} that arrived are kept: load again to resume from there` : '';
      throw new HubError(`${name}: ${lastProblem}, ${retries} ${retries === 1 ? 'retry' : 'retries'} failed${kept}`);
    }
    retries++;
    await sleep((opts.retryDelayMs ?? 300) * 2 ** (retries - 1), opts.signal);
  }
}
