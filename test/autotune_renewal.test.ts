// The autotuner survives a lost device: the worker's model slot (src/worker/model_slot.ts) renews a destroyed
// device, and the renewed runtime has an Autotuner with the same setting and cache file, the choices measured
// before the loss (so they are not timed again and the same variants run), and goes on tuning shape classes
// it meets for the first time, saving them beside the old ones. The runtimes present the Node device as a
// hardware adapter (isSoftware false), since software adapters are never tuned (see test/autotune.test.ts).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { adapterKey, Autotuner, autotunerOf, renewAutotuner, variantReport } from '../src/gpu/autotune';
import { fileAutotuneStore } from '../src/gpu/autotune_file';
import { chooseMatmulPath, matmul } from '../src/gpu/kernels/matmul';
import { matmulPacked16Forward } from '../src/gpu/kernels/matmul_packed16';
import { choosePacked16Path } from '../src/gpu/kernels/matmul_packed16_variants';
import { acquireNodeGpu } from '../src/gpu/node';
import { GpuRuntime, type AdapterSummary } from '../src/gpu/runtime';
import { nodeFileSource } from '../src/model/load_node';
import * as ref from '../src/reference/matmul';
import { pack16, matmulPacked16Forward as refPacked } from '../src/reference/packed16';
import { Rng, randn } from '../src/util/random';
import { ModelSlot } from '../src/worker/model_slot';
import { STORIES } from './grpo/fixtures';

const TOKENIZER = STORIES.replace(/stories260K\.bin$/, 'tok512.bin');

/** A fresh Node device presented as a hardware adapter (the same summary each time: the same cache key). */
async function hardwareView(summary?: AdapterSummary): Promise<GpuRuntime> {
  const base = await acquireNodeGpu();
  const hw = new GpuRuntime(base.device, summary ?? { ...base.adapter, vendor: 'nvidia', description: 'renewal test view', isSoftware: false });
  hw.keepAlive = base.keepAlive;
  return hw;
}

/** max |GPU - reference| of an f32 matmul (M, K) x (K, N). */
async function matmulErr(gpu: GpuRuntime, M: number, K: number, N: number): Promise<number> {
  const rng = new Rng(M * 131 + N);
  const a = randn(M * K, rng);
  const b = randn(K * N, rng);
  const ta = gpu.upload(a, [M, K], 'a');
  const tb = gpu.upload(b, [K, N], 'b');
  const tout = gpu.tensor([M, N], 'out');
  matmul(gpu, tout, ta, tb);
  const got = await gpu.read(tout);
  const want = new Float32Array(M * N);
  ref.matmul(want, a, b, 1, M, K, N);
  gpu.release(ta, tb, tout);
  return Math.max(...got.map((g, i) => Math.abs(g - want[i])));
}

/** max |GPU - reference| of a bfloat16-weight forward x (M, K) W^T, W (N, K). */
async function packedErr(gpu: GpuRuntime, M: number, K: number, N: number): Promise<number> {
  const rng = new Rng(7);
  const x = randn(M * K, rng);
  const w = pack16(randn(N * K, rng, 0.5), 'bf16');
  const tx = gpu.upload(x, [M, K], 'x');
  const tw = gpu.upload(w, [N, K / 2], 'w', 'u32');
  const ty = gpu.tensor([M, N], 'y');
  matmulPacked16Forward(gpu, ty, tx, tw, 'bf16');
  const got = await gpu.read(ty);
  const want = new Float32Array(M * N);
  refPacked(want, x, w, null, M, K, N, 'bf16');
  gpu.release(tx, tw, ty);
  return Math.max(...got.map((g, i) => Math.abs(g - want[i])));
}

