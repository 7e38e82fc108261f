// Host wrappers for the frozen 16-bit weight kernels: matmul_packed16_forward.wgsl (y = x W^T),
// matmul_packed16_backward.wgsl (dx = dy W: the base is frozen, so no dW) and embedding_packed16_forward.wgsl.
// A packed weight is a u32 tensor of shape (R, K / 2) holding an (R, K) matrix in bf16 or f16 pairs.
// Software adapters always run these two ('block8'); hardware adapters run the variant choosePacked16Path
// picks (matmul_packed16_variants.ts: workgroup tiles, split-K for decoding, shader-f16 tiles).
import forwardCode from '../../../shaders/matmul_packed16_forward.wgsl?raw';
import backwardCode from '../../../shaders/matmul_packed16_backward.wgsl?raw';
import embeddingCode from '../../../shaders/embedding_packed16_forward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, shapeString, type Tensor } from '../tensor';
import type { Format16 } from '../../ops/float16';
import { choosePacked16Path, packed16Paths, runPacked16Variant, type Packed16Path } from './matmul_packed16_variants';

export type { Format16 };

export const MATMUL_PACKED16_FORWARD = defineKernel({
  name: 'matmul_packed16_forward',
  source: forwardCode,
  params: { M: 'u32', K: 'u32', N: 'u32', tiles_m: 'u32', wg_x: 'u32', alpha: 'f32', accumulate: 'u32', has_bias: 'u32' },
  buffers: { x: 'read', w: 'read', bias: 'read', out: 'read_write' },
});
export const MATMUL_PACKED16_BACKWARD = defineKernel({
  name: 'matmul_packed16_backward',
  source: backwardCode,
  params: { M: 'u32', K: 'u32', N: 'u32', tiles_m: 'u32', wg_x: 'u32', alpha: 'f32', accumulate: 'u32' },
  buffers: { dy: 'read', w: 'read', dx: 'read_write' },
});
export const EMBEDDING_PACKED16_FORWARD = defineKernel({
  name: 'embedding_packed16_forward',
  source: embeddingCode,
  params: { n_tokens: 'u32', C: 'u32', V: 'u32' },
  buffers: { ids: 'read', table: 'read', out: 'read_write' },
});

const FORMAT = { bf16: 0, f16: 1 } as const;

/** (R, K) of a packed (R, K / 2) u32 weight. */
function packedDims(w: Tensor): [number, number] {
  if (w.dtype !== 'u32' || w.shape.length !== 2) {
    throw new Error(`${w.label}: expected a packed 16-bit weight, (rows, K / 2) u32, got ${w.dtype} ${shapeString(w)}`);
  }
  return [w.shape[0], w.shape[1] * 2];
}

function rows(t: Tensor, cols: number, what: string): number {
  if (t.dtype !== 'f32' || t.shape[t.shape.length - 1] !== cols) {
    throw new Error(`${what} ${t.label}: expected f32 (..., ${cols}), got ${t.dtype} ${shapeString(t)}`);
  }
  return t.size / cols;
}

/** Workgroup layout shared by both matmuls: wg_x in {16, 8, 4} across the output's columns. */
function layout(M: number, cols: number): { wgX: number; tilesM: number; workgroups: [number, number, number] } {
  const colTiles = Math.ceil(cols / 8);
  const wgX = [16, 8, 4].reduce((best, w) => (Math.ceil(colTiles / w) * w < Math.ceil(colTiles / best) * best ? w : best));
  const tilesM = Math.ceil(Math.ceil(M / 8) / (64 / wgX));
  const [gy, gz] = grid(tilesM);
  return { wgX, tilesM, workgroups: [Math.ceil(colTiles / wgX), gy, gz] };
}

export interface Packed16Options {
  bias?: Tensor | null;
  accumulate?: boolean;
  alpha?: number;
  /** force a variant (checks and benchmarks); default: choosePacked16Path's pick */
  path?: Packed16Path;
}

/** The forced variant if it can run here, else the chosen one. */
function pathFor(gpu: GpuRuntime, dir: 'forward' | 'backward', format: Format16, M: number, K: number, N: number, forced?: Packed16Path): Packed16Path {
  if (forced === undefined) return choosePacked16Path(gpu, { dir, format, M, K, N });
  if (!packed16Paths(gpu, format).includes(forced)) {
    throw new Error(`matmul_packed16_${dir}: the ${forced} variant cannot run ${format} weights here (can: ${packed16Paths(gpu, format).join(', ')})`);
  }
  return forced;
}

