// The page's autotune cache and setting (src/gpu/autotune_idb.ts) on fake-indexeddb: entries per adapter
// key survive a reopen, the setting defaults to on and persists, clearing forgets the choices, and
// pageAutotuner loads cached choices into a hardware-presented runtime over the real device.
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import type { AutotuneEntry } from '../src/gpu/autotune';
import { adapterKey } from '../src/gpu/autotune';
import { clearAutotuneCache, idbAutotuneStore, readAutotuneSetting, writeAutotuneSetting } from '../src/gpu/autotune_idb';
import { pageAutotuner } from '../src/gpu/autotune_page';
import { GpuRuntime } from '../src/gpu/runtime';
import { testGpu } from './gpu';

const entry = (cls: string, variant: string): AutotuneEntry => ({
  op: 'matmul', shapeClass: cls, shape: 'M=8 K=64 N=64 NT', variant, gflops: 12.5,
  candidates: [{ variant, ms: 0.1, gflops: 12.5 }], measuredAt: '2026-12-02T00:00:00.000Z',
});

describe('autotune in IndexedDB', () => {
  test('cache per adapter key, the setting, and clearing', async () => {
    const store = idbAutotuneStore();
    expect(await store.load('a')).toEqual({});
    await store.save('a', { 'matmul NT M8 K64 N64': entry('matmul NT M8 K64 N64', 'smallm') });
    expect(Object.keys(await idbAutotuneStore().load('a'))).toEqual(['matmul NT M8 K64 N64']);
    expect(await store.load('b')).toEqual({});
    expect(await readAutotuneSetting()).toBe(true);
    await writeAutotuneSetting(false);
    expect(await readAutotuneSetting()).toBe(false);
    await writeAutotuneSetting(true);
    await clearAutotuneCache();
    expect(await store.load('a')).toEqual({});
  });

  test('pageAutotuner loads the cached choices of this adapter; off when the setting says so', async () => {
    const base = await testGpu();
    const hw = new GpuRuntime(base.device, { ...base.adapter, vendor: 'intel', isSoftware: false });
    await idbAutotuneStore().save(adapterKey(hw.adapter), { 'matmul NN M64 K64 N64': entry('matmul NN M64 K64 N64', 'tiled_32x32_k16') });
    const tuner = await pageAutotuner(hw);
    expect(tuner.enabled).toBe(true);
    expect(hw.variantChoices.get('matmul NN M64 K64 N64')).toBe('tiled_32x32_k16');
    await writeAutotuneSetting(false);
    const hw2 = new GpuRuntime(base.device, hw.adapter);
    const off = await pageAutotuner(hw2);
    expect(off.enabled).toBe(false);
    expect(off.summary).toMatch(/off/);
    expect(hw2.variantChoices.size).toBe(0);
    const sw = await pageAutotuner(base);
    expect(sw.summary).toMatch(/software adapter/);
    expect(base.variantChoices.size).toBe(0);
  });
});
