// A Hub-shaped HTTP server for tests (no internet): two Node http servers on 127.0.0.1 with random ports,
// "hub" (the endpoint: API, resolve URLs, the parquet listing) and "cdn" (where large files redirect, a
// different origin, as cdn-lfs / cas-bridge hosts are for huggingface.co). It serves what @huggingface/hub
// and the playground read:
//   GET /api/models/ORG/NAME[/revision/REV]         {id, sha, siblings}
//   GET /api/{models,datasets}/ORG/NAME/tree/REV    [{type, oid, size, path, lfs?}] (paged with Link)
//   GET [/datasets]/ORG/NAME/resolve/REV/PATH       small files here; large ones 302 to the cdn with
//                                                   X-Linked-Size / X-Linked-ETag; Range -> 206
//   GET /api/datasets/ORG/NAME/parquet              {config: {split: [urls]}}, each url 302 to resolve
//                                                   on refs/convert/parquet
// Gated repos answer 401 (GatedRepo) without the right token and 403 with a wrong one; unknown repos,
// revisions and files 404 with X-Error-Code RepoNotFound / RevisionNotFound / EntryNotFound. A file can be
// made to drop its connection part way (once, or until cleared). Every request is logged.

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RepoFixture {
  files: Map<string, Uint8Array>;
  /** the token that opens a gated repo */
  gatedToken?: string;
}

export interface DatasetFixture {
  /** config -> split -> parquet files (in order) */
  parquet: Record<string, Record<string, Uint8Array[]>>;
  gatedToken?: string;
}

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  range: string | null;
  authorization: string | null;
  status: number;
}

export interface DropRule {
  /** bytes of the file (from its start) served before the connection is cut */
  at: number;
  /** 'once': the next response only; 'always': every response until cleared */
  mode: 'once' | 'always';
}

export interface HubServer {
  url: string;
  cdnUrl: string;
  log: LoggedRequest[];
  models: Map<string, RepoFixture>;
  datasets: Map<string, DatasetFixture>;
  /** cut responses of a file (by its path within the repo, e.g. "model.safetensors") */
  drop(path: string, rule: DropRule): void;
  clearDrops(): void;
  /** sends large files in pieces of this many bytes with this pause between (to watch progress) */
  throttle(chunk: number, pauseMs: number): void;
  /** tree listings give at most this many entries per page */
  pageSize: number;
  /** a misbehaving server: when set and it returns true for a request, it has answered it itself */
  intercept: ((req: IncomingMessage, res: ServerResponse, at: { server: 'hub' | 'cdn'; path: string }) => boolean) | null;
  close(): Promise<void>;
}

/** Files above this size are "LFS": their resolve URL redirects to the cdn. */
const LFS_THRESHOLD = 1000;
const COMMIT = 'a'.repeat(40);

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const gitOid = (b: Uint8Array) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

