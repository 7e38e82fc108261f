// Host wrappers for causal grouped-query self-attention: training forward/backward (flash-attention
// style, attention_forward.wgsl, attention_backward_dq.wgsl + attention_backward_dkv.wgsl; the tiled
// variants for hardware adapters are in attention_tiled.ts) and decoding
// from a KV cache (attention_decode.wgsl, kv_cache_write.wgsl).
import forwardCode from '../../../shaders/attention_forward.wgsl?raw';
import backwardDqCode from '../../../shaders/attention_backward_dq.wgsl?raw';
import backwardDkvCode from '../../../shaders/attention_backward_dkv.wgsl?raw';
import decodeCode from '../../../shaders/attention_decode.wgsl?raw';
import kvCacheWriteCode from '../../../shaders/kv_cache_write.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { atEntryPoint, defineKernel } from '../kernel';
import { expectSize, type Tensor } from '../tensor';
import type { AttentionDims, DecodeDims, KvCacheDims } from '../../ops/attention';
import { chooseAttentionPath, runTiledBackward, runTiledForward, type AttentionPath } from './attention_tiled';

export type { AttentionDims, DecodeDims, KvCacheDims } from '../../ops/attention';

const ATTENTION_PARAMS = { T: 'u32', NH: 'u32', NKV: 'u32', G: 'u32', scale: 'f32' } as const;
export const ATTENTION_FORWARD = defineKernel({
  name: 'attention_forward',
  source: forwardCode,
  params: ATTENTION_PARAMS,
  buffers: { q: 'read', k: 'read', v: 'read', out: 'read_write', lse: 'read_write' },
});
export const ATTENTION_BACKWARD_DQ = defineKernel({
  name: 'attention_backward_dq',
  source: backwardDqCode,
  params: ATTENTION_PARAMS,
  buffers: {
    dout: 'read', q: 'read', k: 'read', v: 'read', out: 'read', lse: 'read', dq: 'read_write', dsum: 'read_write',
  },
});
export const ATTENTION_BACKWARD_DKV = defineKernel({
  name: 'attention_backward_dkv',
  source: backwardDkvCode,
  params: ATTENTION_PARAMS,
  buffers: {
    dout: 'read', q: 'read', k: 'read', v: 'read', lse: 'read', dsum: 'read', dk: 'read_write', dv: 'read_write',
  },
});
export const ATTENTION_DECODE_SCORES = defineKernel({
  name: 'attention_decode',
  source: decodeCode,
  entryPoint: 'scores',
  params: { NH: 'u32', NKV: 'u32', HS4: 'u32', TMAX: 'u32', G: 'u32', scale: 'f32', B: 'u32' },
  buffers: { q: 'read', kCache: 'read', vCache: 'read', lengths: 'read', probs: 'read_write', out: 'read_write' },
});
export const ATTENTION_DECODE_SOFTMAX = atEntryPoint(ATTENTION_DECODE_SCORES, 'softmax');
export const ATTENTION_DECODE_WEIGHTED_SUM = atEntryPoint(ATTENTION_DECODE_SCORES, 'weighted_sum');
export const ATTENTION_DECODE_SINGLE_PASS = atEntryPoint(ATTENTION_DECODE_SCORES, 'single_pass');

/** How attentionDecode runs: 'three_pass' (scores, softmax, weighted sum), 'single_pass' (one dispatch that
 * recomputes the scores in every invocation, about 3 * HS/4 times their work; same results bit for bit), or
 * 'auto': single pass on software adapters for heads of at most SINGLE_PASS_MAX_HS when the caches are small
 * (B * NH * TMAX at most SINGLE_PASS_MAX_WORK), three passes everywhere else. Measured on SwiftShader with
 * stories260K (8 heads of 8), GPU time of the decode attention over a generation: 1 row, TMAX 64:
 * 228 -> 46 ms; 16 rows, TMAX 32: 242 -> 90 ms; but 32 rows, TMAX 80: 320 -> 436 ms (the recomputation
 * outweighs two dispatches), hence the bound on the work. */
export type DecodeVariant = 'auto' | 'three_pass' | 'single_pass';
export const SINGLE_PASS_MAX_HS = 16;
export const SINGLE_PASS_MAX_WORK = 8192;
export const KV_CACHE_WRITE = defineKernel({
  name: 'kv_cache_write',
  source: kvCacheWriteCode,
  params: { n: 'u32', T: 'u32', C: 'u32', TMAX: 'u32' },
  buffers: { x: 'read', positions: 'read', cache: 'read_write' },
});

/** Workgroup memory every WebGPU device has (16 KiB) and the largest workgroup the kernels use. */
const WORKGROUP_BYTES = 16384;
const MAX_INVOCATIONS = 256;

