import * as gpuK from '../../gpu/kernels/attention';
import * as ref from '../../reference/attention';
import { compare, merge, type CaseResult, type KernelCheck, type Tolerance } from '../check';
import { Rng, randn } from '../../util/random';
import type { GpuRuntime } from '../../gpu/runtime';

/** Fused against the kernels it replaces: bit for bit on software adapters (where it was checked); other
 * shader compilers may contract a * b + c into an fma differently per shader, so elsewhere within ~1 ulp. */
const sameAs = (gpu: GpuRuntime): Tolerance => (gpu.adapter.isSoftware ? { atol: 0, rtol: 0 } : { atol: 1e-6, rtol: 1e-6 });

type Dims = gpuK.AttentionDims;

// measured: forward within 1e-6, backward within 4e-6 of the float64 references
const FWD_TOL: Tolerance = { atol: 1e-4, rtol: 1e-4 };
const BWD_TOL: Tolerance = { atol: 1e-4, rtol: 1e-4 };

const name = (d: Dims) =>
  `B=${d.B} T=${d.T} NH=${d.NH} NKV=${d.NKV} HS=${d.HS}${d.window ? ` window=${d.window}` : ''}${d.scale ? ` scale=${d.scale}` : ''}`;

/** Forward and backward against the reference: NH == NKV and NH > NKV (G = 2, 3), T = 1, T and rows
 * (T * G) past one tile and not multiples of any tile, head sizes 8, 16, 64. */
const TRAINING_CASES: Dims[] = [
  { B: 1, T: 1, NH: 2, NKV: 2, HS: 8 },
  { B: 2, T: 1, NH: 4, NKV: 2, HS: 64 },
  { B: 2, T: 7, NH: 4, NKV: 4, HS: 8 },
  { B: 2, T: 13, NH: 4, NKV: 2, HS: 16 },
  { B: 1, T: 70, NH: 2, NKV: 1, HS: 8 },
  { B: 1, T: 20, NH: 2, NKV: 2, HS: 64 },
  { B: 2, T: 37, NH: 6, NKV: 2, HS: 64 },
  // sliding windows (Gemma): shorter than a tile, across tile boundaries, 1 (only itself); another scale
  { B: 2, T: 13, NH: 4, NKV: 2, HS: 16, window: 5, scale: 0.125 },
  { B: 1, T: 70, NH: 2, NKV: 1, HS: 8, window: 19 },
  { B: 1, T: 40, NH: 4, NKV: 1, HS: 64, window: 17 },
  { B: 2, T: 9, NH: 2, NKV: 2, HS: 8, window: 1 },
];

async function trainingCase(gpu: GpuRuntime, d: Dims, rng: Rng): Promise<CaseResult[]> {
  const nq = d.B * d.T * d.NH * d.HS;
  const nkv = d.B * d.T * d.NKV * d.HS;
  const q = randn(nq, rng, 1.5);
  const k = randn(nkv, rng);
  const v = randn(nkv, rng);
  const dout = randn(nq, rng);
  const tq = gpu.upload(q, [d.B, d.T, d.NH, d.HS], 'q');
  const tk = gpu.upload(k, [d.B, d.T, d.NKV, d.HS], 'k');
  const tv = gpu.upload(v, [d.B, d.T, d.NKV, d.HS], 'v');
  const tdout = gpu.upload(dout, [d.B, d.T, d.NH, d.HS], 'dout');
  const tout = gpu.tensor([d.B, d.T, d.NH, d.HS], 'out');
  const tlse = gpu.tensor([d.B, d.NH, d.T], 'lse');
  const tdq = gpu.tensor([d.B, d.T, d.NH, d.HS], 'dq');
  const tdk = gpu.tensor([d.B, d.T, d.NKV, d.HS], 'dk');
  const tdv = gpu.tensor([d.B, d.T, d.NKV, d.HS], 'dv');
  gpuK.attentionForward(gpu, tout, tlse, tq, tk, tv, d);
  gpuK.attentionBackward(gpu, tdq, tdk, tdv, tdout, tq, tk, tv, tout, tlse, d);

  const out = new Float32Array(nq);
  const lse = new Float32Array(d.B * d.NH * d.T);
  ref.attentionForward(out, lse, q, k, v, d);
  const gotOut = await gpu.read(tout);
  const gotLse = await gpu.read(tlse);
  const fwd = merge([
    compare('attention_forward', name(d), 'out', gotOut, out, FWD_TOL),
    compare('attention_forward', name(d), 'lse', gotLse, lse, FWD_TOL),
  ]);
  // the backward reference takes the GPU's own saved out and lse, so that it checks the backward alone
  const dq = new Float32Array(nq);
  const dk = new Float32Array(nkv);
  const dv = new Float32Array(nkv);
  ref.attentionBackward(dq, dk, dv, dout, q, k, v, gotOut, gotLse, d);
  const bwd = merge([
    compare('attention_backward', name(d), 'dq', await gpu.read(tdq), dq, BWD_TOL),
    compare('attention_backward', name(d), 'dk', await gpu.read(tdk), dk, BWD_TOL),
    compare('attention_backward', name(d), 'dv', await gpu.read(tdv), dv, BWD_TOL),
  ]);
  gpu.release(tq, tk, tv, tdout, tout, tlse, tdq, tdk, tdv);
  return [fwd, bwd];
}