function cors(res: ServerResponse): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Headers', 'authorization, range, accept, content-type');
  res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
  res.setHeader(
    'Access-Control-Expose-Headers',
    'content-range, content-length, etag, accept-ranges, link, x-error-code, x-linked-size, x-linked-etag, x-repo-commit, x-request-id',
  );
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function startHubServer(init: { models?: Record<string, RepoFixture>; datasets?: Record<string, DatasetFixture> } = {}): Promise<HubServer> {
  const models = new Map(Object.entries(init.models ?? {}));
  const datasets = new Map(Object.entries(init.datasets ?? {}));
  const drops = new Map<string, DropRule>();
  const log: LoggedRequest[] = [];
  let chunkSize = 1 << 30;
  let pauseMs = 0;
  const hub = createServer();
  const cdn = createServer();
  const sockets = new Set<import('node:net').Socket>();
  for (const s of [hub, cdn]) s.on('connection', (c) => (sockets.add(c), c.on('close', () => sockets.delete(c))));
  const url = await listen(hub);
  const cdnUrl = await listen(cdn);

  const state: HubServer = {
    url,
    cdnUrl,
    log,
    models,
    datasets,
    drop: (path, rule) => drops.set(path, rule),
    clearDrops: () => drops.clear(),
    throttle: (chunk, pause) => {
      chunkSize = chunk;
      pauseMs = pause;
    },
    pageSize: 1000,
    intercept: null,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        hub.close(() => cdn.close(() => resolve()));
      }),
  };

  const json = (res: ServerResponse, status: number, body: unknown, code?: string) => {
    if (code) res.setHeader('X-Error-Code', code);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  /** Files of a repo of either kind at a revision (datasets: their parquet files on refs/convert/parquet). */
  const repoFiles = (kind: 'model' | 'dataset', repo: string): { files: Map<string, Uint8Array>; gatedToken?: string } | null => {
    if (kind === 'model') return models.get(repo) ?? null;
    const d = datasets.get(repo);
    if (!d) return null;
    const files = new Map<string, Uint8Array>();
    for (const [config, splits] of Object.entries(d.parquet)) {
      for (const [split, parts] of Object.entries(splits)) parts.forEach((b, i) => files.set(`${config}/${split}/${String(i).padStart(4, '0')}.parquet`, b));
    }
    return { files, gatedToken: d.gatedToken };
  };

  /** null when the request may proceed; else the refusal has been sent. */
  const guard = (req: IncomingMessage, res: ServerResponse, kind: 'model' | 'dataset', repo: string, revision: string | null): Map<string, Uint8Array> | null => {
    const r = repoFiles(kind, repo);
    if (!r) {
      json(res, 404, { error: 'Repository not found' }, 'RepoNotFound');
      return null;
    }
    if (r.gatedToken) {
      const auth = req.headers.authorization;
      if (!auth) {
        json(res, 401, { error: `Access to ${kind} ${repo} is restricted. You must have access to it and be authenticated to access it. Please log in.` }, 'GatedRepo');
        return null;
      }
      if (auth !== `Bearer ${r.gatedToken}`) {
        json(res, 403, { error: `Access to ${kind} ${repo} is restricted and you are not in the authorized list.` }, 'GatedRepo');
        return null;
      }
    }
    const okRevision = kind === 'dataset' ? ['main', 'refs/convert/parquet', COMMIT] : ['main', COMMIT];
    if (revision !== null && !okRevision.includes(revision)) {
      json(res, 404, { error: `Invalid rev id: ${revision}` }, 'RevisionNotFound');
      return null;
    }
    return r.files;
  };

  /** Serves bytes with Range support, cutting the connection where a drop rule says. */
  const serveBytes = async (req: IncomingMessage, res: ServerResponse, path: string, bytes: Uint8Array, etag: string) => {
    let start = 0;
    let end = bytes.length - 1;
    const range = req.headers.range;
    const m = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    res.setHeader('ETag', `"${etag}"`);
    res.setHeader('Accept-Ranges', 'bytes');
    if (m) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), bytes.length - 1) : bytes.length - 1;
      if (start >= bytes.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` });
        res.end();
        return 416;
      }
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${bytes.length}`, 'Content-Length': String(end - start + 1), 'content-type': 'application/octet-stream' });
    } else res.writeHead(200, { 'Content-Length': String(bytes.length), 'content-type': 'application/octet-stream' });
    const rule = drops.get(path);
    const cut = rule && end - start > 0 ? rule.at : Infinity;
    if (rule?.mode === 'once' && end - start > 0) drops.delete(path);
    if (req.method === 'HEAD') {
      res.end();
      return res.statusCode;
    }
    let at = start;
    while (at <= end) {
      if (at >= cut) {
        res.flushHeaders();
        // every byte before the cut must have left this process (a loaded machine can hold some in Node's
        // write queue), so that the client has exactly `cut` bytes when the connection drops
        for (let i = 0; i < 500 && (res.socket?.writableLength ?? 0) > 0; i++) await sleep(10);
        await sleep(50);
        res.destroy(); // the connection drops mid-file
        return res.statusCode;
      }
      const stop = Math.min(end + 1, at + chunkSize, cut);
      if (!res.write(bytes.subarray(at, stop))) await new Promise((r) => res.once('drain', r));
      at = stop;
      if (pauseMs && at <= end) await sleep(pauseMs);
    }
    res.end();
    return res.statusCode;
  };

  const handleHub = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const u = new URL(req.url!, url);
    const p = decodeURIComponent(u.pathname);
    let m: RegExpExecArray | null;
    // dataset parquet listing, and its per-file URLs (which redirect to resolve on refs/convert/parquet)
    if ((m = /^\/api\/datasets\/([^/]+\/[^/]+)\/parquet$/.exec(p))) {
      const repo = m[1];
      if (!guard(req, res, 'dataset', repo, null)) return res.statusCode;
      const d = datasets.get(repo)!;
      const out: Record<string, Record<string, string[]>> = {};
      for (const [config, splits] of Object.entries(d.parquet)) {
        out[config] = {};
        for (const [split, parts] of Object.entries(splits)) out[config][split] = parts.map((_, i) => `${url}/api/datasets/${repo}/parquet/${config}/${split}/${i}.parquet`);
      }
      json(res, 200, out);
      return 200;
    }
    if ((m = /^\/api\/datasets\/([^/]+\/[^/]+)\/parquet\/([^/]+)\/([^/]+)\/(\d+)\.parquet$/.exec(p))) {
      const [, repo, config, split, n] = m;
      if (!guard(req, res, 'dataset', repo, null)) return res.statusCode;
      res.writeHead(302, { Location: `${url}/datasets/${repo}/resolve/${encodeURIComponent('refs/convert/parquet')}/${config}/${split}/${n.padStart(4, '0')}.parquet` });
      res.end();
      return 302;
    }
    if ((m = /^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/tree\/([^?]+?)(?:\/(.*))?$/.exec(p))) {
      const kind = m[1] === 'models' ? 'model' : 'dataset';
      const files = guard(req, res, kind, m[2], m[3]);
      if (!files) return res.statusCode;
      const entries = [...files].map(([path, b]) => ({
        type: 'file',
        oid: gitOid(b),
        size: b.length,
        path,
        ...(b.length > LFS_THRESHOLD ? { lfs: { oid: sha256(b), size: b.length, pointerSize: 130 } } : {}),
      }));
      const cursor = Number(u.searchParams.get('cursor') ?? 0);
      const page = entries.slice(cursor, cursor + state.pageSize);
      if (cursor + state.pageSize < entries.length) {
        const next = new URL(u.href);
        next.searchParams.set('cursor', String(cursor + state.pageSize));
        res.setHeader('Link', `<${next.href}>; rel="next"`);
      }
      json(res, 200, page);
      return 200;
    }
    if ((m = /^\/api\/models\/([^/]+\/[^/]+)(?:\/revision\/(.+))?$/.exec(p))) {
      const files = guard(req, res, 'model', m[1], m[2] ?? 'main');
      if (!files) return res.statusCode;
      json(res, 200, { id: m[1], modelId: m[1], sha: COMMIT, private: false, siblings: [...files.keys()].map((rfilename) => ({ rfilename })) });
      return 200;
    }
    if ((m = /^\/(datasets\/)?([^/]+\/[^/]+)\/resolve\/([^/]+(?:\/convert\/parquet)?)\/(.+)$/.exec(p))) {
      const kind = m[1] ? 'dataset' : 'model';
      const [, , repo, revision, path] = m;
      const files = guard(req, res, kind, repo, revision);
      if (!files) return res.statusCode;
      const bytes = files.get(path);
      if (!bytes) {
        json(res, 404, { error: `Entry not found: ${path}` }, 'EntryNotFound');
        return 404;
      }
      res.setHeader('X-Repo-Commit', COMMIT);
      if (bytes.length > LFS_THRESHOLD) {
        res.writeHead(302, {
          Location: `${cdnUrl}/lfs/${kind}/${repo}/${path}`,
          'X-Linked-Size': String(bytes.length),
          'X-Linked-ETag': `"${sha256(bytes)}"`,
          ETag: `"${sha256(bytes)}"`,
        });
        res.end();
        return 302;
      }
      return serveBytes(req, res, path, bytes, gitOid(bytes));
    }
    json(res, 404, { error: `no route ${p}` });
    return 404;
  };

  const handleCdn = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const p = decodeURIComponent(new URL(req.url!, cdnUrl).pathname);
    const m = /^\/lfs\/(model|dataset)\/([^/]+\/[^/]+)\/(.+)$/.exec(p);
    const bytes = m ? repoFiles(m[1] as 'model' | 'dataset', m[2])?.files.get(m[3]) : undefined;
    if (!m || !bytes) {
      res.writeHead(404);
      res.end('not found');
      return 404;
    }
    return serveBytes(req, res, m[3], bytes, sha256(bytes));
  };

  const wrap = (name: 'hub' | 'cdn', handler: (req: IncomingMessage, res: ServerResponse) => Promise<number>) => (req: IncomingMessage, res: ServerResponse) => {
    cors(res);
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      res.end();
      return;
    }
    const entry: LoggedRequest = {
      server: name,
      method: req.method ?? 'GET',
      path: decodeURIComponent(new URL(req.url!, url).pathname),
      range: req.headers.range ?? null,
      authorization: req.headers.authorization ?? null,
      status: 0,
    };
    log.push(entry);
    if (state.intercept?.(req, res, { server: name, path: entry.path })) {
      entry.status = res.statusCode;
      return;
    }
    handler(req, res).then(
      (status) => (entry.status = status),
      (e: unknown) => {
        entry.status = 500;
        if (!res.headersSent) res.writeHead(500);
        res.end(String(e));
      },
    );
  };
  hub.on('request', wrap('hub', handleHub));
  cdn.on('request', wrap('cdn', handleCdn));
  return state;
}
