// The GPU-class variants of the frozen 16-bit weight matmuls (y = x W^T and dx = dy W, W packed as bf16 or
// f16 pairs), for hardware adapters; software adapters keep matmul_packed16_forward/_backward.wgsl ('block8',
// host in matmul_packed16.ts) exactly as before.
//   matmul_packed16_tiled_forward/_backward.wgsl      workgroup-memory tiles (PACKED16_TILES), weight widened to f32
//   matmul_packed16_smallm_forward/_backward.wgsl     few rows (decoding): the inner dim split across a workgroup
//   matmul_packed16_tiled_f16_forward/_backward.wgsl  f16 weights kept in f16 in workgroup memory (shader-f16)
// Which one runs: choosePacked16Path (the autotuned choice for this adapter and shape class, else a fixed
// table; see src/gpu/autotune.ts). Every variant sums in f32; only the summation order differs.
import tiledForwardCode from '../../../shaders/matmul_packed16_tiled_forward.wgsl?raw';
import tiledBackwardCode from '../../../shaders/matmul_packed16_tiled_backward.wgsl?raw';
import tiledF16ForwardCode from '../../../shaders/matmul_packed16_tiled_f16_forward.wgsl?raw';
import tiledF16BackwardCode from '../../../shaders/matmul_packed16_tiled_f16_backward.wgsl?raw';
import smallmForwardCode from '../../../shaders/matmul_packed16_smallm_forward.wgsl?raw';
import smallmBackwardCode from '../../../shaders/matmul_packed16_smallm_backward.wgsl?raw';
import type { Format16 } from '../../ops/float16';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import type { Tensor } from '../tensor';
import { bucket, MATMUL_TILES } from './matmul';

const FORWARD_PARAMS = { M: 'u32', K: 'u32', N: 'u32', tiles_m: 'u32', alpha: 'f32', accumulate: 'u32', has_bias: 'u32' } as const;
const FORWARD_BUFFERS = { x: 'read', w: 'read', bias: 'read', out: 'read_write' } as const;
const BACKWARD_PARAMS = { M: 'u32', K: 'u32', N: 'u32', tiles_m: 'u32', alpha: 'f32', accumulate: 'u32' } as const;
const BACKWARD_BUFFERS = { dy: 'read', w: 'read', dx: 'read_write' } as const;

export const MATMUL_PACKED16_TILED_FORWARD = defineKernel({ name: 'matmul_packed16_tiled_forward', source: tiledForwardCode, params: FORWARD_PARAMS, buffers: FORWARD_BUFFERS });
export const MATMUL_PACKED16_TILED_BACKWARD = defineKernel({ name: 'matmul_packed16_tiled_backward', source: tiledBackwardCode, params: BACKWARD_PARAMS, buffers: BACKWARD_BUFFERS });
export const MATMUL_PACKED16_TILED_F16_FORWARD = defineKernel({ name: 'matmul_packed16_tiled_f16_forward', source: tiledF16ForwardCode, params: FORWARD_PARAMS, buffers: FORWARD_BUFFERS });
export const MATMUL_PACKED16_TILED_F16_BACKWARD = defineKernel({ name: 'matmul_packed16_tiled_f16_backward', source: tiledF16BackwardCode, params: BACKWARD_PARAMS, buffers: BACKWARD_BUFFERS });
export const MATMUL_PACKED16_SMALLM_FORWARD = defineKernel({ name: 'matmul_packed16_smallm_forward', source: smallmForwardCode, params: FORWARD_PARAMS, buffers: FORWARD_BUFFERS });
export const MATMUL_PACKED16_SMALLM_BACKWARD = defineKernel({ name: 'matmul_packed16_smallm_backward', source: smallmBackwardCode, params: BACKWARD_PARAMS, buffers: BACKWARD_BUFFERS });

/** Tile shapes of the tiled packed kernels (override constants of shaders/lib/matmul_packed16_tile.wgsl),
 * a subset of matmul_tiled's (MATMUL_TILES): (WG_Y * TM) x (WG_X * 4) outputs per workgroup, TK (even) steps. */
