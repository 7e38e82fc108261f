// Host wrappers for causal grouped-query self-attention: training forward/backward (flash-attention
// style, attention_forward.wgsl, attention_backward_dq.wgsl + attention_backward_dkv.wgsl; the tiled
// variants for hardware adapters are in attention_tiled.ts). Decoding from a KV cache (attention_decode*.wgsl,
// kv_cache_write*.wgsl) is in attention_decode.ts, re-exported here.
import forwardCode from '../../../shaders/attention_forward.wgsl?raw';
import backwardDqCode from '../../../shaders/attention_backward_dq.wgsl?raw';
import backwardDkvCode from '../../../shaders/attention_backward_dkv.wgsl?raw';
import backwardFusedCode from '../../../shaders/attention_backward_fused.wgsl?raw';
import type { GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectSize, type Tensor } from '../tensor';
import type { AttentionDims } from '../../ops/attention';
import { MAX_INVOCATIONS, checkDims, expectDistinct, scoreScale, windowOverride } from './attention_common';
import { chooseAttentionPath, runTiledBackward, runTiledForward, type AttentionPath } from './attention_tiled';

export type { AttentionDims, DecodeDims, KvCacheDims, KvFormat } from '../../ops/attention';
// decoding lives in attention_decode.ts; re-exported so that callers keep one import
export * from './attention_decode';

