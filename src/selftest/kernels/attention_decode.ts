// Every decode self-test: decoding from KV caches in f32 and 16 bits, full-length and rings
// (attention_decode.wgsl, attention_decode_packed16.wgsl, kv_cache_write.wgsl, kv_cache_write_packed16.wgsl,
// the RING override of both decode kernels and cache writes) against src/reference/attention_decode.ts:
// the cache writes bit for bit (rounding to nearest even, ties, f16 overflow and subnormals included), the
// decode with the caches' values (16 bits: against the reference on the same rounded values), caches filled
// by kv_cache_write against the training forward's rows, a ring cache of the window's length against the
// full-length masked cache bit for bit (same order of positions), and the split (flash-decoding) variant,
// forced, against the reference. The training attention cases are in ./attention.ts.
// Over 400 lines on purpose: the one set of decode self-tests (every cache format, rings, splits) in one file.
import * as gpuK from '../../gpu/kernels/attention_decode';
import { attentionForward, type AttentionDims } from '../../gpu/kernels/attention';
import * as ref from '../../reference/attention_decode';
import { pack16 } from '../../reference/packed16';
import { RING_SKIP, type DecodeDims, type KvFormat } from '../../ops/attention';
import { compare, merge, type CaseResult, type KernelCheck, type Tolerance } from '../check';
import { Rng, randn } from '../../util/random';
import type { GpuRuntime } from '../../gpu/runtime';
import type { Tensor } from '../../gpu/tensor';

const TOL: Tolerance = { atol: 1e-4, rtol: 1e-4 };
const EXACT: Tolerance = { atol: 0, rtol: 0 };
/** the same arithmetic in another shader: bit for bit on software adapters (checked there); elsewhere a
 * compiler may contract differently per shader, so within ~1 ulp */
const sameAs = (gpu: GpuRuntime): Tolerance => (gpu.adapter.isSoftware ? EXACT : { atol: 1e-6, rtol: 1e-6 });

function uploadCache(gpu: GpuRuntime, values: Float32Array, B: number, TMAX: number, C: number, format: KvFormat, label: string): Tensor {
  if (format === 'f32') return gpu.upload(values, [B, TMAX, C], label);
  return gpu.upload(pack16(values, format), [B, TMAX, C / 2], label, 'u32');
}

async function readCache(gpu: GpuRuntime, t: Tensor): Promise<Float64Array> {
  // words (16-bit) or f32 values, compared exactly as numbers
  return Float64Array.from(t.dtype === 'u32' ? await gpu.readU32(t) : await gpu.read(t));
}

/** Values that exercise the rounding: ties to even in both formats, f16's overflow and subnormals. */
function awkward(n: number, rng: Rng): Float32Array {
  const special = [1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -11, 1 + 3 * 2 ** -11, -65520, 70000, 6e-6, -3e-8, 1e-30, 0, -0, 65504];
  const x = randn(n, rng, 2);
  for (let i = 0; i < n; i += 3) x[i] = special[(i / 3) % special.length];
  return x;
}

/** Each batch row's T rows to distinct random positions of its cache (a permutation of 0..TMAX-1), the last
 * one (T > 1) past TMAX + b, where the write must skip it. */