export const PACKED16_TILES = {
  tiled_32x32_k16: MATMUL_TILES.tiled_32x32_k16,
  tiled_64x64_k16: MATMUL_TILES.tiled_64x64_k16,
  tiled_64x64_k32: MATMUL_TILES.tiled_64x64_k32,
  tiled_128x64_k16: MATMUL_TILES.tiled_128x64_k16,
} as const;
/** The shader-f16 tiles (IEEE-half weights only): the weight tile takes half the workgroup memory. */
export const PACKED16_F16_TILES = {
  f16_tiled_64x64_k16: MATMUL_TILES.tiled_64x64_k16,
  f16_tiled_64x64_k32: MATMUL_TILES.tiled_64x64_k32,
  f16_tiled_128x64_k16: MATMUL_TILES.tiled_128x64_k16,
} as const;
type TileConfig = { WG_X: number; WG_Y: number; TM: number; TK: number };

/** 'block8': matmul_packed16_forward/_backward.wgsl (what software adapters run); the rest are GPU-class. */
export type Packed16Path = 'block8' | keyof typeof PACKED16_TILES | 'smallm' | keyof typeof PACKED16_F16_TILES;
export const ALL_PACKED16_PATHS: readonly Packed16Path[] = [
  'block8',
  ...(Object.keys(PACKED16_TILES) as (keyof typeof PACKED16_TILES)[]),
  'smallm',
  ...(Object.keys(PACKED16_F16_TILES) as (keyof typeof PACKED16_F16_TILES)[]),
];
export type Packed16Direction = 'forward' | 'backward';

const isF16Tile = (p: Packed16Path): p is keyof typeof PACKED16_F16_TILES => p in PACKED16_F16_TILES;
const tileOf = (p: Packed16Path): TileConfig | null =>
  p in PACKED16_TILES ? PACKED16_TILES[p as keyof typeof PACKED16_TILES] : isF16Tile(p) ? PACKED16_F16_TILES[p] : null;

function fits(gpu: GpuRuntime, t: TileConfig, weightBytes: number): boolean {
  const lim = gpu.device.limits;
  const bytes = 4 * t.TK * t.WG_Y * t.TM + weightBytes * t.TK * t.WG_X * 4;
  return bytes <= lim.maxComputeWorkgroupStorageSize && t.WG_X * t.WG_Y <= lim.maxComputeInvocationsPerWorkgroup &&
    t.WG_X <= lim.maxComputeWorkgroupSizeX && t.WG_Y <= lim.maxComputeWorkgroupSizeY;
}

/** Why a variant cannot run packed weights of `format` on this device (null: it can). */
export function packed16PathUnavailable(gpu: GpuRuntime, path: Packed16Path, format: Format16): string | null {
  if (isF16Tile(path)) {
    if (!gpu.device.features.has('shader-f16' as GPUFeatureName)) return "needs the 'shader-f16' feature, which this adapter lacks";
    if (format !== 'f16') return 'keeps IEEE-half weights only (bfloat16 does not fit f16)';
    return fits(gpu, PACKED16_F16_TILES[path], 2) ? null : "does not fit this adapter's workgroup limits";
  }
  const t = tileOf(path);
  return t && !fits(gpu, t, 4) ? "does not fit this adapter's workgroup limits" : null;
}

const pathCache = new WeakMap<GPUDevice, Record<Format16, readonly Packed16Path[]>>();
/** The variants that can run packed weights of `format` here: 'block8' first, then the GPU-class ones. */
export function packed16Paths(gpu: GpuRuntime, format: Format16): readonly Packed16Path[] {
  let c = pathCache.get(gpu.device);
  if (!c) {
    const of = (f: Format16) => ALL_PACKED16_PATHS.filter((p) => packed16PathUnavailable(gpu, p, f) === null);
    c = { bf16: of('bf16'), f16: of('f16') };
    pathCache.set(gpu.device, c);
  }
  return c[format];
}

/** One packed matmul: out (M, cols) from a (M, inner) and the packed weight; forward: inner K, cols N;
 * backward: inner N, cols K. */
export interface Packed16Problem {
  dir: Packed16Direction;
  format: Format16;
  M: number;
  K: number;
  N: number;
}

/** The autotuner's shape class: direction, format, M (exact up to 8), K, N rounded up to powers of 2. */
export function packed16ShapeClass(p: Packed16Problem): string {
  return `matmul_packed16 ${p.dir} ${p.format} M${bucket(p.M)} K${bucket(p.K)} N${bucket(p.N)}`;
}

/** The kernel a packed matmul runs: 'block8' on software adapters (as always); elsewhere the autotuned choice
 * for this adapter and shape class, else the fixed table (recording the class for the autotuner). */
