// Models from URLs: a Hugging Face repository ("https://huggingface.co/org/name", "org/name", a /tree/rev
// page) is expanded to its files' "resolve" URLs; any other input is one URL per line (e.g. a llama2.c
// checkpoint and its tokenizer.bin). Files are downloaded with progress and kept in the browser's Cache
// Storage, so loading the same URL again reads from disk without touching the network.

export interface PlannedFile {
  url: string;
  /** name given to the loader (a folder-like prefix names the model: "SmolLM2-135M/config.json") */
  name: string;
  /** a missing optional file (404) is skipped */
  optional: boolean;
}

export interface UrlPlan {
  /** "org/name" when the input named a Hugging Face repository */
  repo: string | null;
  /** the base of resolve URLs (repository inputs), for shards named by model.safetensors.index.json */
  resolveBase: string | null;
  files: PlannedFile[];
  /** weights still to find: try model.safetensors, else the index and its shards (repository inputs) */
  discoverWeights: boolean;
}

const HF_HOST = 'https://huggingface.co';
const REPO_RE = /^https?:\/\/(?:www\.)?huggingface\.co\/([\w.-]+)\/([\w.-]+)(?:\/tree\/([\w.%-]+))?\/?$/;
const SHORT_RE = /^([\w.-]+)\/([\w.-]+)$/;

