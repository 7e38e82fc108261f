// Repositories of GGUF files on the Hub (src/hub/gguf_choice.ts, planModel's GGUF plan), against the Hub-shaped
// local server: the quantisations offered with their sizes (split files and vision projectors set aside), a
// choice by quantisation or path, the one file of a repository picked alone, the verified download (size and
// sha256 from the listing) and the load; hostile listings (names that climb, control characters, overlong
// names) never offered; and the command line's hf:ORG/NAME:QUANT.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dataBytes } from '../../src/hub/cache';
import { NodeHubCache } from '../../src/hub/cache_node';
import { HubClient } from '../../src/hub/client';
import { ggufQuantName } from '../../src/hub/gguf_choice';
import { describePlan, fetchModel, planKind, planModel } from '../../src/hub/model';
import { parseModelSpec } from '../../src/hub/repo_id';
import { loadModelFiles, type FileSource } from '../../src/model/load';
import { ggufRepoFixtures, tinyGgufFile } from './gguf_repo';
import { startHubServer, type HubServer } from './hub_server';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let server: HubServer;
let dir: string;
let cache: NodeHubCache;

beforeAll(async () => {
  server = await startHubServer({ models: ggufRepoFixtures() });
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-gguf-'));
  cache = new NodeHubCache(dir);
  server.log.length = 0;
});

const client = () => new HubClient({ endpoint: server.url });
const fileRequests = () => server.log.filter((r) => r.path.includes('/resolve/') || r.server === 'cdn');
const asSources = async (files: { name: string; data: Blob | Uint8Array }[]): Promise<FileSource[]> =>
  Promise.all(
    files.map(async (f) => {
      const bytes = await dataBytes(f.data);
      return { name: f.name, size: bytes.byteLength, arrayBuffer: async () => bytes.slice().buffer as ArrayBuffer };
    }),
  );

describe('quantisation names from GGUF file names', () => {
  it('reads the last part that names one', () => {
    expect(ggufQuantName('Qwen3-0.6B-Q4_K_M.gguf')).toBe('Q4_K_M');
    expect(ggufQuantName('Qwen3-0.6B-Q8_0.gguf')).toBe('Q8_0');
    expect(ggufQuantName('ggml-model-q4_0.gguf')).toBe('Q4_0');
    expect(ggufQuantName('llama-2-7b.Q5_K_S.gguf')).toBe('Q5_K_S');
    expect(ggufQuantName('Llama-3.2-1B-Instruct-IQ4_XS.gguf')).toBe('IQ4_XS');
    expect(ggufQuantName('gemma-3-1b-it-BF16.gguf')).toBe('BF16');
    expect(ggufQuantName('Qwen3-4B-UD-Q4_K_XL.gguf')).toBe('UD-Q4_K_XL');
    expect(ggufQuantName('sub/dir/model-f16.gguf')).toBe('F16');
    expect(ggufQuantName('Qwen2.5-0.5B.gguf')).toBeNull(); // "5-0" is no quantisation
    expect(ggufQuantName('model.gguf')).toBeNull();
  });

  it('a choice after ":" is a quantisation or a relative path; anything that climbs is refused', () => {
    expect(parseModelSpec('hf:org/x-GGUF:Q4_K_M')).toEqual({ repo: 'org/x-GGUF', revision: 'main', file: 'Q4_K_M' });
    expect(parseModelSpec('org/x-GGUF@v2:sub/m-Q8_0.gguf')).toEqual({ repo: 'org/x-GGUF', revision: 'v2', file: 'sub/m-Q8_0.gguf' });
    expect(() => parseModelSpec('hf:org/x:../../etc/passwd')).toThrow(/after ":" name one GGUF file/);
    expect(() => parseModelSpec('hf:org/x:/abs.gguf')).toThrow(/after ":" name one GGUF file/);
    expect(() => parseModelSpec('hf:org/x:a\u0007.gguf')).toThrow(/after ":" name one GGUF file/);
  });
});