interface DecodeCase {
  B: number;
  NH: number;
  NKV: number;
  HS: number;
  TMAX: number;
  lengths: number[];
  window?: number;
  scale?: number;
}

/** Rows of different lengths (past one workgroup of 256 positions of the scores pass, not multiples of 4),
 * full caches, a zero length, NH == NKV and NH > NKV. */
const DECODE_CASES: DecodeCase[] = [
  { B: 4, NH: 4, NKV: 2, HS: 16, TMAX: 300, lengths: [1, 70, 300, 0] },
  { B: 2, NH: 2, NKV: 2, HS: 8, TMAX: 64, lengths: [64, 5] },
  { B: 2, NH: 6, NKV: 2, HS: 64, TMAX: 270, lengths: [257, 66] },
  { B: 1, NH: 3, NKV: 1, HS: 16, TMAX: 600, lengths: [517] },
  // sliding windows: lengths shorter and longer than the window
  { B: 3, NH: 4, NKV: 2, HS: 16, TMAX: 40, lengths: [3, 40, 11], window: 7, scale: 0.2 },
  { B: 2, NH: 2, NKV: 1, HS: 8, TMAX: 300, lengths: [300, 1], window: 33 },
];

async function decodeCase(gpu: GpuRuntime, c: DecodeCase, rng: Rng): Promise<CaseResult> {
  const { B, NH, NKV, HS, TMAX } = c;
  const label = `B=${B} NH=${NH} NKV=${NKV} HS=${HS} TMAX=${TMAX} lengths=${c.lengths.join(',')}${c.window ? ` window=${c.window}` : ''}`;
  const q = randn(B * NH * HS, rng, 1.5);
  // random everywhere, also past the lengths, where the kernel must not look
  const kCache = randn(B * TMAX * NKV * HS, rng);
  const vCache = randn(B * TMAX * NKV * HS, rng);
  const lengths = Uint32Array.from(c.lengths);
  const tq = gpu.upload(q, [B, NH, HS], 'q');
  const tk = gpu.upload(kCache, [B, TMAX, NKV, HS], 'kCache');
  const tv = gpu.upload(vCache, [B, TMAX, NKV, HS], 'vCache');
  const tlen = gpu.upload(lengths, [B], 'lengths', 'u32');
  const tout = gpu.tensor([B, NH, HS], 'out');
  const want = new Float32Array(B * NH * HS);
  ref.attentionDecode(want, q, kCache, vCache, lengths, c);
  // both variants against the reference, and the single pass bit for bit the three passes
  gpuK.attentionDecode(gpu, tout, tq, tk, tv, tlen, c, 'three_pass');
  const three = await gpu.read(tout);
  gpuK.attentionDecode(gpu, tout, tq, tk, tv, tlen, c, 'single_pass');
  const single = await gpu.read(tout);
  const result = merge([
    compare('attention_decode', `${label} three_pass`, 'out', three, want, FWD_TOL),
    compare('attention_decode', `${label} single_pass`, 'out', single, want, FWD_TOL),
    compare('attention_decode', `${label} single_pass equals three_pass`, 'out', single, three, sameAs(gpu)),
  ]);
  gpu.release(tq, tk, tv, tlen, tout);
  return result;
}

/** kvCacheWrite against its reference (scattered positions, one skipped past TMAX), then decoding over
 * caches it filled against the rows of attentionForward on the same sequence: step by step (T = 1 writes
 * at the current length) and after a prefill (one write of the whole sequence). */
