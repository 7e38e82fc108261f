// Host wrappers for the frozen quantised-weight kernels (ggml block formats from GGUF files):
// matmul_quant_forward.wgsl (y = x W^T), matmul_quant_backward.wgsl (dx = dy W: the base is frozen, so no dW)
// and embedding_quant_forward.wgsl. A quantised weight is a u32 tensor of shape (R, K / QK * WPB): each row's
// blocks, each ggml block padded to WPB whole words (src/ops/ggml_types.ts repackBlocks).
// These two are the reference variant 'plain'; matmulQuantForward / matmulQuantBackward run the variant
// chooseQuantPath picks (matmul_quant_variants.ts: register blocks, split-K for decoding, subgroups).
import forwardCode from '../../../shaders/matmul_quant_forward.wgsl?raw';
import backwardCode from '../../../shaders/matmul_quant_backward.wgsl?raw';
import embeddingCode from '../../../shaders/embedding_quant_forward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, shapeString, type Tensor } from '../tensor';
import { blockWords, ggmlType, isQuantKernelType, quantGpuWords, type GgmlTypeName } from '../../ops/ggml_types';
import { chooseQuantPath, quantPaths, runQuantVariant, type QuantDirection, type QuantPath } from './matmul_quant_variants';

export const MATMUL_QUANT_FORWARD = defineKernel({
  name: 'matmul_quant_forward',
  source: forwardCode,
  params: { M: 'u32', K: 'u32', N: 'u32', tiles_m: 'u32', alpha: 'f32', accumulate: 'u32', has_bias: 'u32' },
  buffers: { x: 'read', w: 'read', bias: 'read', out: 'read_write' },
});
export const MATMUL_QUANT_BACKWARD = defineKernel({
  name: 'matmul_quant_backward',
  source: backwardCode,
  params: { M: 'u32', K: 'u32', N: 'u32', tiles_m: 'u32', alpha: 'f32', accumulate: 'u32' },
  buffers: { dy: 'read', w: 'read', dx: 'read_write' },
});
export const EMBEDDING_QUANT_FORWARD = defineKernel({
  name: 'embedding_quant_forward',
  source: embeddingCode,
  params: { n_tokens: 'u32', C: 'u32', V: 'u32' },
  buffers: { ids: 'read', w: 'read', out: 'read_write' },
});

/** (R, K) of a quantised weight tensor of type `type`, checking its word count. */
export function quantDims(w: Tensor, type: GgmlTypeName): [number, number] {
  if (!isQuantKernelType(type)) throw new Error(`${w.label}: ${type} is not a block type the quantised kernels read`);
  const t = ggmlType(type);
  const wpb = blockWords(t);
  if (w.dtype !== 'u32' || w.shape.length !== 2 || w.shape[1] % wpb !== 0) {
    throw new Error(`${w.label}: expected a ${type} weight, (rows, blocks * ${wpb}) u32, got ${w.dtype} ${shapeString(w)}`);
  }
  return [w.shape[0], (w.shape[1] / wpb) * t.blockSize];
}

/** A (R, K) weight's words (quantGpuWords: its blocks, then NF4_DQ's side region) uploaded as the kernels read
 * it: shape (R, blocks per row * WPB), size every word (NF4_DQ: more than the shape's product, so that the
 * binding, size words, covers the side region after the rows). */
export function uploadQuantWeight(gpu: GpuRuntime, words: Uint32Array, type: GgmlTypeName, R: number, K: number, label: string): Tensor {
  const t = ggmlType(type);
  const total = quantGpuWords(t, R, K);
  if (words.length !== total) throw new Error(`${label}: ${words.length} words for a ${type} (${R}, ${K}) weight, expected ${total}`);
  const flat = gpu.upload(words, [total], label, 'u32');
  return { ...flat, shape: [R, (K / t.blockSize) * blockWords(t)] };
}

function rows(t: Tensor, cols: number, what: string): number {
  if (t.dtype !== 'f32' || t.shape[t.shape.length - 1] !== cols) {
    throw new Error(`${what} ${t.label}: expected f32 (..., ${cols}), got ${t.dtype} ${shapeString(t)}`);
  }
  return t.size / cols;
}

function dispatch(cols: number, M: number): { tilesM: number; workgroups: [number, number, number] } {
  const tilesM = Math.ceil(M / 8);
  const [gy, gz] = grid(tilesM);
  return { tilesM, workgroups: [Math.ceil(cols / 64), gy, gz] };
}

