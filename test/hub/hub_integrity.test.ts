// Downloads you can trust, against the Hub-shaped local server made to misbehave: names from listings and
// URLs cannot put a file outside the cache folder (parquet URLs with %2E%2E%2F, shard names with ../, a
// config named ".."), the listing's size is required, a 206 to a request without Range, a size that
// disagrees with the listing and a hash that disagrees (LFS sha256, git blob sha1) each end in a message
// naming the file with nothing kept, and a download without a listed size stops at its cap. The page's
// cache (BrowserHubCache, here without Cache Storage) goes through the same checks.
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HubClient } from '../../src/hub/client';
import { NodeHubCache } from '../../src/hub/cache_node';
import { BrowserHubCache } from '../../src/hub/cache_browser';
import { fetchModel, planModel } from '../../src/hub/model';
import { chooseSplit, fetchSplit, listParquet } from '../../src/hub/dataset';
import { fetchFile } from '../../src/hub/download';
import { parseDatasetSpec, parseModelSpec } from '../../src/hub/repo_id';
import { datasetFixtures, modelFixtures } from './fixtures';
import { startHubServer, type HubServer } from './hub_server';

let server: HubServer;
let outer: string; // the folder around the cache: nothing may appear here but the cache itself
let dir: string;
let cache: NodeHubCache;
const client = () => new HubClient({ endpoint: server.url });
const enc = (s: string) => new TextEncoder().encode(s);

beforeAll(async () => {
  const models = modelFixtures();
  // a sharded model whose index and listing name a shard outside the repository
  const evil = new Map(models['test-org/tiny-sharded'].files);
  const index = JSON.parse(new TextDecoder().decode(evil.get('model.safetensors.index.json')!)) as { weight_map: Record<string, string> };
  const first = Object.keys(index.weight_map)[0];
  const shard = index.weight_map[first];
  index.weight_map[first] = '../../../../escaped.safetensors';
  evil.set('../../../../escaped.safetensors', evil.get(shard)!);
  evil.set('model.safetensors.index.json', enc(JSON.stringify(index)));
  models['test-org/evil-shards'] = { files: evil };
  server = await startHubServer({ models, datasets: datasetFixtures() });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  outer = await mkdtemp(join(tmpdir(), 'hub-integrity-'));
  dir = join(outer, 'cache');
  cache = new NodeHubCache(dir);
  server.intercept = null;
  server.log.length = 0;
});

/** Every file under a folder, as paths relative to it. */
async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  await walk(root, '');
  return out;
}

const send = (res: ServerResponse, status: number, headers: Record<string, string>, body: Uint8Array) => {
  res.writeHead(status, headers);
  res.end(body);
  return true;
};

/** The tiny model's weights as the server has them, and their sha256. */
const weights = () => modelFixtures()['test-org/tiny-puzzles'].files.get('model.safetensors')!;

describe('cache paths from names somebody else wrote', () => {
  for (const evilName of ['..%2F..%2F..%2Fescaped.parquet', '%2E%2E%2F%2E%2E%2Fescaped.parquet', '%2e%2E%2F%2e%2E%2Fescaped.parquet', 'a%5C..%5C..%5Cescaped.parquet', 'x%00.parquet']) {
    it(`a parquet URL ending in ${evilName} is refused, nothing is written outside the cache`, async () => {
      const parquet = datasetFixtures()['test-org/puzzles'].parquet.default.train[0];
      server.intercept = (_req: IncomingMessage, res: ServerResponse, at) => {
        if (at.path === '/api/datasets/test-org/puzzles/parquet') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ default: { train: [`${server.url}/files/${evilName}`] } }));
          return true;
        }
        if (at.path.startsWith('/files/')) return send(res, 200, { 'content-length': String(parquet.length) }, parquet);
        return false;
      };
      const choice = chooseSplit(await listParquet(client(), 'test-org/puzzles'), parseDatasetSpec('hf:test-org/puzzles'));
      await expect(fetchSplit(client(), cache, choice)).rejects.toThrow(/test-org\/puzzles: parquet file 1 .*is not a safe file name/);
      expect((await filesUnder(outer)).filter((f) => !f.startsWith('cache/'))).toEqual([]);
    });
  }

  it('a config or split named ".." is refused', async () => {
    server.intercept = (_req, res, at) => {
      if (at.path !== '/api/datasets/test-org/puzzles/parquet') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ '..': { '..': [`${server.url}/api/datasets/test-org/puzzles/parquet/default/train/0.parquet`] } }));
      return true;
    };
    const choice = chooseSplit(await listParquet(client(), 'test-org/puzzles'), { repo: 'test-org/puzzles', config: '..', split: '..' });
    await expect(fetchSplit(client(), cache, choice)).rejects.toThrow(/the config name: "\.\." is not a safe file name/);
    expect((await filesUnder(outer)).filter((f) => !f.startsWith('cache/'))).toEqual([]);
  });

  it('a shard named ../../../../escaped.safetensors in the index and the listing is refused before any download', async () => {
    await expect(planModel(client(), cache, parseModelSpec('hf:test-org/evil-shards'))).rejects.toThrow(/test-org\/evil-shards: the file "\.\.\/\.\.\/\.\.\/\.\.\/escaped\.safetensors": "\.\." is not a safe file name/);
    expect(server.log.some((r) => r.path.includes('escaped'))).toBe(false);
    expect((await filesUnder(outer)).filter((f) => !f.startsWith('cache/'))).toEqual([]);
  });
});

