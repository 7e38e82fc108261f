// The tiled attention variants (src/gpu/kernels/attention_tiled.ts): which kernels run where, and the
// backward through the variant against central finite differences of its own forward on the adapter.
// (Forward and backward against the CPU reference: `attention [tiled]` / `attention [tiled_16k]` in
// test/kernels.test.ts.)
import { describe, expect, test } from 'vitest';
import { attentionBackward, attentionForward, type AttentionDims } from '../src/gpu/kernels/attention';
import {
  attentionVariantRows,
  chooseAttentionPath,
  tiledAttentionTiles,
  tiledBytes,
  TILED_MIN_T,
  type AttentionPath,
} from '../src/gpu/kernels/attention_tiled';
import { GpuRuntime } from '../src/gpu/runtime';
import { Rng, randn } from '../src/util/random';
import { testGpu } from './gpu';

describe('attention variant choice', () => {
  test('software adapters keep the direct kernels; hardware adapters run tiled from T = 256', async () => {
    const gpu = await testGpu();
    expect(gpu.adapter.isSoftware).toBe(true);
    const long: AttentionDims = { B: 1, T: 512, NH: 4, NKV: 2, HS: 64 };
    expect(chooseAttentionPath(gpu, long)).toBe('direct');
    const hw = new GpuRuntime(gpu.device, { ...gpu.adapter, vendor: 'nvidia', isSoftware: false });
    expect(chooseAttentionPath(hw, long)).toBe('tiled');
    expect(chooseAttentionPath(hw, { ...long, T: TILED_MIN_T })).toBe('tiled');
    expect(chooseAttentionPath(hw, { ...long, T: TILED_MIN_T - 1 })).toBe('direct');
    expect(chooseAttentionPath(hw, { ...long, HS: 256, window: 512 })).toBe('tiled');
    expect(attentionVariantRows(hw).map((r) => [r.shapeClass, r.variant, r.source])).toEqual([
      ['attention T>=256 HS64', 'tiled', 'default'],
      ['attention T<256 HS64', 'direct', 'default'],
      ['attention T>=256 HS256 window', 'tiled', 'default'],
    ]);
    expect(attentionVariantRows(gpu).map((r) => [r.variant, r.source])).toContainEqual(['direct', 'software']);
  });

  test('tiles fit the workgroup memory they are chosen for, and the smallest devices get dim slices', () => {
    for (const HS of [8, 16, 64, 72, 128, 256]) {
      for (const bytes of [16384, 32768, 49152]) {
        const t = tiledAttentionTiles(HS, bytes, 256);
        expect(t, `HS ${HS} in ${bytes} bytes`).not.toBeNull();
        for (const kind of ['forward', 'dq', 'dkv'] as const) {
          const s = t![kind];
          expect(tiledBytes(kind, HS / 4, s)).toBeLessThanOrEqual(bytes);
          expect(s.tile * s.S).toBeLessThanOrEqual(HS);
          expect((HS / 4) % s.S).toBe(0);
          expect(s.tile % 4).toBe(0);
          expect(s.groups * (HS / 4)).toBeLessThanOrEqual(256);
        }
      }
    }
    expect(tiledAttentionTiles(64, 32768, 256)!.forward).toEqual({ groups: 8, tile: 64, S: 1 });
    expect(tiledAttentionTiles(64, 16384, 256)!.forward).toEqual({ groups: 8, tile: 32, S: 1 });
    // wide heads: each score block split over dim slices, so that every invocation has one
    expect(tiledAttentionTiles(128, 16384, 256)!.forward).toEqual({ groups: 4, tile: 16, S: 4 });
    expect(tiledAttentionTiles(256, 32768, 256)!.forward).toEqual({ groups: 2, tile: 16, S: 16 });
    // a head wider than a workgroup cannot run
    expect(tiledAttentionTiles(1024, 32768, 128)).toBeNull();
  });
});

