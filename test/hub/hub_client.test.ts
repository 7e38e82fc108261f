// The Hub client (src/hub) against the Hub-shaped local server: models by id (listing, plan, cache,
// resume after a dropped connection, shards), gated repos and tokens, bad repositories, and datasets by
// id (parquet listing, config and split choice, parquet reading).
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HubClient } from '../../src/hub/client';
import { NodeHubCache } from '../../src/hub/cache_node';
import { describePlan, fetchModel, planModel, type ModelProgress } from '../../src/hub/model';
import { chooseSplit, fetchSplit, listParquet } from '../../src/hub/dataset';
import { parseDatasetSpec, parseModelSpec } from '../../src/hub/repo_id';
import { dataBytes } from '../../src/hub/cache';
import { loadHfFolder, type FileSource } from '../../src/model/load';
import { parseParquetData, parseParquetFiles } from '../../src/data/parquet';
import { bundleParquetFiles } from '../../src/data';
import { datasetFixtures, GATED_TOKEN, modelFixtures } from './fixtures';
import { startHubServer, type HubServer } from './hub_server';

let server: HubServer;
let dir: string;
let cache: NodeHubCache;

beforeAll(async () => {
  server = await startHubServer({ models: modelFixtures(), datasets: datasetFixtures() });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-cache-'));
  cache = new NodeHubCache(dir);
  server.log.length = 0;
  server.clearDrops();
  server.pageSize = 1000;
});

const client = (token?: string) => new HubClient({ endpoint: server.url, token, tokenHint: 'HF_TOKEN' });
const asSources = async (files: { name: string; data: Blob | Uint8Array }[]): Promise<FileSource[]> =>
  Promise.all(
    files.map(async (f) => {
      const bytes = await dataBytes(f.data);
      return { name: f.name, size: bytes.byteLength, arrayBuffer: async () => bytes.slice().buffer as ArrayBuffer };
    }),
  );
const fileRequests = () => server.log.filter((r) => r.path.includes('/resolve/') || r.server === 'cdn');

describe('repository ids', () => {
  it('parses models and datasets as people write them', () => {
    expect(parseModelSpec('hf:Qwen/Qwen3-0.6B')).toEqual({ repo: 'Qwen/Qwen3-0.6B', revision: 'main' });
    expect(parseModelSpec('Qwen/Qwen3-0.6B@v1.0')).toEqual({ repo: 'Qwen/Qwen3-0.6B', revision: 'v1.0' });
    expect(parseModelSpec('https://huggingface.co/org/m/tree/dev')).toEqual({ repo: 'org/m', revision: 'dev' });
    expect(() => parseModelSpec('hf:qwen')).toThrow(/not a Hub repository id: write ORG\/NAME/);
    expect(parseDatasetSpec('hf:openai/gsm8k:main/train')).toEqual({ repo: 'openai/gsm8k', config: 'main', split: 'train' });
    expect(parseDatasetSpec('openai/gsm8k/test')).toEqual({ repo: 'openai/gsm8k', config: null, split: 'test' });
    expect(parseDatasetSpec('hf:openai/gsm8k')).toEqual({ repo: 'openai/gsm8k', config: null, split: null });
  });
});