/** The forced variant if it can run here, else the chosen one. */
function pathFor(gpu: GpuRuntime, dir: QuantDirection, type: GgmlTypeName, M: number, K: number, N: number, forced?: QuantPath): QuantPath {
  if (forced === undefined) return chooseQuantPath(gpu, { dir, type, M, K, N });
  if (!quantPaths(gpu).includes(forced)) {
    throw new Error(`matmul_quant_${dir}: the ${forced} variant cannot run here (can: ${quantPaths(gpu).join(', ')})`);
  }
  return forced;
}

/** out (M, N) = alpha * x (M, K) W^T (+ bias) (+ out when accumulate); W (N, K) in block type `type`.
 * opts.path forces a variant (checks and benchmarks); default: chooseQuantPath's pick. */
export function matmulQuantForward(
  gpu: GpuRuntime, out: Tensor, x: Tensor, w: Tensor, type: GgmlTypeName,
  opts: { bias?: Tensor | null; accumulate?: boolean; alpha?: number; path?: QuantPath } = {},
): void {
  const [N, K] = quantDims(w, type);
  const M = rows(x, K, 'matmul_quant_forward: x');
  if (rows(out, N, 'matmul_quant_forward: out') !== M) {
    throw new Error(`matmul_quant_forward: out ${out.label} ${shapeString(out)} needs ${M} rows of ${N} (x ${x.label} ${shapeString(x)})`);
  }
  if (opts.bias) expectShape(opts.bias, [N], `matmul_quant_forward: bias ${opts.bias.label}`);
  if (M === 0 || N === 0) return;
  const path = pathFor(gpu, 'forward', type, M, K, N, opts.path);
  if (path !== 'plain') {
    runQuantVariant(gpu, path, { dir: 'forward', type, M, K, N }, { a: x, w, out, bias: opts.bias ?? null }, opts.alpha ?? 1, !!opts.accumulate);
    return;
  }
  const { tilesM, workgroups } = dispatch(N, M);
  gpu.run(
    MATMUL_QUANT_FORWARD,
    { x, w, bias: opts.bias ?? x, out },
    { M, K, N, tiles_m: tilesM, alpha: opts.alpha ?? 1, accumulate: opts.accumulate ? 1 : 0, has_bias: opts.bias ? 1 : 0 },
    workgroups,
    { QTYPE: ggmlType(type).id },
  );
}

/** dx (M, K) = alpha * dy (M, N) W (+ dx when accumulate); W (N, K) in block type `type` (frozen: no dW). */
export function matmulQuantBackward(
  gpu: GpuRuntime, dx: Tensor, dy: Tensor, w: Tensor, type: GgmlTypeName, opts: { accumulate?: boolean; alpha?: number; path?: QuantPath } = {},
): void {
  const [N, K] = quantDims(w, type);
  const M = rows(dy, N, 'matmul_quant_backward: dy');
  if (rows(dx, K, 'matmul_quant_backward: dx') !== M) {
    throw new Error(`matmul_quant_backward: dx ${dx.label} ${shapeString(dx)} needs ${M} rows of ${K} (dy ${dy.label} ${shapeString(dy)})`);
  }
  if (M === 0 || K === 0) return;
  const path = pathFor(gpu, 'backward', type, M, K, N, opts.path);
  if (path !== 'plain') {
    runQuantVariant(gpu, path, { dir: 'backward', type, M, K, N }, { a: dy, w, out: dx, bias: null }, opts.alpha ?? 1, !!opts.accumulate);
    return;
  }
  const { tilesM, workgroups } = dispatch(K, M);
  gpu.run(
    MATMUL_QUANT_BACKWARD,
    { dy, w, dx },
    { M, K, N, tiles_m: tilesM, alpha: opts.alpha ?? 1, accumulate: opts.accumulate ? 1 : 0 },
    workgroups,
    { QTYPE: ggmlType(type).id },
  );
}

/** out (N, C) = rows ids (N) of the quantised table (V, C), times scale (Gemma: sqrt(C)); ids >= V give zeros. */
export function embeddingQuantForward(gpu: GpuRuntime, out: Tensor, ids: Tensor, table: Tensor, type: GgmlTypeName, scale = 1): void {
  const [V, C] = quantDims(table, type);
  const n = ids.size;
  if (ids.dtype !== 'u32') throw new Error(`embedding_quant_forward: ids ${ids.label} must be u32`);
  expectShape(out, [n, C], 'embedding_quant_forward: out');
  if (n === 0) return;
  const [gx, gy] = grid(Math.ceil((n * C) / 256));
  gpu.run(EMBEDDING_QUANT_FORWARD, { ids, w: table, out }, { n_tokens: n, C, V }, [gx, gy, 1], { QTYPE: ggmlType(type).id, SCALE: scale });
}