/** out (M, N) = alpha * x (M, K) W^T (+ bias) (+ out when accumulate); W (N, K) packed in `format`. */
export function matmulPacked16Forward(gpu: GpuRuntime, out: Tensor, x: Tensor, w: Tensor, format: Format16, opts: Packed16Options = {}): void {
  const [N, K] = packedDims(w);
  const M = rows(x, K, 'matmul_packed16_forward: x');
  if (rows(out, N, 'matmul_packed16_forward: out') !== M) {
    throw new Error(`matmul_packed16_forward: out ${out.label} ${shapeString(out)} needs ${M} rows of ${N} (x ${x.label} ${shapeString(x)})`);
  }
  if (opts.bias) expectShape(opts.bias, [N], `matmul_packed16_forward: bias ${opts.bias.label}`);
  if (M === 0 || N === 0) return;
  const path = pathFor(gpu, 'forward', format, M, K, N, opts.path);
  if (path !== 'block8') {
    runPacked16Variant(gpu, path, { dir: 'forward', format, M, K, N }, { a: x, w, out, bias: opts.bias ?? null }, opts.alpha ?? 1, !!opts.accumulate);
    return;
  }
  const { wgX, tilesM, workgroups } = layout(M, N);
  gpu.run(
    MATMUL_PACKED16_FORWARD,
    { x, w, bias: opts.bias ?? x, out },
    { M, K, N, tiles_m: tilesM, wg_x: wgX, alpha: opts.alpha ?? 1, accumulate: opts.accumulate ? 1 : 0, has_bias: opts.bias ? 1 : 0 },
    workgroups,
    { FORMAT: FORMAT[format] },
  );
}

/** dx (M, K) = alpha * dy (M, N) W (+ dx when accumulate); W (N, K) packed in `format` (frozen: no dW). */
export function matmulPacked16Backward(gpu: GpuRuntime, dx: Tensor, dy: Tensor, w: Tensor, format: Format16, opts: { accumulate?: boolean; alpha?: number; path?: Packed16Path } = {}): void {
  const [N, K] = packedDims(w);
  const M = rows(dy, N, 'matmul_packed16_backward: dy');
  if (rows(dx, K, 'matmul_packed16_backward: dx') !== M) {
    throw new Error(`matmul_packed16_backward: dx ${dx.label} ${shapeString(dx)} needs ${M} rows of ${K} (dy ${dy.label} ${shapeString(dy)})`);
  }
  if (M === 0 || K === 0) return;
  const path = pathFor(gpu, 'backward', format, M, K, N, opts.path);
  if (path !== 'block8') {
    runPacked16Variant(gpu, path, { dir: 'backward', format, M, K, N }, { a: dy, w, out: dx, bias: null }, opts.alpha ?? 1, !!opts.accumulate);
    return;
  }
  const { wgX, tilesM, workgroups } = layout(M, K);
  gpu.run(
    MATMUL_PACKED16_BACKWARD,
    { dy, w, dx },
    { M, K, N, tiles_m: tilesM, wg_x: wgX, alpha: opts.alpha ?? 1, accumulate: opts.accumulate ? 1 : 0 },
    workgroups,
    { FORMAT: FORMAT[format] },
  );
}

/** out = table[ids] * scale: out (N, C), ids (N) u32, table (V, C) packed as (V, C / 2) u32. Ids >= V give zero rows. */
export function embeddingPacked16Forward(gpu: GpuRuntime, out: Tensor, ids: Tensor, table: Tensor, format: Format16, scale = 1): void {
  if (!Number.isFinite(scale)) throw new Error(`embedding_packed16_forward: scale = ${scale} must be finite`);
  const [V, C] = packedDims(table);
  if (ids.dtype !== 'u32') throw new Error(`${ids.label}: expected u32 token ids, got ${ids.dtype}`);
  const N = ids.size;
  expectShape(out, [...ids.shape, C]);
  gpu.run(
    EMBEDDING_PACKED16_FORWARD,
    { ids, table, out },
    { n_tokens: N, C, V },
    grid(Math.ceil((N * C) / 256)),
    scale === 1 ? { FORMAT: FORMAT[format] } : { FORMAT: FORMAT[format], SCALE: scale },
  );
}