describe('models by id', () => {
  it('lists files and sizes first, downloads with progress, loads, and a second load reads the cache only', async () => {
    const spec = parseModelSpec('hf:test-org/tiny-puzzles');
    server.pageSize = 2; // the tree listing comes in pages (Link: rel="next")
    const plan = await planModel(client(), cache, spec);
    expect(plan.files.map((f) => f.path)).toEqual(['config.json', 'tokenizer.json', 'generation_config.json', 'model.safetensors']);
    const weights = plan.files.find((f) => f.path === 'model.safetensors')!;
    expect(weights.size).toBe(2126400);
    expect(plan.files.find((f) => f.path === 'config.json')!.cached).toBe(true); // fetched to check the architecture
    expect(plan.downloadBytes).toBe(plan.totalBytes - plan.files[0].size);
    expect(describePlan(plan)).toMatch(/^4 files, 2\.0 MB: 2\.0 MB to download \(624 B already cached\)$/);
    expect(server.log.some((r) => r.path.endsWith('model.safetensors'))).toBe(false); // planning fetched no weights

    const progress: ModelProgress[] = [];
    const files = await fetchModel(client(), cache, plan, (p) => progress.push(p));
    expect(progress.at(-1)!.bytesDone).toBe(plan.totalBytes);
    expect(progress.some((p) => p.file.path === 'model.safetensors' && p.file.loaded > 0 && p.file.loaded < weights.size) || weights.size < 65536).toBe(true);
    // the weights came from the "cdn" (a 302 from resolve), without the token's header
    expect(server.log.some((r) => r.server === 'cdn' && r.path.endsWith('model.safetensors'))).toBe(true);
    const model = await loadHfFolder(await asSources(files));
    expect(model.name).toBe('tiny-puzzles');
    expect(model.config.hiddenSize).toBe(128);

    server.log.length = 0;
    const again = await planModel(client(), cache, spec);
    expect(again.downloadBytes).toBe(0);
    expect(describePlan(again)).toMatch(/all in the cache: nothing to download/);
    await fetchModel(client(), cache, again);
    expect(fileRequests()).toEqual([]); // only the listing was asked for
    expect(server.log.every((r) => r.path.startsWith('/api/models/test-org/tiny-puzzles/tree/'))).toBe(true);
  });

  it('a cached model loads when the Hub cannot be reached (the listing of the last load is kept)', async () => {
    const other = await startHubServer({ models: modelFixtures() });
    const at = new HubClient({ endpoint: other.url });
    const spec = parseModelSpec('test-org/tiny-sharded');
    await fetchModel(at, cache, await planModel(at, cache, spec));
    await other.close();
    const offline = await planModel(at, cache, spec);
    expect(offline.offline).toBe(true);
    expect(describePlan(offline)).toMatch(/^6 files, .* \(offline: the Hub cannot be reached, the listing of the last load is used, all in the cache\)$/);
    expect((await loadHfFolder(await asSources(await fetchModel(at, cache, offline)))).name).toBe('tiny-sharded');
    // a model never loaded says that the Hub cannot be reached
    await expect(planModel(at, cache, parseModelSpec('test-org/tiny-puzzles'))).rejects.toThrow(`test-org/tiny-puzzles: could not reach the Hub at ${other.url}`);
    expect((await cache.list()).map((r) => [r.repo, r.files])).toEqual([['test-org/tiny-sharded', 6]]);
  });

  it('loads a sharded model through model.safetensors.index.json', async () => {
    const plan = await planModel(client(), cache, parseModelSpec('test-org/tiny-sharded'));
    expect(plan.files.map((f) => f.path).slice(-3)).toEqual(['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const model = await loadHfFolder(await asSources(await fetchModel(client(), cache, plan)));
    expect(model.name).toBe('tiny-sharded');
    expect(model.weights.size).toBeGreaterThan(10);
  });

  it('continues a dropped download with a Range request (once: at once; until it works: on the next load)', async () => {
    const spec = parseModelSpec('test-org/tiny-puzzles');
    server.drop('model.safetensors', { at: 1_000_000, mode: 'once' });
    const plan = await planModel(client(), cache, spec);
    const files = await fetchModel(client(), cache, plan, undefined, { retryDelayMs: 10 });
    // resumed from what arrived: at most the 1,000,000 bytes sent before the drop (a loaded client may not have
    // read the last chunks when the connection fails)
    const resumedFrom = server.log.filter((r) => r.server === 'cdn' && /^bytes=[1-9]\d*-$/.test(r.range ?? '')).map((r) => Number(/\d+/.exec(r.range!)![0]));
    expect(resumedFrom.length).toBeGreaterThan(0);
    expect(Math.max(...resumedFrom)).toBeLessThanOrEqual(1_000_000);
    const weights = await dataBytes(files.find((f) => f.name.endsWith('model.safetensors'))!.data);
    expect(weights.length).toBe(2126400);
    expect(await loadHfFolder(await asSources(files))).toBeTruthy();

    // a connection that keeps dropping: the part that arrived is kept, the next load resumes from it
    const dir2 = await mkdtemp(join(tmpdir(), 'hub-cache-'));
    const cache2 = new NodeHubCache(dir2);
    server.drop('model.safetensors', { at: 700_000, mode: 'always' });
    const plan2 = await planModel(client(), cache2, spec);
    await expect(fetchModel(client(), cache2, plan2, undefined, { retries: 2, retryDelayMs: 10 })).rejects.toThrow(
      /^test-org\/tiny-puzzles: model\.safetensors: the connection dropped at 683\.6 kB of 2\.0 MB .*2 retries failed; the 683\.6 kB that arrived are kept: load again to resume from there$/,
    );
    const partial = join(cache2.pathOf({ endpoint: server.url, kind: 'model', repo: spec.repo, revision: 'main', path: 'model.safetensors' }) + '.partial');
    expect((await stat(partial)).size).toBe(700_000);
    server.clearDrops();
    server.log.length = 0;
    const resumed = await fetchModel(client(), cache2, await planModel(client(), cache2, spec));
    expect(server.log.filter((r) => r.server === 'cdn').map((r) => r.range)).toEqual(['bytes=0-0', 'bytes=700000-']);
    expect((await dataBytes(resumed.at(-1)!.data)).length).toBe(2126400);
    await rm(dir2, { recursive: true });
  });

  it('gated: 401 says how to get access; the token opens it and never leaves the endpoint', async () => {
    const spec = parseModelSpec('test-org/gated-tiny');
    await expect(planModel(client(), cache, spec)).rejects.toThrow(
      `test-org/gated-tiny is gated or private (401 ("Access to model test-org/gated-tiny is restricted. You must have access to it and be authenticated to access it. Please log in.")): request access at ${server.url}/test-org/gated-tiny (gated models ask you to accept their terms), create a read token at ${server.url}/settings/tokens, and give it as HF_TOKEN`,
    );
    await expect(planModel(client('hf_wrong'), cache, spec)).rejects.toThrow(/test-org\/gated-tiny is gated or private and the access token was refused \(403/);
    const plan = await planModel(client(GATED_TOKEN), cache, spec);
    await fetchModel(client(GATED_TOKEN), cache, plan);
    expect(server.log.filter((r) => r.server === 'hub').every((r) => r.authorization === `Bearer ${GATED_TOKEN}` || r.status === 401 || r.status === 403)).toBe(true);
    const cdn = server.log.filter((r) => r.server === 'cdn');
    expect(cdn.length).toBeGreaterThan(0);
    expect(cdn.every((r) => r.authorization === null)).toBe(true);
  });

  it('bad repositories: one message each, naming the repo, before any weights download', async () => {
    await expect(planModel(client(), cache, parseModelSpec('test-org/nope'))).rejects.toThrow(`test-org/nope: no such model on ${server.url} (404 RepoNotFound); check the name`);
    await expect(planModel(client(), cache, parseModelSpec('test-org/tiny-puzzles@v9'))).rejects.toThrow('test-org/tiny-puzzles: there is no revision "v9"');
    await expect(planModel(client(), cache, parseModelSpec('test-org/gpt2-like'))).rejects.toThrow(
      /^test-org\/gpt2-like: config\.json: model_type "gpt2" is not supported \(supported: .*\) — nothing else was downloaded$/,
    );
    expect(server.log.some((r) => r.path.includes('gpt2-like') && r.path.endsWith('.safetensors'))).toBe(false);
    await expect(planModel(client(), cache, parseModelSpec('test-org/bin-only'))).rejects.toThrow(
      /^test-org\/bin-only has only PyTorch weights \(pytorch_model\.bin\) and no model\.safetensors: this playground reads safetensors only/,
    );
    expect(server.log.some((r) => r.path.includes('bin-only') && r.path.includes('/resolve/'))).toBe(false);
  });
});

describe('datasets by id', () => {
  it('lists configs and splits, fetches the chosen split, reads parquet rows; cached the second time', async () => {
    const listing = await listParquet(client(), 'test-org/puzzles');
    expect(Object.keys(listing)).toEqual(['default', 'hard']);
    expect(Object.keys(listing.default)).toEqual(['train', 'test']);
    const choice = chooseSplit(listing, parseDatasetSpec('test-org/puzzles'));
    expect([choice.config, choice.split]).toEqual(['default', 'train']);
    const files = await fetchSplit(client(), cache, chooseSplit(listing, parseDatasetSpec('test-org/puzzles:default/test')));
    expect(files.map((f) => f.name)).toEqual(['default/test/0.parquet']);
    const ds = await parseParquetFiles([{ name: 'test.parquet', bytes: await dataBytes(files[0].data) }]);
    expect(ds.format).toBe('parquet');
    expect(ds.counts.kept).toBe(12);
    expect(ds.mapping).toEqual({ prompt: 'question', answer: 'answer' });
    expect(ds.rows[0].raw.id).toBe(0);

    server.log.length = 0;
    await fetchSplit(client(), cache, chooseSplit(listing, parseDatasetSpec('test-org/puzzles:default/test')));
    expect(fileRequests()).toEqual([]);

    // a split of two files: both, in order; bundled as one .zip for the page's worker
    const hard = await fetchSplit(client(), cache, chooseSplit(listing, parseDatasetSpec('hf:test-org/puzzles:hard')));
    const parts = await Promise.all(hard.map(async (f) => ({ name: f.name, bytes: await dataBytes(f.data) })));
    const both = await parseParquetData(bundleParquetFiles(parts), 'puzzles-hard-train.parquet.zip');
    expect(both.counts.kept).toBe(40);
    expect(both.rows[20].line).toBe(21);
  });

  it('bad input: a missing split or config, a truncated file, no text columns, a bad row, a gated dataset', async () => {
    const listing = await listParquet(client(), 'test-org/puzzles');
    expect(() => chooseSplit(listing, parseDatasetSpec('test-org/puzzles:default/validation'))).toThrow('test-org/puzzles:default has no split "validation"; its splits are "train", "test"');
    expect(() => chooseSplit(listing, parseDatasetSpec('test-org/puzzles:nope'))).toThrow('test-org/puzzles has no config "nope"; its configs are "default", "hard"');
    await expect(listParquet(client(), 'test-org/missing')).rejects.toThrow(`test-org/missing: no such dataset on ${server.url} (404 RepoNotFound)`);
    await expect(listParquet(client(), 'test-org/gated-data')).rejects.toThrow(/^test-org\/gated-data is gated or private \(401/);

    const read = async (repo: string) => {
      const f = await fetchSplit(client(), cache, chooseSplit(await listParquet(client(), repo), parseDatasetSpec(repo)));
      return parseParquetFiles([{ name: `${repo}/${f[0].name}`, bytes: await dataBytes(f[0].data) }]);
    };
    await expect(read('test-org/truncated')).rejects.toThrow(/^test-org\/truncated\/default\/train\/0\.parquet is truncated or damaged: a parquet file ends with its footer and the PAR1 marker/);
    await expect(read('test-org/numbers')).rejects.toThrow('test-org/numbers/default/train/0.parquet has no text (string) columns: its columns are "x" (INT32), "y" (DOUBLE); a dataset needs a text prompt column');
    const bad = await read('test-org/bad-rows');
    expect(bad.counts).toMatchObject({ kept: 9, invalid: 1 });
    expect(bad.issues[0]).toEqual({ line: 10, field: 'answer', message: 'the answer field "answer" is empty' });
  });
});