const ATTENTION_PARAMS = { T: 'u32', NH: 'u32', NKV: 'u32', G: 'u32', scale: 'f32' } as const;
export const ATTENTION_FORWARD = defineKernel({
  name: 'attention_forward',
  source: forwardCode,
  params: ATTENTION_PARAMS,
  buffers: { q: 'read', k: 'read', v: 'read', out: 'read_write', lse: 'read_write', seg: 'read' },
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
export const ATTENTION_BACKWARD_FUSED = defineKernel({
  name: 'attention_backward_fused',
  source: backwardFusedCode,
  params: ATTENTION_PARAMS,
  buffers: {
    dout: 'read', q: 'read', k: 'read', v: 'read', out: 'read', lse: 'read', dq: 'read_write', dk: 'read_write', dv: 'read_write',
  },
});
/** Workgroup memory every WebGPU device has (16 KiB) and the largest workgroup the kernels use. */
const WORKGROUP_BYTES = 16384;

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

/** The shared-prefix mask of a packed batch (src/model/prefix_pack.ts): (B*T*2) f32 holding integers, (prefix_end,
 * seg_start) per query position; query t sees key j <= t only when j < prefix_end or j >= seg_start ((0, 0): plain
 * causal). Only the direct kernels honour it: a masked call runs them on every adapter and refuses a forced tiled
 * path. The forward binds it; the backward passes, at WebGPU's default 8 storage buffers already, read it from a
 * copy of lse with the mask appended (a (B*NH*T + 2*B*T) scratch while they run). */
export type AttentionSegments = Tensor;

/** The direct kernels' seg binding and SEGMENTED override: the mask when given, else q (never read) and no
 * override, so that unmasked calls keep their pipelines and results bit for bit. */
function segmentArgs(kernel: string, segments: AttentionSegments | null, q: Tensor, d: AttentionDims): { seg: Tensor; over: Record<string, number> } {
  if (!segments) return { seg: q, over: {} };
  if (segments.dtype !== 'f32') throw new Error(`${kernel}: segments (${segments.label}) must be an f32 tensor of integers, got ${segments.dtype}`);
  expectSize(segments, 2 * d.B * d.T, `${kernel}: segments (B, T, 2) ${segments.label}`);
  return { seg: segments, over: { SEGMENTED: 1 } };
}

/** The path a call runs: a masked call runs the direct kernels (the tiled ones do not read the mask). */
function pathWithSegments(kernel: string, path: AttentionPath, segments: AttentionSegments | null): AttentionPath {
  if (!segments || path === 'direct') return path;
  throw new Error(`${kernel}: the ${path} kernels do not support a shared-prefix mask (segments); use the direct path`);
}

/** The direct forward's two forms: 'online' (tiles of BK keys with an online softmax) or 'single_tile' (every
 * key of a row in one tile: the ONE_TILE override of attention_forward.wgsl, one barrier instead of three per
 * tile; short sequences only). */
export type AttentionForwardForm = 'single_tile' | 'online';

/** Sequences up to this length take the single-tile forward (measured on SwiftShader, CPU time: ~0.72x the
 * online form at T = 16, 0.85-1.0x at T = 32, 1.3-1.6x at T = 128 (HS 64), where each invocation's redundant
 * exp() outweighs the barriers it saves). */
export const SINGLE_TILE_FORWARD_MAX_T = 16;

/** BK of the single-tile forward (T rounded up to 4), or null where its score tile does not fit. */
export function singleTileKeys(d: AttentionDims): number | null {
  const { RG } = attentionTiles(d.HS);
  const BK = 4 * Math.ceil(d.T / 4);
  return 16 * RG * BK + 12 * 4 * RG <= WORKGROUP_BYTES ? BK : null;
}

/** The form the direct forward takes when none is forced. */
export function chooseForwardForm(d: AttentionDims): AttentionForwardForm {
  return d.T <= SINGLE_TILE_FORWARD_MAX_T && singleTileKeys(d) !== null ? 'single_tile' : 'online';
}

/** The direct backward's two forms: 'two_pass' (dq and D, then dk/dv) or 'fused' (attention_backward_fused.wgsl:
 * one workgroup per (batch, kv head) holds the head's whole causal score block; short sequences only). */
export type AttentionBackwardForm = 'fused' | 'two_pass';

/** Sequences up to this length take the fused backward where it fits (measured on SwiftShader, CPU time: at
 * the built-in model's T = 16 the fused pass takes about half the two passes' time; at T = 32 (G = 1, HS 32)
 * the two are even, 0.92-1.05x; docs/performance.md). */
export const FUSED_BACKWARD_MAX_T = 16;

/** The fused backward's overrides for these dims, or null where it does not fit: NRG = ceil(T G / 4) row
 * groups of HS / 4 invocations each (at most MAX_INVOCATIONS in all), and the score block in the 16 KiB of
 * workgroup memory every device has (three (4 NRG) x (4 NKG) arrays of f32 and two rows of row stats). */
export function fusedBackwardTiles(d: AttentionDims): { HS4: number; NRG: number; NKG: number } | null {
  const HS4 = d.HS / 4;
  const NRG = Math.ceil((d.T * d.NH) / d.NKV / 4);
  const NKG = Math.ceil(d.T / 4);
  if (NRG * HS4 > MAX_INVOCATIONS) return null;
  if (3 * 16 * 4 * NRG * NKG + 2 * 4 * 4 * NRG > WORKGROUP_BYTES) return null;
  return { HS4, NRG, NKG };
}

/** The fused backward binds 9 storage buffers (WebGPU's default limit is 8; the runtime asks for the adapter's). */
export const FUSED_BACKWARD_STORAGE_BUFFERS = 9;

/** The form the direct backward takes when none is forced: fused for short sequences where it fits and the
 * device allows its 9 storage buffers. */
export function chooseBackwardForm(gpu: GpuRuntime, d: AttentionDims): AttentionBackwardForm {
  const buffersOk = gpu.device.limits.maxStorageBuffersPerShaderStage >= FUSED_BACKWARD_STORAGE_BUFFERS;
  return buffersOk && d.T <= FUSED_BACKWARD_MAX_T && fusedBackwardTiles(d) ? 'fused' : 'two_pass';
}

function attentionParams(d: AttentionDims) {
  return { T: d.T, NH: d.NH, NKV: d.NKV, G: d.NH / d.NKV, scale: scoreScale(d) };
}

/** out = softmax(q k^T * scale + causal mask) v; saves lse (B, NH, T) = log-sum-exp of the scaled scores of each query row, for backward.
 *  path: which kernels (attention_tiled.ts; default chooseAttentionPath's pick, checks and benchmarks force one);
 *  form: the direct path's form (default chooseForwardForm's pick). */
export function attentionForward(
  gpu: GpuRuntime,
  out: Tensor,
  lse: Tensor,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  dims: AttentionDims,
  path: AttentionPath | null = null,
  segments: AttentionSegments | null = null,
  form: AttentionForwardForm | null = null,
): void {
  const { B, T, NH, NKV, HS } = dims;
  checkDims('attention_forward', { B, T, NH, NKV, HS });
  path = pathWithSegments('attention_forward', path ?? (segments ? 'direct' : chooseAttentionPath(gpu, dims)), segments);
  expectSize(q, B * T * NH * HS, `attention_forward: q (B, T, NH, HS) ${q.label}`);
  expectSize(k, B * T * NKV * HS, `attention_forward: k (B, T, NKV, HS) ${k.label}`);
  expectSize(v, B * T * NKV * HS, `attention_forward: v (B, T, NKV, HS) ${v.label}`);
  expectSize(out, B * T * NH * HS, `attention_forward: out (B, T, NH, HS) ${out.label}`);
  expectSize(lse, B * NH * T, `attention_forward: lse (B, NH, T) ${lse.label}`);
  expectDistinct('attention_forward', { out, lse }, { q, k, v });
  if (path !== 'direct') return runTiledForward(gpu, path, { q, k, v, out, lse }, attentionParams(dims), dims, windowOverride(dims));
  const { seg, over } = segmentArgs('attention_forward', segments, q, dims);
  const { HS4, RG, BK } = attentionTiles(HS);
  // the single-tile form does not read the shared-prefix mask: a masked call takes the online form
  form = form ?? (segments ? 'online' : chooseForwardForm(dims));
  if (segments && form !== 'online') throw new Error('attention_forward: the single-tile form does not support a shared-prefix mask (segments)');
  const oneTile = form === 'single_tile' ? singleTileKeys(dims) : null;
  if (form === 'single_tile' && oneTile === null) throw new Error(`attention_forward: the single-tile form does not fit T = ${T}, HS = ${HS}`);
  gpu.run(
    ATTENTION_FORWARD,
    { q, k, v, out, lse, seg },
    attentionParams(dims),
    [Math.ceil((T * NH) / NKV / (4 * RG)), NKV, B],
    oneTile !== null ? { HS4, RG, BK: oneTile, ONE_TILE: 1, ...windowOverride(dims) } : { HS4, RG, BK, ...windowOverride(dims), ...over },
  );
}

/** overwrites dq (B,T,NH,HS), dk and dv (B,T,NKV,HS); dk/dv sum over the NH/NKV query heads of their group deterministically
 *  (no float atomics). Uses the saved lse (flash-attention style: recompute p = exp(s - lse), D = rowsum(dout * out)).
 *  path: as in attentionForward; form: the direct path's form (default chooseBackwardForm's pick). */
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
  path: AttentionPath | null = null,
  segments: AttentionSegments | null = null,
  form: AttentionBackwardForm | null = null,
): void {
  const { B, T, NH, NKV, HS } = dims;
  checkDims('attention_backward', { B, T, NH, NKV, HS });
  path = pathWithSegments('attention_backward', path ?? (segments ? 'direct' : chooseAttentionPath(gpu, dims)), segments);
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
  // the fused form does not read the shared-prefix mask: a masked call takes the two passes
  form = form ?? (path === 'direct' && !segments ? chooseBackwardForm(gpu, dims) : 'two_pass');
  if (segments && form !== 'two_pass') throw new Error('attention_backward: the fused form does not support a shared-prefix mask (segments)');
  if (path === 'direct' && form === 'fused') {
    const tiles = fusedBackwardTiles(dims);
    if (!tiles) throw new Error(`attention_backward: the fused form does not fit T = ${T}, G = ${NH / NKV}, HS = ${HS}`);
    if (gpu.device.limits.maxStorageBuffersPerShaderStage < FUSED_BACKWARD_STORAGE_BUFFERS) {
      throw new Error(`attention_backward: the fused form binds ${FUSED_BACKWARD_STORAGE_BUFFERS} storage buffers; this device allows ${gpu.device.limits.maxStorageBuffersPerShaderStage}`);
    }
    gpu.run(ATTENTION_BACKWARD_FUSED, { dout, q, k, v, out, lse, dq, dk, dv }, params, [1, NKV, B], { ...tiles, ...windowOverride(dims) });
    return;
  }
  // D = rowsum(dout * out), written by the dq pass and read by the dk/dv pass. Releasing it right after
  // recording is safe: the pool hands it out again only to work recorded (and so run) later.
  const dsum = gpu.tensor([B, NH, T], 'attention_backward D');
  if (path !== 'direct') {
    runTiledBackward(gpu, path, { dq, dk, dv, dout, q, k, v, out, lse, dsum }, params, dims, windowOverride(dims));
    gpu.release(dsum);
    return;
  }
  const { over } = segmentArgs('attention_backward', segments, q, dims);
  // with a mask: lse followed by the mask, which the backward passes read at offset B * NH * T
  let lseIn = lse;
  if (segments) {
    lseIn = gpu.tensor([B * NH * T + 2 * B * T], 'attention_backward lse + segments');
    gpu.copy(lse, lseIn, B * NH * T, 0, 0);
    gpu.copy(segments, lseIn, 2 * B * T, 0, B * NH * T);
  }
  const { HS4, RG, BK, KG, BR } = attentionTiles(HS);
  gpu.run(
    ATTENTION_BACKWARD_DQ,
    { dout, q, k, v, out, lse: lseIn, dq, dsum },
    params,
    [Math.ceil((T * NH) / NKV / (4 * RG)), NKV, B],
    { HS4, RG, BK, ...windowOverride(dims), ...over },
  );
  gpu.run(
    ATTENTION_BACKWARD_DKV,
    { dout, q, k, v, lse: lseIn, dsum, dk, dv },
    params,
    [Math.ceil(T / (4 * KG)), NKV, B],
    { HS4, KG, BR, ...windowOverride(dims), ...over },
  );
  gpu.release(dsum);
  if (lseIn !== lse) gpu.release(lseIn);
}