export function choosePacked16Path(gpu: GpuRuntime, prob: Packed16Problem): Packed16Path {
  if (gpu.adapter.isSoftware) return 'block8';
  const paths = packed16Paths(gpu, prob.format);
  const cls = packed16ShapeClass(prob);
  const tuned = gpu.variantChoices.get(cls) as Packed16Path | undefined;
  if (tuned && paths.includes(tuned)) return tuned;
  if (!gpu.variantChoices.has(cls) && !gpu.variantPending.has(cls)) gpu.variantPending.set(cls, { op: 'matmul_packed16', prob });
  return defaultPacked16Path(prob, paths);
}

/** The fixed table: split inner dim for decode-sized M, big tiles for big outputs, 64x64 otherwise. */
export function defaultPacked16Path(prob: Packed16Problem, paths: readonly Packed16Path[]): Packed16Path {
  const cols = prob.dir === 'forward' ? prob.N : prob.K;
  const want: Packed16Path[] = [];
  if (prob.M <= 8) want.push('smallm');
  else if (prob.M >= 256 && cols >= 256) want.push('tiled_128x64_k16');
  else if (prob.M < 64 || cols < 64) want.push('tiled_32x32_k16');
  want.push('tiled_64x64_k16', 'block8');
  return want.find((p) => paths.includes(p)) ?? paths[0];
}

const FORMAT = { bf16: 0, f16: 1 } as const;

/** A variant's grid and override constants for a problem: tiles_m row tiles, (column tiles, y, z)
 * workgroups; the tile shape, and FORMAT except for the f16 kernels (IEEE half by construction). */
export function packed16Dispatch(path: Exclude<Packed16Path, 'block8'>, prob: Packed16Problem): {
  tiles_m: number;
  workgroups: readonly [number, number, number];
  overrides: Record<string, number>;
} {
  const cols = prob.dir === 'forward' ? prob.N : prob.K;
  const tile = tileOf(path);
  const rowsPer = tile ? tile.WG_Y * tile.TM : 4;
  const colsPer = tile ? tile.WG_X * 4 : 8;
  const tiles_m = Math.ceil(prob.M / rowsPer);
  const [gy, gz] = grid(tiles_m);
  const format = { FORMAT: FORMAT[prob.format] };
  const overrides = isF16Tile(path) ? { ...tile! } : tile ? { ...tile, ...format } : format;
  return { tiles_m, workgroups: [Math.ceil(cols / colsPer), gy, gz], overrides };
}

/** The kernel a GPU-class variant (not 'block8') runs in a direction (its tile shape: packed16Dispatch). */
export function packed16VariantKernel(path: Exclude<Packed16Path, 'block8'>, dir: Packed16Direction) {
  return dir === 'forward'
    ? (path === 'smallm' ? MATMUL_PACKED16_SMALLM_FORWARD : isF16Tile(path) ? MATMUL_PACKED16_TILED_F16_FORWARD : MATMUL_PACKED16_TILED_FORWARD)
    : (path === 'smallm' ? MATMUL_PACKED16_SMALLM_BACKWARD : isF16Tile(path) ? MATMUL_PACKED16_TILED_F16_BACKWARD : MATMUL_PACKED16_TILED_BACKWARD);
}

/** Runs a GPU-class variant (not 'block8'); the caller has checked the shapes. a is x (forward) or dy
 * (backward); out is out or dx; bias only forward. */
export function runPacked16Variant(
  gpu: GpuRuntime,
  path: Exclude<Packed16Path, 'block8'>,
  prob: Packed16Problem,
  t: { a: Tensor; w: Tensor; out: Tensor; bias: Tensor | null },
  alpha: number,
  accumulate: boolean,
): void {
  const { dir, format, M, K, N } = prob;
  const why = packed16PathUnavailable(gpu, path, format);
  if (why) throw new Error(`matmul_packed16_${dir}: the ${path} variant cannot run here: it ${why}`);
  const common = { M, K, N, alpha, accumulate: accumulate ? 1 : 0 };
  const { tiles_m, workgroups, overrides: over } = packed16Dispatch(path, prob);
  const kernel = packed16VariantKernel(path, dir);
  if (dir === 'forward') {
    gpu.run(kernel as typeof MATMUL_PACKED16_TILED_FORWARD, { x: t.a, w: t.w, bias: t.bias ?? t.a, out: t.out }, { ...common, tiles_m, has_bias: t.bias ? 1 : 0 }, workgroups, over);
  } else {
    gpu.run(kernel as typeof MATMUL_PACKED16_TILED_BACKWARD, { dy: t.a, w: t.w, dx: t.out }, { ...common, tiles_m }, workgroups, over);
  }
}