describe('a repository of GGUF files', () => {
  it('offers its quantisations with their sizes; nothing downloads before one is chosen', async () => {
    const plan = await planModel(client(), cache, parseModelSpec('test-org/Tiny-Qwen3-GGUF'));
    const files = server.models.get('test-org/Tiny-Qwen3-GGUF')!.files;
    expect(plan.gguf!.choices.map((c) => [c.quant, c.path, c.size])).toEqual([
      ['Q4_K_M', 'Tiny-Qwen3-Q4_K_M.gguf', files.get('Tiny-Qwen3-Q4_K_M.gguf')!.length],
      ['Q8_0', 'Tiny-Qwen3-Q8_0.gguf', files.get('Tiny-Qwen3-Q8_0.gguf')!.length],
    ]);
    expect(plan.gguf!.skipped).toEqual([
      { why: 'split files (several parts; not read here)', count: 2 },
      { why: 'vision projectors (mmproj)', count: 1 },
    ]);
    expect(plan.gguf!.chosen).toBeNull();
    expect(plan.files).toEqual([]);
    expect(plan.config).toBeNull();
    expect(describePlan(plan)).toBe('2 GGUF files (quantisations): choose one');
    await expect(fetchModel(client(), cache, plan)).rejects.toThrow(
      /^test-org\/Tiny-Qwen3-GGUF holds 2 GGUF files, one per quantisation: pick one by writing it after ":", e\.g\. hf:test-org\/Tiny-Qwen3-GGUF:Q4_K_M\. Its GGUF files: Q4_K_M \(.* kB\), Q8_0 \(.* kB\)$/,
    );
    expect(fileRequests()).toEqual([]);
  });

  it('a quantisation by name (any case) downloads that file only, verified, and loads it with its blocks', async () => {
    const plan = await planModel(client(), cache, parseModelSpec('hf:test-org/Tiny-Qwen3-GGUF:q4_k_m'));
    expect(plan.gguf!.chosen!.path).toBe('Tiny-Qwen3-Q4_K_M.gguf');
    expect(plan.files.map((f) => [f.path, f.cached])).toEqual([['Tiny-Qwen3-Q4_K_M.gguf', false]]);
    // the architecture comes from the file's first 64 KiB (one Range request), before the rest downloads
    expect(planKind(plan)).toBe('GGUF Q4_K_M (Tiny-Qwen3-Q4_K_M.gguf, qwen3)');
    expect(server.log.filter((r) => r.server === 'cdn').map((r) => r.range)).toEqual(['bytes=0-0', 'bytes=0-65535']);
    expect(describePlan(plan)).toMatch(/^1 file, .* kB: .* kB to download$/);
    const fetched = await fetchModel(client(), cache, plan);
    expect(new Set(fileRequests().map((r) => r.path.split('/').pop()))).toEqual(new Set(['Tiny-Qwen3-Q4_K_M.gguf']));
    const model = await loadModelFiles(await asSources(fetched));
    expect(model.config.architecture).toBe('Qwen3ForCausalLM');
    expect(model.dtype).toBe('f32+q4_k+q6_k');
    expect(model.weights.get('model.layers.0.self_attn.v_proj.weight')!.quant!.type).toBe('Q6_K');
    // the second plan finds it in the cache
    const again = await planModel(client(), cache, parseModelSpec('hf:test-org/Tiny-Qwen3-GGUF:Q4_K_M'));
    expect(describePlan(again)).toMatch(/all in the cache: nothing to download$/);
  });

  it('a file by its path; a name that matches nothing lists the choices', async () => {
    const plan = await planModel(client(), cache, parseModelSpec('test-org/Tiny-Qwen3-GGUF:Tiny-Qwen3-Q8_0.gguf'));
    expect(plan.gguf!.chosen!.quant).toBe('Q8_0');
    await expect(planModel(client(), cache, parseModelSpec('test-org/Tiny-Qwen3-GGUF:Q5_K_S'))).rejects.toThrow(
      /^test-org\/Tiny-Qwen3-GGUF has no GGUF file "Q5_K_S"; its GGUF files: Q4_K_M \(.*\), Q8_0 \(.*\)$/,
    );
    // the split parts are not offered, even by path
    await expect(planModel(client(), cache, parseModelSpec('test-org/Tiny-Qwen3-GGUF:Tiny-Qwen3-BF16-00001-of-00002.gguf'))).rejects.toThrow(/has no GGUF file/);
  });

  it('a download whose bytes are not the listed ones (sha256 from the LFS metadata) is refused and not kept', async () => {
    const files = server.models.get('test-org/Tiny-Qwen3-GGUF')!.files;
    const plan = await planModel(client(), cache, parseModelSpec('test-org/Tiny-Qwen3-GGUF:Q8_0'));
    const good = files.get('Tiny-Qwen3-Q8_0.gguf')!;
    const bad = good.slice();
    bad[bad.length - 1] ^= 1; // same size, other bytes: only the hash can tell
    files.set('Tiny-Qwen3-Q8_0.gguf', bad);
    try {
      await expect(fetchModel(client(), cache, plan, undefined, { retries: 0 })).rejects.toThrow(/Tiny-Qwen3-Q8_0\.gguf: its sha256 is [0-9a-f]{64} but the listing says [0-9a-f]{64}; the download was discarded/);
      expect(await cache.get({ endpoint: server.url, kind: 'model', repo: 'test-org/Tiny-Qwen3-GGUF', revision: 'main', path: 'Tiny-Qwen3-Q8_0.gguf' }, plan.files[0].oid)).toBeNull();
    } finally {
      files.set('Tiny-Qwen3-Q8_0.gguf', good);
    }
  });

  it('one GGUF file is picked alone, whatever its name', async () => {
    const plan = await planModel(client(), cache, parseModelSpec('test-org/one-gguf'));
    expect(plan.gguf!.chosen!.path).toBe('model.gguf');
    expect(plan.gguf!.chosen!.quant).toBeNull();
    const model = await loadModelFiles(await asSources(await fetchModel(client(), cache, plan)));
    expect(model.config.numLayers).toBe(2);
  });

  it('hostile listings: names that climb, control characters and overlong names are never offered nor fetched', async () => {
    const plan = await planModel(client(), cache, parseModelSpec('test-org/hostile-gguf'));
    expect(plan.gguf!.choices.map((c) => c.path)).toEqual(['fine-Q8_0.gguf']);
    expect(plan.gguf!.skipped).toEqual([{ why: 'unsafe names', count: 4 }]);
    expect(plan.gguf!.chosen!.path).toBe('fine-Q8_0.gguf');
    await expect(planModel(client(), cache, parseModelSpec('test-org/hostile-gguf:EVIL-Q8_0.gguf'))).rejects.toThrow(/has no GGUF file "EVIL-Q8_0\.gguf"; its GGUF files: Q8_0/);
    // only the chosen file's first bytes were asked for (its architecture)
    expect(fileRequests().length).toBeGreaterThan(0);
    expect(fileRequests().every((r) => r.path.endsWith('/fine-Q8_0.gguf') && /^bytes=0-(0|65535)$/.test(r.range ?? ''))).toBe(true);
  });

  it('an architecture the engine does not run is refused from the file\'s first bytes, before the rest downloads', async () => {
    await expect(planModel(client(), cache, parseModelSpec('test-org/mamba-GGUF'))).rejects.toThrow(
      'test-org/mamba-GGUF: mamba-Q8_0.gguf holds a "mamba" model (general.architecture), which is not supported (supported: llama, qwen2, qwen3, gemma3); nothing else was downloaded',
    );
    expect(server.log.filter((r) => r.server === 'cdn').map((r) => r.range)).toEqual(['bytes=0-0', 'bytes=0-65535']);
  });

  it('a repository whose GGUF files cannot be read says so, with what was set aside', async () => {
    await expect(planModel(client(), cache, parseModelSpec('test-org/no-gguf'))).rejects.toThrow(
      /^test-org\/no-gguf has no GGUF file this playground can read \(set aside: split files \(several parts; not read here\): 1\); files: /,
    );
  });
});

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, timeout: 300_000, env: { ...process.env, HF_TOKEN: '', HF_ENDPOINT: server.url, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('CLI: --model hf:ORG/NAME:QUANT', () => {
  it('asks for a quantisation, then generates from the chosen one as from the same file on disk', async () => {
    const env = { GRPO_HUB_CACHE: dir };
    const gen = ['--prompt', 'the world', '--temperature', '0', '--max-new-tokens', '3', '--json'];
    const ask = await cli(['generate', '--model', 'hf:test-org/Tiny-Qwen3-GGUF', ...gen], env);
    expect(ask.code).toBe(1);
    expect(ask.stderr).toContain('test-org/Tiny-Qwen3-GGUF holds 2 GGUF files, one per quantisation: pick one by writing it after ":", e.g. hf:test-org/Tiny-Qwen3-GGUF:Q4_K_M');
    const hub = await cli(['generate', '--model', 'hf:test-org/Tiny-Qwen3-GGUF:Q8_0', ...gen], env);
    expect(hub.code, hub.stderr).toBe(0);
    expect(hub.stderr).toContain(`test-org/Tiny-Qwen3-GGUF:Q8_0 (${server.url}): GGUF Q8_0 (Tiny-Qwen3-Q8_0.gguf, qwen3), 1 file`);
    const local = join(dir, 'local-Q8_0.gguf');
    await writeFile(local, tinyGgufFile('Q8_0'));
    const disk = await cli(['generate', '--model', local, ...gen], env);
    expect(disk.code, disk.stderr).toBe(0);
    expect(JSON.parse(hub.stdout)).toEqual(JSON.parse(disk.stdout));
  }, 300_000);
});