async function cacheCase(gpu: GpuRuntime, d: Dims, TMAX: number, stepwise: boolean, rng: Rng): Promise<CaseResult[]> {
  const { B, T, NH, NKV, HS } = d;
  const C = NKV * HS;
  const label = `${name(d)} TMAX=${TMAX} ${stepwise ? 'step by step' : 'prefill'}`;
  const results: CaseResult[] = [];

  // scatter check: each batch row writes its T rows to distinct random positions, the last one past TMAX
  const x = randn(B * T * C, rng);
  const cache0 = randn(B * TMAX * C, rng);
  const positions = new Uint32Array(B * T);
  for (let b = 0; b < B; b++) {
    const perm = Array.from({ length: TMAX }, (_, i) => i);
    for (let i = TMAX - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    for (let t = 0; t < T; t++) positions[b * T + t] = t === T - 1 && T > 1 ? TMAX + b : perm[t];
  }
  const tx = gpu.upload(x, [B, T, C], 'x');
  const tpos = gpu.upload(positions, [B * T], 'positions', 'u32');
  const tcache = gpu.upload(cache0, [B, TMAX, NKV, HS], 'cache');
  gpuK.kvCacheWrite(gpu, tcache, tx, tpos, { B, T, NKV, HS, TMAX });
  const wantCache = cache0.slice();
  ref.kvCacheWrite(wantCache, x, positions, { B, T, NKV, HS, TMAX });
  results.push(compare('kv_cache_write', label, 'cache', await gpu.read(tcache), wantCache, { atol: 0, rtol: 0 }));
  gpu.release(tx, tpos, tcache);

  // decode over the cache against the forward pass
  const q = randn(B * T * NH * HS, rng, 1.5);
  const k = randn(B * T * C, rng);
  const v = randn(B * T * C, rng);
  const tq = gpu.upload(q, [B, T, NH, HS], 'q');
  const tk = gpu.upload(k, [B, T, NKV, HS], 'k');
  const tv = gpu.upload(v, [B, T, NKV, HS], 'v');
  const tout = gpu.tensor([B, T, NH, HS], 'out');
  const tlse = gpu.tensor([B, NH, T], 'lse');
  gpuK.attentionForward(gpu, tout, tlse, tq, tk, tv, d);
  const fwdOut = await gpu.read(tout);
  const kCache = gpu.upload(randn(B * TMAX * C, rng), [B, TMAX, NKV, HS], 'kCache');
  const vCache = gpu.upload(randn(B * TMAX * C, rng), [B, TMAX, NKV, HS], 'vCache');
  const tlen = gpu.tensor([B], 'lengths', 'u32');
  const tqRow = gpu.tensor([B, NH, HS], 'q row');
  const tdec = gpu.tensor([B, NH, HS], 'decoded');
  const rowOf = (a: Float32Array, t: number): Float32Array => {
    const r = new Float32Array(B * NH * HS);
    const n = NH * HS;
    for (let b = 0; b < B; b++) r.set(a.subarray((b * T + t) * n, (b * T + t + 1) * n), b * n);
    return r;
  };
  const decodeRow = async (t: number): Promise<void> => {
    gpu.write(tqRow, rowOf(q, t));
    gpu.write(tlen, new Uint32Array(B).fill(t + 1));
    gpuK.attentionDecode(gpu, tdec, tqRow, kCache, vCache, tlen, { B, NH, NKV, HS, TMAX });
    results.push(compare('attention_decode', `${label} t=${t}`, 'out', await gpu.read(tdec), rowOf(fwdOut, t), FWD_TOL));
  };
  if (stepwise) {
    const tstep = gpu.tensor([B, 1, C], 'x step');
    for (let t = 0; t < T; t++) {
      const pos = gpu.upload(new Uint32Array(B).fill(t), [B], 'positions', 'u32');
      for (const [src, cache] of [[k, kCache], [v, vCache]] as const) {
        const step = new Float32Array(B * C);
        for (let b = 0; b < B; b++) step.set(src.subarray((b * T + t) * C, (b * T + t + 1) * C), b * C);
        gpu.write(tstep, step);
        gpuK.kvCacheWrite(gpu, cache, tstep, pos, { B, T: 1, NKV, HS, TMAX });
      }
      gpu.release(pos);
      await decodeRow(t);
    }
    gpu.release(tstep);
  } else {
    const pos = gpu.upload(Uint32Array.from({ length: B * T }, (_, i) => i % T), [B * T], 'positions', 'u32');
    gpuK.kvCacheWrite(gpu, kCache, tk, pos, { B, T, NKV, HS, TMAX });
    gpuK.kvCacheWrite(gpu, vCache, tv, pos, { B, T, NKV, HS, TMAX });
    gpu.release(pos);
    await decodeRow(T - 1);
  }
  gpu.release(tq, tk, tv, tout, tlse, kCache, vCache, tlen, tqRow, tdec);
  return results;
}

export const checks: KernelCheck[] = [
  {
    kernel: 'attention',
    async run(gpu) {
      const rng = new Rng(7);
      const results: CaseResult[] = [];
      for (const d of TRAINING_CASES) results.push(...(await trainingCase(gpu, d, rng)));
      return results;
    },
  },
  {
    kernel: 'attention_decode',
    async run(gpu) {
      const rng = new Rng(8);
      const results: CaseResult[] = [];
      for (const c of DECODE_CASES) results.push(await decodeCase(gpu, c, rng));
      return results;
    },
  },
  {
    kernel: 'attention_kv_cache',
    async run(gpu) {
      const rng = new Rng(9);
      return [
        ...(await cacheCase(gpu, { B: 2, T: 9, NH: 4, NKV: 2, HS: 8 }, 12, true, rng)),
        ...(await cacheCase(gpu, { B: 2, T: 70, NH: 6, NKV: 2, HS: 64 }, 80, false, rng)),
      ];
    },
  },
];