function baseName(url: string): string {
  const path = url.split(/[?#]/)[0];
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || 'file';
}

/** What to download for the text in the URL box; throws with what to write instead. */
export function planModelUrls(input: string): UrlPlan {
  const lines = input
    .split(/\s*\n\s*/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 0) throw new Error('enter a Hugging Face model (https://huggingface.co/org/name) or the URLs of the model files, one per line');
  if (lines.length === 1) {
    const m = REPO_RE.exec(lines[0]) ?? (lines[0].includes('://') ? null : SHORT_RE.exec(lines[0]));
    if (m) {
      const [, org, name, rev] = m;
      const resolveBase = `${HF_HOST}/${org}/${name}/resolve/${rev ?? 'main'}/`;
      const file = (f: string, optional: boolean): PlannedFile => ({ url: resolveBase + f, name: `${name}/${f}`, optional });
      return {
        repo: `${org}/${name}`,
        resolveBase,
        files: [
          file('config.json', false),
          file('tokenizer.json', false),
          file('tokenizer_config.json', true),
          file('generation_config.json', true),
          file('chat_template.jinja', true),
        ],
        discoverWeights: true,
      };
    }
  }
  const files = lines.map((url) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`"${url}" is not a URL; write one URL per line, e.g. https://huggingface.co/org/name/resolve/main/config.json`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`"${url}": only http(s) URLs can be downloaded`);
    // a Hugging Face "blob" page is HTML; its "resolve" URL is the file
    const href = parsed.href.replace(/^(https?:\/\/(?:www\.)?huggingface\.co\/[^/]+\/[^/]+)\/blob\//, '$1/resolve/');
    return { url: href, name: baseName(href), optional: false };
  });
  return { repo: null, resolveBase: null, files, discoverWeights: false };
}

export interface DownloadProgress {
  /** the file being read */
  file: string;
  /** files done and files planned (the count may grow when shards are discovered) */
  done: number;
  files: number;
  /** bytes of this file so far, and its size when the server says */
  loaded: number;
  total: number | null;
  /** bytes of all files so far */
  bytesDone: number;
  /** bytes of all files, when known in advance (Hub models: from the repository's listing) */
  bytesTotal?: number | null;
  /** where a resumed download of this file continued from (HTTP Range) */
  resumedFrom?: number;
  fromCache: boolean;
}

export interface Downloaded {
  name: string;
  bytes: Uint8Array;
  fromCache: boolean;
}

/** The parts of the browser the downloader uses (tests pass stand-ins). */
export interface DownloadEnv {
  fetch: (url: string) => Promise<Response>;
  /** Cache Storage's cache, or null where there is none (insecure contexts) */
  cache: Pick<Cache, 'match' | 'put'> | null;
}

export const MODEL_CACHE_NAME = 'grpo-playground-models-v1';

export async function browserDownloadEnv(): Promise<DownloadEnv> {
  let cache: Cache | null = null;
  try {
    if (typeof caches !== 'undefined') cache = await caches.open(MODEL_CACHE_NAME);
  } catch {
    cache = null; // e.g. storage blocked: download without caching
  }
  return { fetch: (url) => fetch(url), cache };
}

class NotFound extends Error {}

/** Reads a response body to the end, reporting bytes as they arrive. */
async function readBody(res: Response, onBytes: (loaded: number, total: number | null) => void): Promise<Uint8Array> {
  const header = res.headers.get('content-length');
  const total = header !== null && /^\d+$/.test(header) ? Number(header) : null;
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    onBytes(bytes.length, total);
    return bytes;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  onBytes(0, total);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    onBytes(loaded, total);
  }
  const out = new Uint8Array(new ArrayBuffer(loaded));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Downloads (or reads from the cache) every planned file, discovering weights for repository inputs. */
export async function downloadModel(plan: UrlPlan, env: DownloadEnv, onProgress: (p: DownloadProgress) => void): Promise<Downloaded[]> {
  const queue = [...plan.files];
  let planned = queue.length + (plan.discoverWeights ? 1 : 0);
  const out: Downloaded[] = [];
  let bytesDone = 0;

  const get = async (f: PlannedFile): Promise<Downloaded | null> => {
    const cached = env.cache ? await env.cache.match(f.url) : undefined;
    if (cached) {
      const bytes = new Uint8Array(await cached.arrayBuffer());
      bytesDone += bytes.length;
      onProgress({ file: f.name, done: out.length + 1, files: planned, loaded: bytes.length, total: bytes.length, bytesDone, fromCache: true });
      return { name: f.name, bytes, fromCache: true };
    }
    let res: Response;
    try {
      res = await env.fetch(f.url);
    } catch (e) {
      throw new Error(`${f.url}: the download failed (${(e as Error).message}); check the URL and your connection (the server must allow cross-origin requests)`);
    }
    if (res.status === 404) {
      if (f.optional) return null;
      throw new NotFound(`${f.url}: not found (404)`);
    }
    if (!res.ok) {
      const hint = res.status === 401 || res.status === 403 ? ' (a gated or private model: download its files and load them from disk instead)' : '';
      throw new Error(`${f.url}: the server answered ${res.status} ${res.statusText}${hint}`);
    }
    const before = bytesDone;
    const bytes = await readBody(res, (loaded, total) =>
      onProgress({ file: f.name, done: out.length, files: planned, loaded, total, bytesDone: before + loaded, fromCache: false }),
    );
    bytesDone = before + bytes.length;
    if (env.cache) {
      try {
        await env.cache.put(f.url, new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/octet-stream' } }));
      } catch {
        // out of quota: the model still loads, it is just not cached
      }
    }
    return { name: f.name, bytes, fromCache: false };
  };

  for (const f of queue) {
    const d = await get(f);
    if (d) out.push(d);
  }
  if (plan.discoverWeights && plan.resolveBase) {
    const prefix = plan.files[0].name.slice(0, plan.files[0].name.lastIndexOf('/') + 1);
    const file = (n: string, optional: boolean): PlannedFile => ({ url: plan.resolveBase + n, name: prefix + n, optional });
    const single = await get(file('model.safetensors', true));
    if (single) out.push(single);
    else {
      const index = await get(file('model.safetensors.index.json', true));
      if (!index) throw new Error(`${plan.repo}: has neither model.safetensors nor model.safetensors.index.json (only safetensors weights can be loaded)`);
      out.push(index);
      let shards: string[];
      try {
        const map = (JSON.parse(new TextDecoder().decode(index.bytes)) as { weight_map?: Record<string, string> }).weight_map ?? {};
        shards = [...new Set(Object.values(map))];
      } catch (e) {
        throw new Error(`${plan.repo}: model.safetensors.index.json is not valid JSON: ${(e as Error).message}`);
      }
      planned += shards.length;
      for (const s of shards) out.push((await get(file(s, false)))!);
    }
  }
  return out;
}