function scatterPositions(B: number, T: number, TMAX: number, rng: Rng, positions: Uint32Array): void {
  for (let b = 0; b < B; b++) {
    const perm = Array.from({ length: TMAX }, (_, i) => i);
    for (let i = TMAX - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    for (let t = 0; t < T; t++) positions[b * T + t] = t === T - 1 && T > 1 ? TMAX + b : perm[t % TMAX];
  }
}

interface WriteCase {
  B: number;
  T: number;
  NKV: number;
  HS: number;
  TMAX: number;
  format: KvFormat;
  ring: boolean;
}

const WRITE_CASES: WriteCase[] = [
  { B: 2, T: 5, NKV: 2, HS: 8, TMAX: 12, format: 'bf16', ring: false },
  { B: 3, T: 7, NKV: 1, HS: 6, TMAX: 9, format: 'f16', ring: false },
  { B: 2, T: 1, NKV: 4, HS: 64, TMAX: 3, format: 'bf16', ring: false },
  // rings: positions past TMAX wrap, RING_SKIP rows do not land
  { B: 2, T: 9, NKV: 2, HS: 8, TMAX: 4, format: 'f32', ring: true },
  { B: 2, T: 9, NKV: 2, HS: 8, TMAX: 4, format: 'bf16', ring: true },
  { B: 3, T: 6, NKV: 1, HS: 16, TMAX: 5, format: 'f16', ring: true },
];

async function writeCase(gpu: GpuRuntime, c: WriteCase, rng: Rng): Promise<CaseResult> {
  const { B, T, NKV, HS, TMAX, format, ring } = c;
  const C = NKV * HS;
  const label = `${format}${ring ? ' ring' : ''} B=${B} T=${T} NKV=${NKV} HS=${HS} TMAX=${TMAX}`;
  const x = awkward(B * T * C, rng);
  const cache0 = randn(B * TMAX * C, rng);
  const positions = new Uint32Array(B * T);
  if (ring) {
    // a prefill's ring write: the row's last TMAX positions (of a length that varies per row), the rest skipped
    for (let b = 0; b < B; b++) {
      const len = T - b;
      for (let t = 0; t < T; t++) positions[b * T + t] = t < len && t >= len - TMAX ? t : RING_SKIP;
    }
  } else scatterPositions(B, T, TMAX, rng, positions);
  const tx = gpu.upload(x, [B, T, C], 'x');
  const tpos = gpu.upload(positions, [B * T], 'positions', 'u32');
  const tcache = uploadCache(gpu, cache0, B, TMAX, C, format, 'cache');
  gpuK.kvCacheWrite(gpu, tcache, tx, tpos, { B, T, NKV, HS, TMAX, kvFormat: format, ring });
  const want = format === 'f32' ? cache0.slice() : pack16(cache0, format);
  ref.kvCacheWrite(want, x, positions, { B, T, NKV, HS, TMAX, kvFormat: format, ring });
  const result = compare('kv_cache_write', label, 'cache', await readCache(gpu, tcache), Float64Array.from(want), EXACT);
  gpu.release(tx, tpos, tcache);
  return result;
}

interface DecodeCase extends DecodeDims {
  lengths: number[];
}

/** f32 caches: rows of different lengths (past one workgroup of 256 positions of the scores pass, not
 * multiples of 4), full caches, a zero length, NH == NKV and NH > NKV; sliding windows with lengths shorter
 * and longer than the window. */
const F32_CASES: DecodeCase[] = [
  { B: 4, NH: 4, NKV: 2, HS: 16, TMAX: 300, lengths: [1, 70, 300, 0] },
  { B: 2, NH: 2, NKV: 2, HS: 8, TMAX: 64, lengths: [64, 5] },
  { B: 2, NH: 6, NKV: 2, HS: 64, TMAX: 270, lengths: [257, 66] },
  { B: 1, NH: 3, NKV: 1, HS: 16, TMAX: 600, lengths: [517] },
  { B: 3, NH: 4, NKV: 2, HS: 16, TMAX: 40, lengths: [3, 40, 11], window: 7, scale: 0.2 },
  { B: 2, NH: 2, NKV: 1, HS: 8, TMAX: 300, lengths: [300, 1], window: 33 },
];

/** 16-bit caches: rows of different lengths (past one workgroup of the scores pass, not multiples of 4), a
 * zero length, GQA, a window. */
const PACKED_CASES: DecodeCase[] = [
  { B: 4, NH: 4, NKV: 2, HS: 16, TMAX: 300, lengths: [1, 70, 300, 0], kvFormat: 'bf16' },
  { B: 2, NH: 2, NKV: 2, HS: 8, TMAX: 64, lengths: [64, 5], kvFormat: 'f16' },
  { B: 2, NH: 6, NKV: 2, HS: 64, TMAX: 270, lengths: [257, 66], kvFormat: 'bf16' },
  { B: 3, NH: 4, NKV: 2, HS: 16, TMAX: 40, lengths: [3, 40, 11], window: 7, scale: 0.2, kvFormat: 'f16' },
];

/** Both variants against the reference on the caches' stored values, single pass bit for bit three passes,
 * and (16 bits) bit for bit attention_decode.wgsl on the caches unpacked to f32. */
async function decodeCase(gpu: GpuRuntime, c: DecodeCase, rng: Rng): Promise<CaseResult> {
  const { B, NH, NKV, HS, TMAX } = c;
  const format = c.kvFormat ?? 'f32';
  const C = NKV * HS;
  const kernel = format === 'f32' ? 'attention_decode' : 'attention_decode_packed16';
  const label = `${format === 'f32' ? '' : `${format} `}B=${B} NH=${NH} NKV=${NKV} HS=${HS} TMAX=${TMAX} lengths=${c.lengths.join(',')}${c.window ? ` window=${c.window}` : ''}`;
  const q = randn(B * NH * HS, rng, 1.5);
  const k = randn(B * TMAX * C, rng);
  const v = randn(B * TMAX * C, rng);
  const lengths = Uint32Array.from(c.lengths);
  const kStored = format === 'f32' ? k : pack16(k, format);
  const vStored = format === 'f32' ? v : pack16(v, format);
  const tq = gpu.upload(q, [B, NH, HS], 'q');
  const tk = uploadCache(gpu, k, B, TMAX, C, format, 'kCache');
  const tv = uploadCache(gpu, v, B, TMAX, C, format, 'vCache');
  const tlen = gpu.upload(lengths, [B], 'lengths', 'u32');
  const tout = gpu.tensor([B, NH, HS], 'out');
  const want = new Float32Array(B * NH * HS);
  ref.attentionDecode(want, q, kStored, vStored, lengths, c);
  gpuK.attentionDecode(gpu, tout, tq, tk, tv, tlen, c, 'three_pass');
  const three = await gpu.read(tout);
  gpuK.attentionDecode(gpu, tout, tq, tk, tv, tlen, c, 'single_pass');
  const single = await gpu.read(tout);
  const results = [
    compare(kernel, `${label} three_pass`, 'out', three, want, TOL),
    compare(kernel, `${label} single_pass`, 'out', single, want, TOL),
    compare(kernel, `${label} single_pass equals three_pass`, 'out', single, three, sameAs(gpu)),
  ];
  if (format !== 'f32') {
    // the f32 kernel on the same values
    const unpack = (stored: ArrayLike<number>) => Float32Array.from({ length: B * TMAX * C }, (_, i) => ref.cacheValue(stored as Uint32Array, i, format));
    const tk32 = gpu.upload(unpack(kStored), [B, TMAX, C], 'kCache f32');
    const tv32 = gpu.upload(unpack(vStored), [B, TMAX, C], 'vCache f32');
    gpuK.attentionDecode(gpu, tout, tq, tk32, tv32, tlen, { ...c, kvFormat: 'f32' }, 'three_pass');
    const f32 = await gpu.read(tout);
    results.push(compare(kernel, `${label} equals f32 decode of the unpacked caches`, 'out', three, f32, sameAs(gpu)));
    gpu.release(tk32, tv32);
  }
  gpu.release(tq, tk, tv, tlen, tout);
  return merge(results);
}

/** kvCacheWrite (f32) against its reference (scattered positions, one skipped past TMAX), then decoding over
 * caches it filled against the rows of attentionForward on the same sequence: step by step (T = 1 writes
 * at the current length) and after a prefill (one write of the whole sequence). */
async function cacheCase(gpu: GpuRuntime, d: AttentionDims, TMAX: number, stepwise: boolean, rng: Rng): Promise<CaseResult[]> {
  const { B, T, NH, NKV, HS } = d;
  const C = NKV * HS;
  const label = `B=${B} T=${T} NH=${NH} NKV=${NKV} HS=${HS} TMAX=${TMAX} ${stepwise ? 'step by step' : 'prefill'}`;
  const results: CaseResult[] = [];

  // scatter check: each batch row writes its T rows to distinct random positions, the last one past TMAX
  const x = randn(B * T * C, rng);
  const cache0 = randn(B * TMAX * C, rng);
  const positions = new Uint32Array(B * T);
  scatterPositions(B, T, TMAX, rng, positions);
  const tx = gpu.upload(x, [B, T, C], 'x');
  const tpos = gpu.upload(positions, [B * T], 'positions', 'u32');
  const tcache = gpu.upload(cache0, [B, TMAX, NKV, HS], 'cache');
  gpuK.kvCacheWrite(gpu, tcache, tx, tpos, { B, T, NKV, HS, TMAX });
  const wantCache = cache0.slice();
  ref.kvCacheWrite(wantCache, x, positions, { B, T, NKV, HS, TMAX });
  results.push(compare('kv_cache_write', label, 'cache', await gpu.read(tcache), wantCache, EXACT));
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
  attentionForward(gpu, tout, tlse, tq, tk, tv, d);
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
    results.push(compare('attention_decode', `${label} t=${t}`, 'out', await gpu.read(tdec), rowOf(fwdOut, t), TOL));
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

interface RingCase {
  B: number;
  NH: number;
  NKV: number;
  HS: number;
  /** full cache length; the ring has `window` slots */
  TMAX: number;
  window: number;
  lengths: number[];
  kvFormat: KvFormat;
}

const RING_CASES: RingCase[] = [
  { B: 3, NH: 4, NKV: 2, HS: 16, TMAX: 40, window: 7, lengths: [3, 40, 15], kvFormat: 'f32' },
  { B: 2, NH: 2, NKV: 1, HS: 8, TMAX: 300, window: 33, lengths: [300, 34], kvFormat: 'bf16' },
  { B: 2, NH: 4, NKV: 4, HS: 64, TMAX: 20, window: 1, lengths: [20, 1], kvFormat: 'f16' },
  { B: 1, NH: 3, NKV: 1, HS: 16, TMAX: 600, window: 260, lengths: [517], kvFormat: 'bf16' },
];

/** A ring of `window` slots holding each row's last positions (slot j % window) against the full-length
 * cache with the same window: both variants, bit for bit, and against the reference. */
async function ringCase(gpu: GpuRuntime, c: RingCase, rng: Rng): Promise<CaseResult> {
  const { B, NH, NKV, HS, TMAX, window: W, kvFormat: format } = c;
  const C = NKV * HS;
  const label = `${format} ring of ${W} B=${B} NH=${NH} NKV=${NKV} HS=${HS} TMAX=${TMAX} lengths=${c.lengths.join(',')}`;
  const q = randn(B * NH * HS, rng, 1.5);
  const k = randn(B * TMAX * C, rng);
  const v = randn(B * TMAX * C, rng);
  // the ring: random where nothing was written, each row's last W positions in their slots
  const kr = randn(B * W * C, rng);
  const vr = randn(B * W * C, rng);
  for (let b = 0; b < B; b++) {
    for (let j = Math.max(0, c.lengths[b] - W); j < c.lengths[b]; j++) {
      const from = (b * TMAX + j) * C;
      const to = (b * W + (j % W)) * C;
      kr.set(k.subarray(from, from + C), to);
      vr.set(v.subarray(from, from + C), to);
    }
  }
  const lengths = Uint32Array.from(c.lengths);
  const tq = gpu.upload(q, [B, NH, HS], 'q');
  const tk = uploadCache(gpu, k, B, TMAX, C, format, 'kCache');
  const tv = uploadCache(gpu, v, B, TMAX, C, format, 'vCache');
  const tkr = uploadCache(gpu, kr, B, W, C, format, 'kCache ring');
  const tvr = uploadCache(gpu, vr, B, W, C, format, 'vCache ring');
  const tlen = gpu.upload(lengths, [B], 'lengths', 'u32');
  const tout = gpu.tensor([B, NH, HS], 'out');
  const full: DecodeDims = { B, NH, NKV, HS, TMAX, window: W, kvFormat: format };
  const ring: DecodeDims = { ...full, TMAX: W, ring: true };
  const want = new Float32Array(B * NH * HS);
  const stored = (x: Float32Array) => (format === 'f32' ? x : pack16(x, format));
  ref.attentionDecode(want, q, stored(kr), stored(vr), lengths, ring);
  const results: CaseResult[] = [];
  for (const variant of ['three_pass', 'single_pass'] as const) {
    gpuK.attentionDecode(gpu, tout, tq, tk, tv, tlen, full, variant);
    const gotFull = await gpu.read(tout);
    gpuK.attentionDecode(gpu, tout, tq, tkr, tvr, tlen, ring, variant);
    const gotRing = await gpu.read(tout);
    results.push(
      compare('attention_decode ring', `${label} ${variant}`, 'out', gotRing, want, TOL),
      compare('attention_decode ring', `${label} ${variant} equals the full-length cache`, 'out', gotRing, gotFull, EXACT),
    );
  }
  gpu.release(tq, tk, tv, tkr, tvr, tlen, tout);
  return merge(results);
}

/** Flash-decoding (forced: 'auto' picks it on hardware adapters only): several splits, a zero length, a
 * split holding nothing but the window's start, 16-bit caches, a ring; against the reference. */
const SPLIT_CASES: DecodeCase[] = [
  { B: 4, NH: 4, NKV: 2, HS: 16, TMAX: 300, lengths: [1, 70, 300, 0] },
  { B: 1, NH: 3, NKV: 1, HS: 16, TMAX: 600, lengths: [517] },
  { B: 2, NH: 6, NKV: 2, HS: 64, TMAX: 270, lengths: [257, 66], kvFormat: 'bf16' },
  { B: 2, NH: 2, NKV: 2, HS: 8, TMAX: 530, lengths: [530, 5], window: 261, scale: 0.3, kvFormat: 'f16' },
  { B: 1, NH: 4, NKV: 1, HS: 256, TMAX: 40, lengths: [40] },
];

async function splitCase(gpu: GpuRuntime, c: DecodeCase, rng: Rng): Promise<CaseResult> {
  const { B, NH, NKV, HS, TMAX } = c;
  const format = c.kvFormat ?? 'f32';
  const C = NKV * HS;
  const label = `split ${format}${c.ring ? ' ring' : ''} B=${B} NH=${NH} NKV=${NKV} HS=${HS} TMAX=${TMAX} lengths=${c.lengths.join(',')}${c.window ? ` window=${c.window}` : ''}`;
  const q = randn(B * NH * HS, rng, 1.5);
  const k = randn(B * TMAX * C, rng);
  const v = randn(B * TMAX * C, rng);
  const lengths = Uint32Array.from(c.lengths);
  const tq = gpu.upload(q, [B, NH, HS], 'q');
  const tk = uploadCache(gpu, k, B, TMAX, C, format, 'kCache');
  const tv = uploadCache(gpu, v, B, TMAX, C, format, 'vCache');
  const tlen = gpu.upload(lengths, [B], 'lengths', 'u32');
  const tout = gpu.tensor([B, NH, HS], 'out');
  const want = new Float32Array(B * NH * HS);
  ref.attentionDecode(want, q, format === 'f32' ? k : pack16(k, format), format === 'f32' ? v : pack16(v, format), lengths, c);
  gpuK.attentionDecode(gpu, tout, tq, tk, tv, tlen, c, 'split');
  const split = await gpu.read(tout);
  gpuK.attentionDecode(gpu, tout, tq, tk, tv, tlen, c, 'three_pass');
  const three = await gpu.read(tout);
  const result = merge([
    compare('attention_decode_split', label, 'out', split, want, TOL),
    compare('attention_decode_split', `${label} against three_pass`, 'out', split, three, { atol: 1e-5, rtol: 1e-5 }),
  ]);
  gpu.release(tq, tk, tv, tlen, tout);
  return result;
}

export const checks: KernelCheck[] = [
  {
    kernel: 'attention_decode',
    async run(gpu) {
      const rng = new Rng(8);
      const results: CaseResult[] = [];
      for (const c of F32_CASES) results.push(await decodeCase(gpu, c, rng));
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
  {
    kernel: 'kv_cache_write_packed16',
    async run(gpu) {
      const rng = new Rng(31);
      const results: CaseResult[] = [];
      for (const c of WRITE_CASES) results.push(await writeCase(gpu, c, rng));
      return results;
    },
  },
  {
    kernel: 'attention_decode_packed16',
    async run(gpu) {
      const rng = new Rng(32);
      const results: CaseResult[] = [];
      for (const c of PACKED_CASES) results.push(await decodeCase(gpu, c, rng));
      return results;
    },
  },
  {
    kernel: 'attention_decode_split',
    async run(gpu) {
      const rng = new Rng(34);
      const results: CaseResult[] = [];
      for (const c of SPLIT_CASES) results.push(await splitCase(gpu, c, rng));
      // a ring of 300 slots (two splits) holding the last 300 of 700 positions
      results.push(await splitCase(gpu, { B: 1, NH: 2, NKV: 1, HS: 8, TMAX: 300, lengths: [700], window: 300, ring: true, kvFormat: 'bf16' }, rng));
      return results;
    },
  },
  {
    kernel: 'attention_decode_ring',
    async run(gpu) {
      const rng = new Rng(33);
      const results: CaseResult[] = [];
      for (const c of RING_CASES) results.push(await ringCase(gpu, c, rng));
      return results;
    },
  },
];
