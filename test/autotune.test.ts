// Autotuning (src/gpu/autotune.ts) on the real Node adapter: software adapters keep the software kernels
// and are never tuned; on a runtime that presents the same device as a hardware adapter (a second
// GpuRuntime over the real device, isSoftware false), the first meeting of a shape class runs the vendor
// default and is recorded, tunePending times every variant, picks the fastest, writes the JSON cache, and a
// fresh runtime loads the choice from it; results stay equal to the CPU reference on every choice.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { adapterKey, Autotuner, loadAutotuneCache, tunePending, variantReport } from '../src/gpu/autotune';
import { defaultAutotunePath, fileAutotuneStore } from '../src/gpu/autotune_file';
import { chooseMatmulPath, matmul, matmulPaths, SOFTWARE_MATMUL_PATHS } from '../src/gpu/kernels/matmul';
import { GpuRuntime } from '../src/gpu/runtime';
import * as ref from '../src/reference/matmul';
import { Rng, randn } from '../src/util/random';
import { testGpu } from './gpu';

async function checkMatmul(gpu: GpuRuntime, M: number, K: number, N: number, transB: boolean): Promise<number> {
  const rng = new Rng(5);
  const a = randn(M * K, rng);
  const b = randn(K * N, rng);
  const ta = gpu.upload(a, [M, K], 'a');
  const tb = gpu.upload(b, transB ? [N, K] : [K, N], 'b');
  const tout = gpu.tensor([M, N], 'out');
  matmul(gpu, tout, ta, tb, { transB });
  const got = await gpu.read(tout);
  const want = new Float32Array(M * N);
  ref.matmul(want, a, b, 1, M, K, N, { transB });
  gpu.release(ta, tb, tout);
  return Math.max(...got.map((g, i) => Math.abs(g - want[i])));
}

describe('autotune', () => {
  test('a software adapter keeps the software kernels and records nothing to tune', async () => {
    const gpu = await testGpu();
    expect(gpu.adapter.isSoftware).toBe(true);
    const prob = { Bt: 1, M: 64, K: 64, N: 64, batchedA: false, batchedB: false };
    const path = chooseMatmulPath(gpu, prob, { transB: true });
    expect(SOFTWARE_MATMUL_PATHS).toContain(path);
    expect(path).toBe(matmulPaths(gpu, prob, { transB: true })[0]);
    expect(await checkMatmul(gpu, 20, 16, 12, true)).toBeLessThan(1e-4);
    expect(gpu.variantPending.size).toBe(0);
    expect(await tunePending(gpu)).toEqual([]);
    expect(await new Autotuner(gpu, true, null).init()).toMatch(/software adapter/);
  });

  test('a hardware adapter: default table, then measured choices cached in the JSON file and reloaded', async () => {
    const base = await testGpu();
    const hw = new GpuRuntime(base.device, { ...base.adapter, vendor: 'nvidia', description: 'test view of ' + base.adapter.description, isSoftware: false });
    const dir = mkdtempSync(join(tmpdir(), 'autotune-'));
    const store = fileAutotuneStore(join(dir, 'sub', 'autotune.json'));
    const tuner = new Autotuner(hw, true, store, { budgetMs: 60_000, perCandidateMs: 1 });
    expect(await tuner.init()).toMatch(/autotune: on, 0 cached choices/);

    // decode-sized M: the default is split-K; a 64-row problem: a tiled variant
    expect(await checkMatmul(hw, 4, 64, 40, true)).toBeLessThan(1e-4);
    expect(await checkMatmul(hw, 64, 48, 64, false)).toBeLessThan(1e-4);
    expect(hw.variantPending.size).toBe(2);
    const before = variantReport(hw);
    expect(before.map((r) => [r.shapeClass, r.variant, r.source])).toEqual([
      ['matmul NN M64 K64 N64', 'tiled_64x64_k16', 'default'],
      ['matmul NT M4 K64 N64', expect.stringMatching(/^smallm/), 'default'],
    ]);

    const fresh = await tuner.afterStep();
    expect(fresh).toHaveLength(2);
    expect(hw.variantPending.size).toBe(0);
    for (const e of fresh) {
      const prob = e.shapeClass.includes('M4') ? { Bt: 1, M: 4, K: 64, N: 40, batchedA: false, batchedB: false } : { Bt: 1, M: 64, K: 48, N: 64, batchedA: false, batchedB: false };
      const transB = e.shapeClass.includes('NT');
      // every variant that can run it was timed, and the choice is the fastest
      expect(e.candidates.map((c) => c.variant).sort()).toEqual(matmulPaths(hw, prob, { transB }).sort());
      expect(e.variant).toBe(e.candidates[0].variant);
      expect(Math.min(...e.candidates.map((c) => c.ms))).toBe(e.candidates[0].ms);
      expect(e.candidates.every((c) => c.ms > 0 && c.gflops > 0)).toBe(true);
      expect(hw.variantChoices.get(e.shapeClass)).toBe(e.variant);
      expect(chooseMatmulPath(hw, prob, { transB })).toBe(e.variant);
    }
    // the winners compute the same numbers
    expect(await checkMatmul(hw, 4, 64, 40, true)).toBeLessThan(1e-4);
    expect(await checkMatmul(hw, 64, 48, 64, false)).toBeLessThan(1e-4);
    expect(variantReport(hw).every((r) => r.source === 'autotuned' && r.gflops! > 0)).toBe(true);

    // the cache file holds them under this adapter's key; a fresh runtime loads them
    const file = JSON.parse(readFileSync(join(dir, 'sub', 'autotune.json'), 'utf8'));
    expect(file.version).toBe(1);
    expect(Object.keys(file.adapters)).toEqual([adapterKey(hw.adapter)]);
    const hw2 = new GpuRuntime(base.device, hw.adapter);
    expect(await loadAutotuneCache(hw2, store)).toBe(2);
    for (const e of fresh) expect(hw2.variantChoices.get(e.shapeClass)).toBe(e.variant);
    // another adapter does not see them
    const other = new GpuRuntime(base.device, { ...hw.adapter, vendor: 'amd' });
    expect(await loadAutotuneCache(other, store)).toBe(0);
    // autotuning off: nothing timed, the default table
    const off = new GpuRuntime(base.device, hw.adapter);
    const offTuner = new Autotuner(off, false, store);
    expect(await offTuner.init()).toMatch(/off/);
    expect(await checkMatmul(off, 4, 64, 40, true)).toBeLessThan(1e-4);
    expect(await offTuner.afterStep()).toEqual([]);
    expect(off.variantChoices.size).toBe(0);
    expect(base.errors).toEqual([]);
  }, 300_000);

  test('the cache file: default path, env override, and a corrupt file is named and ignored', async () => {
    expect(defaultAutotunePath({ HOME: '/h', XDG_CACHE_HOME: '/x' })).toBe('/x/grpo-playground/autotune.json');
    expect(defaultAutotunePath({ GRPO_AUTOTUNE_CACHE: '/y/a.json' })).toBe('/y/a.json');
    const dir = mkdtempSync(join(tmpdir(), 'autotune-bad-'));
    const path = join(dir, 'autotune.json');
    writeFileSync(path, '{ not json');
    const warnings: string[] = [];
    const store = fileAutotuneStore(path, (m) => warnings.push(m));
    expect(await store.load('k')).toEqual({});
    expect(warnings[0]).toContain(path);
    await store.save('k', {});
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ version: 1, adapters: { k: {} } });
  });
});