/** Workgroup shapes of the training kernels. They depend only on HS, so one pipeline per head size serves
 * every B and T. Invocation (group, c) owns dims 4c..4c+3 of 4 rows (forward, dq) or 4 keys (dk/dv), so a
 * workgroup has groups * HS4 invocations; the tile along the other axis gives each invocation at least one
 * 4 x 4 block of scores per tile. Small workgroups (about 32 invocations, at most 8 groups) measured
 * fastest on SwiftShader: they skip more of the masked causal half and balance better. */
export interface AttentionTiles {
  HS4: number;
  /** forward and dq: RG groups of 4 query rows per workgroup, BK keys per tile */
  RG: number;
  BK: number;
  /** dk/dv: KG groups of 4 keys per workgroup, BR query rows per tile */
  KG: number;
  BR: number;
}

const tileCache = new Map<number, AttentionTiles>();

export function attentionTiles(HS: number): AttentionTiles {
  const hit = tileCache.get(HS);
  if (hit) return hit;
  const HS4 = HS / 4;
  const groups = Math.min(8, Math.max(1, Math.floor(32 / HS4)));
  // groups * tile / 4 blocks of 4 x 4 per tile: a whole number per invocation, at least 16 keys or rows per tile
  let tile = 4 * HS4 * Math.max(1, Math.ceil(16 / (4 * HS4)));
  // forward: ps (RG * BK vec4) + 3 floats per row; dq: dss + 2 floats per row; dk/dv: pk + dsk (2 * BR * KG vec4)
  const bytes = (t: number) => Math.max(16 * groups * t + 12 * 4 * groups, 2 * 16 * groups * t);
  while (tile > 4 && bytes(tile) > WORKGROUP_BYTES) tile = 4 * Math.ceil(tile / 8);
  const tiles: AttentionTiles = { HS4, RG: groups, BK: tile, KG: groups, BR: tile };
  tileCache.set(HS, tiles);
  return tiles;
}

