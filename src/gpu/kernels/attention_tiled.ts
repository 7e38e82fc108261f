// GPU-class variants of the training attention kernels (attention.ts): the same forward and backward with
// K/V tiles (forward, dq) and Q/dout tiles (dk/dv) in workgroup memory, for long sequences on hardware
// adapters (attention_tiled_forward.wgsl, attention_tiled_backward_dq.wgsl, attention_tiled_backward_dkv.wgsl).
// attentionForward / attentionBackward in attention.ts check the tensors and then ask chooseAttentionPath
// which kernels run; the dispatches of the tiled ones are here.
//
// Which one runs (a fixed rule, not autotuned: the autotuner in src/gpu/autotune.ts times matmul shape
// classes only): software adapters always run the 'direct' kernels (attention_forward.wgsl and the two
// backward passes, which read K/V straight from storage with register blocking), so results there stay bit
// for bit what they were; hardware adapters run 'tiled' when T >= TILED_MIN_T and the tiles fit the
// device's workgroup limits, 'direct' otherwise. Checks and benchmarks force a variant: 'tiled' (tiles sized
// for this device's workgroup memory) or 'tiled_16k' (tiles sized for the 16 KiB every WebGPU device has:
// more dim slices, fewer keys per tile).
import forwardCode from '../../../shaders/attention_tiled_forward.wgsl?raw';
import backwardDqCode from '../../../shaders/attention_tiled_backward_dq.wgsl?raw';
import backwardDkvCode from '../../../shaders/attention_tiled_backward_dkv.wgsl?raw';
import type { GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import type { Tensor } from '../tensor';
import type { VariantReportRow } from '../autotune';
import type { AttentionDims } from '../../ops/attention';

const PARAMS = { T: 'u32', NH: 'u32', NKV: 'u32', G: 'u32', scale: 'f32' } as const;
export const ATTENTION_TILED_FORWARD = defineKernel({
  name: 'attention_tiled_forward',
  source: forwardCode,
  params: PARAMS,
  buffers: { q: 'read', k: 'read', v: 'read', out: 'read_write', lse: 'read_write' },
});
export const ATTENTION_TILED_BACKWARD_DQ = defineKernel({
  name: 'attention_tiled_backward_dq',
  source: backwardDqCode,
  params: PARAMS,
  buffers: {
    dout: 'read', q: 'read', k: 'read', v: 'read', out: 'read', lse: 'read', dq: 'read_write', dsum: 'read_write',
  },
});
export const ATTENTION_TILED_BACKWARD_DKV = defineKernel({
  name: 'attention_tiled_backward_dkv',
  source: backwardDkvCode,
  params: PARAMS,
  buffers: {
    dout: 'read', q: 'read', k: 'read', v: 'read', lse: 'read', dsum: 'read', dk: 'read_write', dv: 'read_write',
  },
});

/** 'direct': attention_forward.wgsl and attention_backward_dq/_dkv.wgsl; 'tiled': the kernels of this file
 * with tiles for this device's workgroup memory; 'tiled_16k': the same kernels with tiles for 16 KiB. */
export type AttentionPath = 'direct' | 'tiled' | 'tiled_16k';
export const ATTENTION_PATHS: readonly AttentionPath[] = ['direct', 'tiled', 'tiled_16k'];
/** Hardware adapters run the tiled kernels from this sequence length on (below it a block of rows meets
 * few tiles and the direct kernels' smaller workgroups balance better). */
export const TILED_MIN_T = 256;
/** Invocations per workgroup the tile choice aims at (at most): 2-4 warps / waves. */
const TARGET_INVOCATIONS = 128;
/** Keys (rows for dk/dv) per tile the tile choice prefers to have at least. */
const MIN_TILE = 16;
const MIN_WORKGROUP_BYTES = 16384;

/** One kernel's workgroup shape: `groups` groups of 4 rows (forward, dq) or keys (dk/dv) per workgroup,
 * `tile` keys (rows) per tile, S slices of the head's HS4 vec4 dims in the score blocks (S * tile = 4 * HS4
 * gives every invocation one partial block; fewer slices when the partials would not fit). */
export interface TiledShape {
  groups: number;
  tile: number;
  S: number;
}
export interface TiledAttentionTiles {
  HS4: number;
  forward: TiledShape;
  dq: TiledShape;
  dkv: TiledShape;
}

type Kind = 'forward' | 'dq' | 'dkv';

/** Workgroup memory of one kernel in bytes (as its header says). */
export function tiledBytes(kind: Kind, HS4: number, s: TiledShape): number {
  const partials = 16 * s.S * s.groups * s.tile;
  if (kind === 'forward') return 16 * s.tile * HS4 + partials + 48 * s.groups;
  if (kind === 'dq') return 2 * 16 * s.tile * HS4 + 2 * partials + 32 * s.groups;
  return 2 * 16 * s.tile * HS4 + 2 * partials;
}

/** The largest workgroups (up to TARGET_INVOCATIONS) whose tiles fit `bytes`, preferring at least
 * MIN_TILE keys per tile, then the longest tile, then the most dim slices up to one partial block per
 * invocation. null when even one group with 4-key tiles and no slices does not fit. */
function chooseShape(kind: Kind, HS4: number, bytes: number, maxInvocations: number): TiledShape | null {
  if (HS4 > maxInvocations) return null;
  const divisors = Array.from({ length: HS4 }, (_, i) => i + 1).filter((d) => HS4 % d === 0);
  const tiles = divisors.map((d) => (4 * HS4) / d); // longest first
  let best: TiledShape | null = null;
  for (let groups = Math.min(8, Math.max(1, Math.floor(Math.min(TARGET_INVOCATIONS, maxInvocations) / HS4))); groups >= 1; groups = Math.floor(groups / 2)) {
    for (const tile of tiles) {
      const slices = divisors.filter((d) => d * tile <= 4 * HS4).reverse(); // most first
      const S = slices.find((d) => tiledBytes(kind, HS4, { groups, tile, S: d }) <= bytes);
      if (S === undefined) continue;
      const shape = { groups, tile, S };
      if (tile >= Math.min(MIN_TILE, 4 * HS4)) return shape;
      if (!best || tile > best.tile) best = shape;
      break;
    }
  }
  return best;
}

const tileCache = new Map<string, TiledAttentionTiles | null>();

/** The tiles of the three kernels for head size HS within `bytes` of workgroup memory and
 * `maxInvocations` per workgroup; null when they do not fit. */
export function tiledAttentionTiles(HS: number, bytes: number, maxInvocations: number): TiledAttentionTiles | null {
  // heads the kernels cannot read as vec4s: attention.ts's checks name the problem
  if (!Number.isInteger(HS) || HS < 4 || HS % 4 !== 0) return null;
  const key = `${HS} ${bytes} ${maxInvocations}`;
  if (tileCache.has(key)) return tileCache.get(key)!;
  const HS4 = HS / 4;
  const forward = chooseShape('forward', HS4, bytes, maxInvocations);
  const dq = chooseShape('dq', HS4, bytes, maxInvocations);
  const dkv = chooseShape('dkv', HS4, bytes, maxInvocations);
  const tiles = forward && dq && dkv ? { HS4, forward, dq, dkv } : null;
  tileCache.set(key, tiles);
  return tiles;
}

/** The tiles a tiled path uses on this device for head size HS (null: it cannot run here). */
export function tilesFor(gpu: GpuRuntime, path: 'tiled' | 'tiled_16k', HS: number): TiledAttentionTiles | null {
  const lim = gpu.device.limits;
  const invocations = Math.min(lim.maxComputeInvocationsPerWorkgroup, lim.maxComputeWorkgroupSizeX);
  const bytes = path === 'tiled' ? lim.maxComputeWorkgroupStorageSize : Math.min(MIN_WORKGROUP_BYTES, lim.maxComputeWorkgroupStorageSize);
  return tiledAttentionTiles(HS, bytes, invocations);
}

/** Why a path cannot run head size HS on this device (null: it can). */
export function attentionPathUnavailable(gpu: GpuRuntime, path: AttentionPath, HS: number): string | null {
  if (path === 'direct' || tilesFor(gpu, path, HS)) return null;
  return `head size ${HS} does not fit this device's workgroup limits (${gpu.device.limits.maxComputeWorkgroupStorageSize} bytes, ${gpu.device.limits.maxComputeInvocationsPerWorkgroup} invocations)`;
}

/** The shape class the GPU panel and benchmark report a choice under. */
function attentionClass(d: AttentionDims): string {
  return `attention T${d.T >= TILED_MIN_T ? `>=${TILED_MIN_T}` : `<${TILED_MIN_T}`} HS${d.HS}${d.window ? ' window' : ''}`;
}

const choices = new WeakMap<GpuRuntime, Map<string, VariantReportRow>>();

/** Which kernels attentionForward / attentionBackward run for these dims (see the top of this file). */
export function chooseAttentionPath(gpu: GpuRuntime, d: AttentionDims): AttentionPath {
  const path: AttentionPath = !gpu.adapter.isSoftware && d.T >= TILED_MIN_T && tilesFor(gpu, 'tiled', d.HS) ? 'tiled' : 'direct';
  let mine = choices.get(gpu);
  if (!mine) choices.set(gpu, (mine = new Map()));
  const cls = attentionClass(d);
  if (!mine.has(cls)) {
    mine.set(cls, {
      op: 'attention', shapeClass: cls, variant: path, source: gpu.adapter.isSoftware ? 'software' : 'default', gflops: null,
      shape: `B=${d.B} T=${d.T} NH=${d.NH} NKV=${d.NKV} HS=${d.HS}${d.window ? ` window=${d.window}` : ''}`,
    });
  }
  return path;
}

/** The attention choices this runtime has made (one row per shape class), for the GPU panel and the benchmark. */
export function attentionVariantRows(gpu: GpuRuntime): VariantReportRow[] {
  return [...(choices.get(gpu)?.values() ?? [])];
}

function tilesOrThrow(gpu: GpuRuntime, path: 'tiled' | 'tiled_16k', HS: number): TiledAttentionTiles {
  const tiles = tilesFor(gpu, path, HS);
  if (!tiles) throw new Error(`attention [${path}]: ${attentionPathUnavailable(gpu, path, HS)}`);
  return tiles;
}

type Params = { T: number; NH: number; NKV: number; G: number; scale: number };

/** The tiled forward on tensors attentionForward has checked: out, lse from q, k, v. */
export function runTiledForward(
  gpu: GpuRuntime,
  path: 'tiled' | 'tiled_16k',
  buffers: { q: Tensor; k: Tensor; v: Tensor; out: Tensor; lse: Tensor },
  params: Params,
  dims: AttentionDims,
  window: Record<string, number>,
): void {
  const { HS4, forward } = tilesOrThrow(gpu, path, dims.HS);
  const rows = 4 * forward.groups;
  gpu.run(ATTENTION_TILED_FORWARD, buffers, params, [Math.ceil((dims.T * params.G) / rows), dims.NKV, dims.B], {
    HS4, RG: forward.groups, BK: forward.tile, S: forward.S, ...window,
  });
}

/** The tiled backward on tensors attentionBackward has checked: dq, dk, dv (overwritten), with the D
 * scratch dsum (B, NH, T) written by the dq pass and read by the dk/dv pass. */
export function runTiledBackward(
  gpu: GpuRuntime,
  path: 'tiled' | 'tiled_16k',
  t: { dq: Tensor; dk: Tensor; dv: Tensor; dout: Tensor; q: Tensor; k: Tensor; v: Tensor; out: Tensor; lse: Tensor; dsum: Tensor },
  params: Params,
  dims: AttentionDims,
  window: Record<string, number>,
): void {
  const { HS4, dq, dkv } = tilesOrThrow(gpu, path, dims.HS);
  gpu.run(
    ATTENTION_TILED_BACKWARD_DQ,
    { dout: t.dout, q: t.q, k: t.k, v: t.v, out: t.out, lse: t.lse, dq: t.dq, dsum: t.dsum },
    params,
    [Math.ceil((dims.T * params.G) / (4 * dq.groups)), dims.NKV, dims.B],
    { HS4, RG: dq.groups, BK: dq.tile, S: dq.S, ...window },
  );
  gpu.run(
    ATTENTION_TILED_BACKWARD_DKV,
    { dout: t.dout, q: t.q, k: t.k, v: t.v, lse: t.lse, dsum: t.dsum, dk: t.dk, dv: t.dv },
    params,
    [Math.ceil(dims.T / (4 * dkv.groups)), dims.NKV, dims.B],
    { HS4, KG: dkv.groups, BR: dkv.tile, S: dkv.S, ...window },
  );
}