describe('autotuning after a lost device', () => {
  test('the model slot renews a destroyed device and the autotuner, its cache and its choices come back', async () => {
    let current: Promise<GpuRuntime> | null = null;
    let summary: AdapterSummary | undefined;
    const gpu = () => (current ??= hardwareView(summary).then((g) => ((summary = g.adapter), g)));
    const renew = () => {
      current = null;
      return gpu();
    };
    const slot = new ModelSlot(gpu, renew);
    await slot.load([await nodeFileSource(STORIES), await nodeFileSource(TOKENIZER)], () => undefined);
    const first = slot.require().gpu;
    expect(first.adapter.isSoftware).toBe(false);

    const path = join(mkdtempSync(join(tmpdir(), 'autotune-renew-')), 'autotune.json');
    const store = fileAutotuneStore(path);
    const tuner = new Autotuner(first, true, store, { budgetMs: 120_000, perCandidateMs: 1 });
    expect(await tuner.init()).toMatch(/on, 0 cached choices/);
    // an f32 matmul and a 16-bit weight matmul meet their shape classes, then are tuned between "steps"
    expect(await matmulErr(first, 12, 16, 20)).toBeLessThan(1e-4);
    expect(await packedErr(first, 3, 32, 24)).toBeLessThan(1e-4);
    const tuned = await tuner.afterStep();
    expect(tuned.map((e) => e.shapeClass).sort()).toEqual(['matmul NN M16 K16 N32', 'matmul_packed16 forward bf16 M3 K32 N32']);
    const before = new Map(tuned.map((e) => [e.shapeClass, e.variant]));

    // the device goes away, as after a driver reset; the slot renews it
    first.device.destroy();
    expect(await slot.lostReason()).toMatch(/GPU device lost/);
    const on = await slot.renew();
    const second = on.gpu;
    expect(second).not.toBe(first);
    expect(second.device).not.toBe(first.device);
    expect(second.lost).toBeNull();
    expect(adapterKey(second.adapter)).toBe(adapterKey(first.adapter));

    // the renewed runtime has an autotuner: same setting, same cache file, the choices made before the loss
    const renewed = autotunerOf(second);
    expect(renewed).toBeDefined();
    expect(renewed).not.toBe(tuner);
    expect(renewed!.enabled).toBe(true);
    expect(renewed!.store?.where).toBe(path);
    for (const [cls, variant] of before) expect(second.variantChoices.get(cls)).toBe(variant);
    expect(chooseMatmulPath(second, { Bt: 1, M: 12, K: 16, N: 20, batchedA: false, batchedB: false })).toBe(before.get('matmul NN M16 K16 N32'));
    expect(choosePacked16Path(second, { dir: 'forward', format: 'bf16', M: 3, K: 32, N: 24 })).toBe(before.get('matmul_packed16 forward bf16 M3 K32 N32'));
    expect(variantReport(second).map((r) => [r.shapeClass, r.source])).toEqual([...before.keys()].sort().map((c) => [c, 'autotuned']));
    // the carried choices compute the same numbers on the new device, and are not timed again
    expect(await matmulErr(second, 12, 16, 20)).toBeLessThan(1e-4);
    expect(await packedErr(second, 3, 32, 24)).toBeLessThan(1e-4);
    expect(second.variantPending.size).toBe(0);
    expect(await renewed!.afterStep()).toEqual([]);

    // a shape class first met after the renewal is tuned and cached beside the old ones
    expect(await matmulErr(second, 40, 8, 12)).toBeLessThan(1e-4);
    expect(second.variantPending.size).toBe(1);
    const fresh = await renewed!.afterStep();
    expect(fresh.map((e) => e.shapeClass)).toEqual(['matmul NN M64 K8 N16']);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    expect(Object.keys(file.adapters[adapterKey(second.adapter)]).sort()).toEqual(['matmul NN M16 K16 N32', 'matmul NN M64 K8 N16', 'matmul_packed16 forward bf16 M3 K32 N32']);
    expect(second.errors).toEqual([]);
    second.device.destroy();
  }, 300_000);

  test('without a cache store the measured choices still carry over; autotuning off stays off', async () => {
    const a = await hardwareView();
    const tuner = new Autotuner(a, true, null, { budgetMs: 60_000, perCandidateMs: 1 });
    await tuner.init();
    expect(await matmulErr(a, 12, 16, 20)).toBeLessThan(1e-4);
    const [entry] = await tuner.afterStep();
    a.device.destroy();
    const b = await hardwareView(a.adapter);
    const carried = await renewAutotuner(a, b);
    expect(carried?.enabled).toBe(true);
    expect(carried?.store).toBeNull();
    expect(b.variantChoices.get(entry.shapeClass)).toBe(entry.variant);

    // off before the loss: off after, nothing carried or timed
    const off = new Autotuner(b, false, null);
    await off.init();
    b.device.destroy();
    const c = await hardwareView(a.adapter);
    const offAfter = await renewAutotuner(b, c);
    expect(offAfter?.enabled).toBe(false);
    expect(c.variantChoices.size).toBe(0);
    expect(await matmulErr(c, 12, 16, 20)).toBeLessThan(1e-4);
    expect(await offAfter!.afterStep()).toEqual([]);
    c.device.destroy();
  }, 120_000);
});