function checkDims(kernel: string, dims: Record<string, number>, vec4Heads = true): void {
  for (const [name, value] of Object.entries(dims)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${kernel}: ${name} = ${value} must be a positive integer`);
  }
  // the kernels read rows of HS floats as vec4s
  if (vec4Heads && (dims.HS % 4 !== 0 || dims.HS > 4 * MAX_INVOCATIONS)) {
    throw new Error(`${kernel}: head size HS = ${dims.HS} must be a multiple of 4 and at most ${4 * MAX_INVOCATIONS}`);
  }
  if (dims.NH !== undefined && dims.NH % dims.NKV !== 0) {
    throw new Error(`${kernel}: NH = ${dims.NH} must be a multiple of NKV = ${dims.NKV} (grouped-query attention)`);
  }
}

/** WebGPU refuses a dispatch that binds one buffer twice when one of the bindings is writable, so every
 * output must have a buffer of its own (inputs may share one). */
function expectDistinct(kernel: string, outputs: Record<string, Tensor>, inputs: Record<string, Tensor>): void {
  const all = [...Object.entries(outputs), ...Object.entries(inputs)];
  Object.entries(outputs).forEach(([name, o], i) => {
    all.forEach(([other, t], j) => {
      if (i !== j && t.buffer === o.buffer) {
        throw new Error(`${kernel}: ${name} and ${other} share the buffer of ${o.label}; an output needs a buffer of its own`);
      }
    });
  });
}

function expectU32(kernel: string, name: string, t: Tensor): void {
  if (t.dtype !== 'u32') throw new Error(`${kernel}: ${name} (${t.label}) must be a u32 tensor, got ${t.dtype}`);
}

function attentionParams(d: AttentionDims) {
  return { T: d.T, NH: d.NH, NKV: d.NKV, G: d.NH / d.NKV, scale: scoreScale(d) };
}

function scoreScale(d: { HS: number; scale?: number }): number {
  const s = d.scale ?? 1 / Math.sqrt(d.HS);
  if (!(s > 0) || !Number.isFinite(s)) throw new Error(`attention: scale = ${s} must be a positive number`);
  return s;
}

/** WINDOW override of the attention kernels: only when set, so full attention keeps its pipelines. */
function windowOverride(d: { window?: number }): Record<string, number> {
  const w = d.window ?? 0;
  if (!Number.isInteger(w) || w < 0) throw new Error(`attention: window = ${w} must be a non-negative integer (0: none)`);
  return w > 0 ? { WINDOW: w } : {};
}

/** out = softmax(q k^T * scale + causal mask) v; saves lse (B, NH, T) = log-sum-exp of the scaled scores of each query row, for backward.
 *  path: which kernels (attention_tiled.ts; default chooseAttentionPath's pick, checks and benchmarks force one). */
export function attentionForward(
  gpu: GpuRuntime,
  out: Tensor,
  lse: Tensor,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  dims: AttentionDims,
  path: AttentionPath = chooseAttentionPath(gpu, dims),
): void {
  const { B, T, NH, NKV, HS } = dims;
  checkDims('attention_forward', { B, T, NH, NKV, HS });
  expectSize(q, B * T * NH * HS, `attention_forward: q (B, T, NH, HS) ${q.label}`);
  expectSize(k, B * T * NKV * HS, `attention_forward: k (B, T, NKV, HS) ${k.label}`);
  expectSize(v, B * T * NKV * HS, `attention_forward: v (B, T, NKV, HS) ${v.label}`);
  expectSize(out, B * T * NH * HS, `attention_forward: out (B, T, NH, HS) ${out.label}`);
  expectSize(lse, B * NH * T, `attention_forward: lse (B, NH, T) ${lse.label}`);
  expectDistinct('attention_forward', { out, lse }, { q, k, v });
  if (path !== 'direct') return runTiledForward(gpu, path, { q, k, v, out, lse }, attentionParams(dims), dims, windowOverride(dims));
  const { HS4, RG, BK } = attentionTiles(HS);
  gpu.run(
    ATTENTION_FORWARD,
    { q, k, v, out, lse },
    attentionParams(dims),
    [Math.ceil((T * NH) / NKV / (4 * RG)), NKV, B],
    { HS4, RG, BK, ...windowOverride(dims) },
  );
}

/** overwrites dq (B,T,NH,HS), dk and dv (B,T,NKV,HS); dk/dv sum over the NH/NKV query heads of their group deterministically
 *  (no float atomics). Uses the saved lse (flash-attention style: recompute p = exp(s - lse), D = rowsum(dout * out)).
 *  path: as in attentionForward. */
export function attentionBackward(
  gpu: GpuRuntime,
  dq: Tensor,
  dk: Tensor,
  dv: Tensor,
  dout: Tensor,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  out: Tensor,
  lse: Tensor,
  dims: AttentionDims,
  path: AttentionPath = chooseAttentionPath(gpu, dims),
): void {
  const { B, T, NH, NKV, HS } = dims;
  checkDims('attention_backward', { B, T, NH, NKV, HS });
  const nq = B * T * NH * HS;
  const nkv = B * T * NKV * HS;
  expectSize(dq, nq, `attention_backward: dq (B, T, NH, HS) ${dq.label}`);
  expectSize(dk, nkv, `attention_backward: dk (B, T, NKV, HS) ${dk.label}`);
  expectSize(dv, nkv, `attention_backward: dv (B, T, NKV, HS) ${dv.label}`);
  expectSize(dout, nq, `attention_backward: dout (B, T, NH, HS) ${dout.label}`);
  expectSize(q, nq, `attention_backward: q (B, T, NH, HS) ${q.label}`);
  expectSize(k, nkv, `attention_backward: k (B, T, NKV, HS) ${k.label}`);
  expectSize(v, nkv, `attention_backward: v (B, T, NKV, HS) ${v.label}`);
  expectSize(out, nq, `attention_backward: out (B, T, NH, HS) ${out.label}`);
  expectSize(lse, B * NH * T, `attention_backward: lse (B, NH, T) ${lse.label}`);
  expectDistinct('attention_backward', { dq, dk, dv }, { dout, q, k, v, out, lse });
  const params = attentionParams(dims);
  // D = rowsum(dout * out), written by the dq pass and read by the dk/dv pass. Releasing it right after
  // recording is safe: the pool hands it out again only to work recorded (and so run) later.
  const dsum = gpu.tensor([B, NH, T], 'attention_backward D');
  if (path !== 'direct') {
    runTiledBackward(gpu, path, { dq, dk, dv, dout, q, k, v, out, lse, dsum }, params, dims, windowOverride(dims));
    gpu.release(dsum);
    return;
  }
  const { HS4, RG, BK, KG, BR } = attentionTiles(HS);
  gpu.run(
    ATTENTION_BACKWARD_DQ,
    { dout, q, k, v, out, lse, dq, dsum },
    params,
    [Math.ceil((T * NH) / NKV / (4 * RG)), NKV, B],
    { HS4, RG, BK, ...windowOverride(dims) },
  );
  gpu.run(
    ATTENTION_BACKWARD_DKV,
    { dout, q, k, v, lse, dsum, dk, dv },
    params,
    [Math.ceil(T / (4 * KG)), NKV, B],
    { HS4, KG, BR, ...windowOverride(dims) },
  );
  gpu.release(dsum);
}

/** Decoding: q (B, NH, HS) one query per batch row; kCache, vCache (B, TMAX, NKV, HS); row b attends to cache positions
 *  0 .. lengths[b]-1 (lengths: (B) u32 tensor, each >= 1). out (B, NH, HS). Three barrier-free passes: scores
 *  (parallel over the cache length), softmax per (b, h), weighted sum per (b, h, 4 dims); a (B, NH, TMAX)
 *  scratch holds the probabilities. Lengths above TMAX are treated as TMAX; a length of 0 gives zeros. */
export function attentionDecode(
  gpu: GpuRuntime,
  out: Tensor,
  q: Tensor,
  kCache: Tensor,
  vCache: Tensor,
  lengths: Tensor,
  dims: DecodeDims,
  variant: DecodeVariant = 'auto',
): void {
  const { B, NH, NKV, HS, TMAX } = dims;
  checkDims('attention_decode', { B, NH, NKV, HS, TMAX });
  expectSize(q, B * NH * HS, `attention_decode: q (B, NH, HS) ${q.label}`);
  expectSize(kCache, B * TMAX * NKV * HS, `attention_decode: kCache (B, TMAX, NKV, HS) ${kCache.label}`);
  expectSize(vCache, B * TMAX * NKV * HS, `attention_decode: vCache (B, TMAX, NKV, HS) ${vCache.label}`);
  expectSize(lengths, B, `attention_decode: lengths (B) ${lengths.label}`);
  expectU32('attention_decode', 'lengths', lengths);
  expectSize(out, B * NH * HS, `attention_decode: out (B, NH, HS) ${out.label}`);
  const HS4 = HS / 4;
  expectDistinct('attention_decode', { out }, { q, kCache, vCache, lengths });
  const params = { NH, NKV, HS4, TMAX, G: NH / NKV, scale: scoreScale(dims), B };
  const overrides = windowOverride(dims);
  const single = variant === 'single_pass' ||
    (variant === 'auto' && gpu.adapter.isSoftware && HS <= SINGLE_PASS_MAX_HS && B * NH * TMAX <= SINGLE_PASS_MAX_WORK);
  if (single) {
    const unused = gpu.tensor([1], 'attention_decode probabilities (unused by single_pass)');
    gpu.run(ATTENTION_DECODE_SINGLE_PASS, { q, kCache, vCache, lengths, probs: unused, out }, params, [Math.ceil((B * NH * HS4) / 64)], overrides);
    gpu.release(unused);
    return;
  }
  const probs = gpu.tensor([B, NH, TMAX], 'attention_decode probabilities');
  const buffers = { q, kCache, vCache, lengths, probs, out };
  // the scores pass does not read WINDOW (it scores every cached position)
  gpu.run(ATTENTION_DECODE_SCORES, buffers, params, [Math.ceil(TMAX / 256), NH, B]);
  gpu.run(ATTENTION_DECODE_SOFTMAX, buffers, params, [Math.ceil(NH / 64), B], overrides);
  gpu.run(ATTENTION_DECODE_WEIGHTED_SUM, buffers, params, [Math.ceil((NH * HS4) / 64), B], overrides);
  gpu.release(probs);
}

/** Writes x's rows into the cache: x (B, T, NKV*HS); row (b, t) goes to cache[b, positions[b*T + t]] (positions: (B*T) u32).
 *  Used both after prefill (T = prompt length, positions 0..T-1) and per decode step (T = 1, positions = current lengths).
 *  Positions at or past TMAX are skipped. */
export function kvCacheWrite(
  gpu: GpuRuntime,
  cache: Tensor,
  x: Tensor,
  positions: Tensor,
  dims: KvCacheDims,
): void {
  const { B, T, NKV, HS, TMAX } = dims;
  checkDims('kv_cache_write', { B, T, NKV, HS, TMAX }, false);
  const C = NKV * HS;
  const n = B * T * C;
  expectSize(x, n, `kv_cache_write: x (B, T, NKV*HS) ${x.label}`);
  expectSize(positions, B * T, `kv_cache_write: positions (B*T) ${positions.label}`);
  expectU32('kv_cache_write', 'positions', positions);
  expectSize(cache, B * TMAX * C, `kv_cache_write: cache (B, TMAX, NKV, HS) ${cache.label}`);
  expectDistinct('kv_cache_write', { cache }, { x, positions });
  gpu.run(KV_CACHE_WRITE, { x, positions, cache }, { n, T, C, TMAX }, grid(Math.ceil(n / 256)));
}
