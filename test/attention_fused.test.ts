// The short-sequence forms of the direct training attention (issue 30 item 4): the single-tile forward
// (attention_forward.wgsl with ONE_TILE) and the fused one-pass backward (attention_backward_fused.wgsl).
// Each must give exactly the outputs of the form it replaces (same expressions, same summation orders),
// and its backward must match finite differences of the forward. (Both against the CPU reference: the
// `attention` check of test/kernels.test.ts, which runs both forms.)
import { describe, expect, test } from 'vitest';
import {
  attentionBackward,
  attentionForward,
  chooseBackwardForm,
  chooseForwardForm,
  fusedBackwardTiles,
  singleTileKeys,
  type AttentionBackwardForm,
  type AttentionDims,
  type AttentionForwardForm,
} from '../src/gpu/kernels/attention';
import type { GpuRuntime } from '../src/gpu/runtime';
import { Rng, randn } from '../src/util/random';
import { testGpu } from './gpu';

const BUILT_IN: AttentionDims = { B: 64, T: 16, NH: 4, NKV: 4, HS: 32 };

describe('short-sequence attention forms: which runs', () => {
  test('the built-in model (T = 16) takes both; SmolLM2-sized sequences keep the tiled forms', async () => {
    const gpu = await testGpu();
    expect(gpu.device.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(9);
    expect(chooseForwardForm(BUILT_IN)).toBe('single_tile');
    expect(chooseBackwardForm(gpu, BUILT_IN)).toBe('fused');
    const smol: AttentionDims = { B: 4, T: 128, NH: 9, NKV: 3, HS: 64 };
    expect(chooseForwardForm(smol)).toBe('online');
    expect(chooseBackwardForm(gpu, smol)).toBe('two_pass');
    // no gain measured at T = 32 on SwiftShader (docs/performance.md)
    expect(chooseBackwardForm(gpu, { ...BUILT_IN, T: 32 })).toBe('two_pass');
    expect(chooseForwardForm({ ...BUILT_IN, T: 17 })).toBe('online');
    // a device held to WebGPU's default 8 storage buffers per stage keeps the two passes
    const eight = { device: { limits: { maxStorageBuffersPerShaderStage: 8 } } } as unknown as GpuRuntime;
    expect(chooseBackwardForm(eight, BUILT_IN)).toBe('two_pass');
  });

  test('the fused backward fits 16 KiB of workgroup memory and 256 invocations, or is refused', () => {
    for (const HS of [8, 32, 64, 128, 256]) {
      for (const G of [1, 2, 3, 4]) {
        for (const T of [1, 5, 16, 24, 64]) {
          const d: AttentionDims = { B: 1, T, NH: 2 * G, NKV: 2, HS };
          const t = fusedBackwardTiles(d);
          if (!t) continue;
          expect(t.NRG * t.HS4).toBeLessThanOrEqual(256);
          expect(192 * t.NRG * t.NKG + 32 * t.NRG).toBeLessThanOrEqual(16384);
          expect(4 * t.NRG).toBeGreaterThanOrEqual(T * G);
          expect(4 * t.NKG).toBeGreaterThanOrEqual(T);
        }
      }
    }
    expect(fusedBackwardTiles({ B: 1, T: 128, NH: 9, NKV: 3, HS: 64 })).toBeNull();
    expect(fusedBackwardTiles({ B: 1, T: 16, NH: 16, NKV: 2, HS: 128 })).toBeNull(); // 32 row groups of 32 invocations
    expect(singleTileKeys(BUILT_IN)).toBe(16);
  });
});

interface Run { out: Float32Array; lse: Float32Array; dq: Float32Array; dk: Float32Array; dv: Float32Array }

async function run(gpu: GpuRuntime, d: AttentionDims, x: Record<'q' | 'k' | 'v' | 'dout', Float32Array>, fwd: AttentionForwardForm, bwd: AttentionBackwardForm): Promise<Run> {
  const { B, T, NH, NKV, HS } = d;
  const tq = gpu.upload(x.q, [B, T, NH, HS], 'q');
  const tk = gpu.upload(x.k, [B, T, NKV, HS], 'k');
  const tv = gpu.upload(x.v, [B, T, NKV, HS], 'v');
  const tdo = gpu.upload(x.dout, [B, T, NH, HS], 'dout');
  const out = gpu.tensor([B, T, NH, HS], 'out');
  const lse = gpu.tensor([B, NH, T], 'lse');
  const dq = gpu.tensor([B, T, NH, HS], 'dq');
  const dk = gpu.tensor([B, T, NKV, HS], 'dk');
  const dv = gpu.tensor([B, T, NKV, HS], 'dv');
  attentionForward(gpu, out, lse, tq, tk, tv, d, 'direct', null, fwd);
  attentionBackward(gpu, dq, dk, dv, tdo, tq, tk, tv, out, lse, d, 'direct', null, bwd);
  const r = { out: await gpu.read(out), lse: await gpu.read(lse), dq: await gpu.read(dq), dk: await gpu.read(dk), dv: await gpu.read(dv) };
  gpu.release(tq, tk, tv, tdo, out, lse, dq, dk, dv);
  return r;
}

function inputs(d: AttentionDims, rng: Rng) {
  const nq = d.B * d.T * d.NH * d.HS;
  const nkv = d.B * d.T * d.NKV * d.HS;
  return { q: randn(nq, rng, 1.5), k: randn(nkv, rng), v: randn(nkv, rng), dout: randn(nq, rng) };
}

describe('short-sequence attention forms equal the forms they replace', () => {
  const cases: AttentionDims[] = [
    { B: 3, T: 16, NH: 4, NKV: 4, HS: 32 },
    { B: 2, T: 1, NH: 2, NKV: 1, HS: 8 },
    { B: 2, T: 13, NH: 6, NKV: 2, HS: 64 },
    { B: 2, T: 11, NH: 4, NKV: 2, HS: 16, window: 4, scale: 0.2 },
    { B: 1, T: 16, NH: 3, NKV: 1, HS: 8, window: 1 },
  ];
  test.each(cases)('%o', async (d) => {
    const gpu = await testGpu();
    const x = inputs(d, new Rng(5));
    const before = await run(gpu, d, x, 'online', 'two_pass');
    const after = await run(gpu, d, x, 'single_tile', 'fused');
    // exactly: the same values, formed in the same order
    for (const key of ['out', 'lse', 'dq', 'dk', 'dv'] as const) {
      expect(Array.from(after[key]), key).toEqual(Array.from(before[key]));
      expect(after[key].every(Number.isFinite), key).toBe(true);
    }
    expect(before.dv.some((v) => v !== 0)).toBe(true);
    expect(gpu.pool.stats.bytesInUse).toBeLessThanOrEqual(0);
  });
});

describe('fused backward against finite differences of the single-tile forward', () => {
  const cases: AttentionDims[] = [
    { B: 2, T: 9, NH: 4, NKV: 2, HS: 8, window: 3, scale: 0.4 },
    { B: 1, T: 16, NH: 4, NKV: 4, HS: 32 },
  ];
  test.each(cases)('%o', async (d) => {
    const gpu = await testGpu();
    const rng = new Rng(9);
    const x = inputs(d, rng);
    const w = x.dout; // loss <out, W>: dout = W
    const g = await run(gpu, d, x, 'single_tile', 'fused');
    const grads = { q: g.dq, k: g.dk, v: g.dv };
    const loss = async () => {
      const r = await run(gpu, d, x, 'single_tile', 'fused');
      let s = 0;
      for (let i = 0; i < r.out.length; i++) s += r.out[i] * w[i];
      return s;
    };
    const eps = 1e-2;
    const problems: string[] = [];
    for (const which of ['q', 'k', 'v'] as const) {
      const a = x[which];
      const picks = [0, a.length - 1, ...Array.from({ length: 5 }, () => rng.int(a.length))];
      for (const i of picks) {
        const a0 = a[i];
        a[i] = a0 + eps;
        const plus = await loss();
        a[i] = a0 - eps;
        const minus = await loss();
        a[i] = a0;
        const fd = (plus - minus) / (2 * eps);
        const got = grads[which][i];
        if (!(Math.abs(got - fd) <= 2e-3 + 2e-2 * Math.abs(fd))) problems.push(`d${which}[${i}] got ${got} want ${fd}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