describe('what arrives must be what the listing promised', () => {
  const lfsPath = '/lfs/model/test-org/tiny-puzzles/model.safetensors';

  it("the listing's size is required", async () => {
    server.intercept = (_req, res, at) => {
      if (!at.path.startsWith('/api/models/test-org/tiny-puzzles/tree/')) return false;
      const files = modelFixtures()['test-org/tiny-puzzles'].files;
      const entries = [...files].map(([path, b]) => ({ type: 'file', oid: createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex'), path, ...(path === 'model.safetensors' ? {} : { size: b.length }) }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(entries));
      return true;
    };
    await expect(planModel(client(), cache, parseModelSpec('hf:test-org/tiny-puzzles'))).rejects.toThrow(/test-org\/tiny-puzzles: model\.safetensors: the listing gives no usable size/);
  });

  const cases: { name: string; answer: (req: IncomingMessage, res: ServerResponse) => boolean; message: RegExp }[] = [
    {
      name: 'a 206 to a request without Range',
      answer: (_req, res) => send(res, 206, { 'content-range': `bytes 0-${weights().length - 1}/${weights().length}`, 'content-length': String(weights().length) }, weights()),
      message: /model\.safetensors: the server answered 206 \(part of the file\) to a request for the whole file; what arrived was discarded/,
    },
    {
      name: 'a Content-Length that disagrees with the listing',
      answer: (_req, res) => {
        const more = new Uint8Array(weights().length + 10);
        more.set(weights());
        return send(res, 200, { 'content-length': String(more.length) }, more);
      },
      message: /model\.safetensors: the server sends \d+ bytes, the listing says \d+/,
    },
    {
      name: 'more bytes than the listing says, without a Content-Length',
      answer: (_req, res) => {
        res.writeHead(200, { 'transfer-encoding': 'chunked' });
        res.write(weights());
        res.end(new Uint8Array(100));
        return true;
      },
      message: /model\.safetensors: the server sent more bytes than the file's/,
    },
    {
      name: 'the right size with one byte changed (LFS sha256)',
      answer: (_req, res) => {
        const bad = weights().slice();
        bad[bad.length - 1] ^= 1;
        return send(res, 200, { 'content-length': String(bad.length) }, bad);
      },
      message: /model\.safetensors: its sha256 is [0-9a-f]{64} but the listing says [0-9a-f]{64}; the download was discarded/,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: refused naming the file, nothing kept, and the next load works`, async () => {
      const plan = await planModel(client(), cache, parseModelSpec('hf:test-org/tiny-puzzles'));
      server.intercept = (req, res, at) => at.server === 'cdn' && at.path === lfsPath && !req.headers.range && c.answer(req, res);
      await expect(fetchModel(client(), cache, plan, undefined, { retries: 0 })).rejects.toThrow(c.message);
      const kept = (await filesUnder(dir)).filter((f) => f.includes('model.safetensors'));
      expect(kept).toEqual([]);
      server.intercept = null;
      const files = await fetchModel(client(), cache, plan, undefined, { retries: 0 });
      expect(files.find((f) => f.name.endsWith('model.safetensors'))!.data).toEqual(weights());
    });
  }

  it('a small (non-LFS) file is checked by its git blob sha1', async () => {
    const config = modelFixtures()['test-org/tiny-puzzles'].files.get('config.json')!;
    expect(config.length).toBeLessThan(1000); // the test server serves it without LFS
    server.intercept = (req, res, at) => {
      if (!at.path.endsWith('/config.json') || req.headers.range) return false; // not the size lookup (Range: bytes=0-0)
      const bad = config.slice();
      bad[config.length - 2] ^= 0x20; // one byte changed: the size still agrees
      return send(res, 200, { 'content-length': String(bad.length) }, bad);
    };
    await expect(planModel(client(), cache, parseModelSpec('hf:test-org/tiny-puzzles'))).rejects.toThrow(/config\.json: its git blob sha1 is [0-9a-f]{40} but the listing says/);
    expect((await filesUnder(dir)).filter((f) => f.includes('config.json'))).toEqual([]);
  });

  it("the page's cache applies the same checks (BrowserHubCache without Cache Storage)", async () => {
    const browserCache = await BrowserHubCache.open();
    const plan = await planModel(client(), browserCache, parseModelSpec('hf:test-org/tiny-puzzles'));
    server.intercept = (req, res, at) => at.server === 'cdn' && at.path === lfsPath && !req.headers.range && send(res, 206, { 'content-range': `bytes 0-9/${weights().length}` }, weights().subarray(0, 10));
    await expect(fetchModel(client(), browserCache, plan, undefined, { retries: 0 })).rejects.toThrow(/the server answered 206/);
    await expect(
      fetchFile(client(), browserCache, { endpoint: server.url, kind: 'model', repo: 'test-org/tiny-puzzles', revision: 'main', path: '../x' }, { url: `${server.url}/x`, size: 1, version: null }),
    ).rejects.toThrow(/"\.\.\/x": "\.\." is not a safe file name/);
  });

  it('a download without a listed size stops at its cap, with or without a Content-Length', async () => {
    const choice = chooseSplit(await listParquet(client(), 'test-org/puzzles'), parseDatasetSpec('hf:test-org/puzzles'));
    await expect(fetchSplit(client(), cache, choice, undefined, { maxBytes: 100, retries: 0 })).rejects.toThrow(/0\.parquet: the server announces .* more than the 100 B allowed/);
    server.intercept = (_req, res, at) => {
      if (!at.path.endsWith('.parquet') || at.path.startsWith('/api/')) return false;
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.write(new Uint8Array(64));
      res.end(new Uint8Array(64));
      return true;
    };
    await expect(fetchSplit(client(), cache, choice, undefined, { maxBytes: 100, retries: 0 })).rejects.toThrow(/more than 100 B arrived for a file without a listed size/);
    expect((await filesUnder(dir)).filter((f) => f.endsWith('.parquet') || f.endsWith('.partial'))).toEqual([]);
    await stat(dir);
  });
});