/** The scalar loss <out, W> of the variant's forward in float64 from the read-back out. */
async function lossOf(gpu: GpuRuntime, path: AttentionPath, d: AttentionDims, q: Float32Array, k: Float32Array, v: Float32Array, w: Float32Array) {
  const tq = gpu.upload(q, [d.B, d.T, d.NH, d.HS], 'q');
  const tk = gpu.upload(k, [d.B, d.T, d.NKV, d.HS], 'k');
  const tv = gpu.upload(v, [d.B, d.T, d.NKV, d.HS], 'v');
  const out = gpu.tensor([d.B, d.T, d.NH, d.HS], 'out');
  const lse = gpu.tensor([d.B, d.NH, d.T], 'lse');
  attentionForward(gpu, out, lse, tq, tk, tv, d, path);
  const o = await gpu.read(out);
  gpu.release(tq, tk, tv, out, lse);
  let s = 0;
  for (let i = 0; i < o.length; i++) s += o[i] * w[i];
  return s;
}

describe('tiled attention backward against finite differences of its forward', () => {
  const cases: [AttentionPath, AttentionDims][] = [
    ['tiled', { B: 2, T: 19, NH: 4, NKV: 2, HS: 16, window: 7, scale: 0.3 }],
    // T >= 256, HS 128 with 16 KiB tiles: dim slices in every kernel
    ['tiled_16k', { B: 1, T: 260, NH: 2, NKV: 1, HS: 128 }],
  ];
  test.each(cases)('%s %o', async (path, d) => {
    const gpu = await testGpu();
    const rng = new Rng(3);
    const nq = d.B * d.T * d.NH * d.HS;
    const nkv = d.B * d.T * d.NKV * d.HS;
    const q = randn(nq, rng, 1.5);
    const k = randn(nkv, rng);
    const v = randn(nkv, rng);
    const w = randn(nq, rng);
    // the analytic gradients of <out, W>: dout = W
    const tq = gpu.upload(q, [d.B, d.T, d.NH, d.HS], 'q');
    const tk = gpu.upload(k, [d.B, d.T, d.NKV, d.HS], 'k');
    const tv = gpu.upload(v, [d.B, d.T, d.NKV, d.HS], 'v');
    const tw = gpu.upload(w, [d.B, d.T, d.NH, d.HS], 'dout');
    const out = gpu.tensor([d.B, d.T, d.NH, d.HS], 'out');
    const lse = gpu.tensor([d.B, d.NH, d.T], 'lse');
    const dq = gpu.tensor([d.B, d.T, d.NH, d.HS], 'dq');
    const dk = gpu.tensor([d.B, d.T, d.NKV, d.HS], 'dk');
    const dv = gpu.tensor([d.B, d.T, d.NKV, d.HS], 'dv');
    attentionForward(gpu, out, lse, tq, tk, tv, d, path);
    attentionBackward(gpu, dq, dk, dv, tw, tq, tk, tv, out, lse, d, path);
    const grads = { q: await gpu.read(dq), k: await gpu.read(dk), v: await gpu.read(dv) };
    gpu.release(tq, tk, tv, tw, out, lse, dq, dk, dv);

    const eps = 1e-2;
    const inputs = { q, k, v };
    const problems: string[] = [];
    let checked = 0;
    for (const which of ['q', 'k', 'v'] as const) {
      const x = inputs[which];
      // a few coordinates, among them the first and last positions (the causal mask's two ends)
      const picks = [0, x.length - 1, ...Array.from({ length: 6 }, () => rng.int(x.length))];
      for (const i of picks) {
        const x0 = x[i];
        x[i] = x0 + eps;
        const plus = await lossOf(gpu, path, d, q, k, v, w);
        x[i] = x0 - eps;
        const minus = await lossOf(gpu, path, d, q, k, v, w);
        x[i] = x0;
        const fd = (plus - minus) / (2 * eps);
        const got = grads[which][i];
        checked++;
        if (!(Math.abs(got - fd) <= 2e-3 + 2e-2 * Math.abs(fd))) problems.push(`d${which}[${i}] got ${got} want ${fd}`);
      }
    }
    expect(checked).toBe(24);
    expect(problems).toEqual([]);
    expect(gpu.pool.stats.bytesInUse).toBeLessThanOrEqual(0);
  });
});
