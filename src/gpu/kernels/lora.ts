// Host wrappers for the LoRA kernels: lora_fused_forward.wgsl (two chained products in one dispatch: the forward's
// h and y, the backward's dh and dx; software adapters, R <= 64), lora_forward.wgsl (projection through a low-rank
// factor: those products elsewhere, and dh alone when there is no dx), lora_backward.wgsl (weight gradients) and
// lora_forward_reduce.wgsl (adds the partial sums of products split over their long reduction, in order).
// PEFT semantics: A (R, IN), B (OUT, R); y += scale * (x A^T) B^T. Activations may have any leading
// dimensions: N is the product of all but the last.
import fusedCode from '../../../shaders/lora_fused_forward.wgsl?raw';
import projectCode from '../../../shaders/lora_forward.wgsl?raw';
import reduceCode from '../../../shaders/lora_forward_reduce.wgsl?raw';
import weightGradCode from '../../../shaders/lora_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, shapeString, type Tensor } from '../tensor';

export const LORA_FORWARD = defineKernel({
  name: 'lora_forward',
  source: projectCode,
  params: {
    n: 'u32', d: 'u32', k: 'u32', kChunk: 'u32', sWk: 'u32', sWd: 'u32', blocksD: 'u32', blocks: 'u32', chunks: 'u32',
    accumulate: 'u32', alpha: 'f32',
  },
  buffers: { inp: 'read', w: 'read', part: 'read_write' },
});
export const LORA_FUSED_FORWARD = defineKernel({
  name: 'lora_fused_forward',
  source: fusedCode,
  params: {
    n: 'u32', k: 'u32', r: 'u32', d: 'u32', kChunk: 'u32', chunks: 'u32', sW1k: 'u32', sW1d: 'u32', sW2k: 'u32', sW2d: 'u32',
    alpha1: 'f32', alpha2: 'f32',
  },
  buffers: { inp: 'read', w1: 'read', w2: 'read', mid: 'read_write', out: 'read_write' },
});
export const LORA_FORWARD_REDUCE = defineKernel({
  name: 'lora_forward_reduce',
  source: reduceCode,
  params: { count: 'u32', chunks: 'u32', accumulate: 'u32', alpha: 'f32' },
  buffers: { part: 'read', out: 'read_write' },
});
export const LORA_BACKWARD = defineKernel({
  name: 'lora_backward',
  source: weightGradCode,
  params: {
    n: 'u32', m: 'u32', c: 'u32', rowsPerChunk: 'u32', blocksC: 'u32', blocks: 'u32', chunks: 'u32', accumulate: 'u32',
    alpha: 'f32',
  },
  buffers: { g: 'read', v: 'read', part: 'read_write' },
});

/** A long reduction (K of a projection, N of a weight gradient) is split into chunks of at least this many
 * terms when the output alone gives fewer than LORA_TARGET_INVOCATIONS 4 x 4 blocks. */
export const LORA_MIN_CHUNK = 64;
export const LORA_TARGET_INVOCATIONS = 4096;

/** h = x A^T (N, R) is saved for backward; y += scale * h B^T (accumulates onto the base layer's output). On
 * software adapters with R <= 64, one dispatch (loraForwardFused); else the two products (loraForwardUnfused): the
 * same bits on software adapters. Hardware adapters keep the two products, whose dispatches have 4 x 4 blocks of
 * both products' outputs to spread over the GPU where the fused one has one invocation per 4 rows (N / 4 in a
 * decode step), until a device measures the fused one. */
export function loraForward(gpu: GpuRuntime, y: Tensor, h: Tensor, x: Tensor, A: Tensor, B: Tensor, scale: number): void {
  if (fusesLora(gpu, A)) loraForwardFused(gpu, y, h, x, A, B, scale);
  else loraForwardUnfused(gpu, y, h, x, A, B, scale);
}

/** lora_fused_forward.wgsl's largest rank (its 4 rows' middle product is kept in 64 vec4 registers). */
export const LORA_FUSED_MAX_RANK = 64;

/** Whether loraForward and loraBackward chain their two products in one dispatch (lora_fused_forward.wgsl). */
function fusesLora(gpu: GpuRuntime, A: Tensor): boolean {
  return gpu.adapter.isSoftware && A.shape[0] <= LORA_FUSED_MAX_RANK;
}

/** The forward in one dispatch (lora_fused_forward.wgsl): an invocation per 4 rows computes their h in registers,
 * adding IN's chunks as lora_forward would split it (chunking) in order, then their y; on software adapters the
 * bits of loraForwardUnfused (kernel self-test). R <= LORA_FUSED_MAX_RANK. */
export function loraForwardFused(gpu: GpuRuntime, y: Tensor, h: Tensor, x: Tensor, A: Tensor, B: Tensor, scale: number): void {
  const { r, inF, outF } = factorDims(A, B);
  const n = rowsOf(x, inF, 'x');
  expectRows(y, n, outF, 'y');
  expectRows(h, n, r, 'h');
  // h = x A^T: W1(i, r) = A[r, i]; y += scale * h B^T: W2(r, o) = B[o, r]
  chained(gpu, h, y, x, A, B, n, inF, r, outF, [1, inF], [1, r], 1, scale);
}

/** mid (N, R) = alpha1 * inp (N, K) W1; out (N, D) += alpha2 * mid W2 in one dispatch, W1(k, r) = w1[k * sW1[0] +
 * r * sW1[1]], W2(r, d) = w2[r * sW2[0] + d * sW2[1]]; K split into the chunks lora_forward would take. */
function chained(
  gpu: GpuRuntime, mid: Tensor, out: Tensor, inp: Tensor, w1: Tensor, w2: Tensor,
  n: number, k: number, r: number, d: number, sW1: [number, number], sW2: [number, number], alpha1: number, alpha2: number,
): void {
  if (r > LORA_FUSED_MAX_RANK) throw new Error(`lora_fused_forward: rank ${r} > ${LORA_FUSED_MAX_RANK}; use the unfused products`);
  if (n === 0) return;
  const { chunks, chunkLen } = chunking(k, Math.ceil(n / 4) * Math.ceil(r / 4));
  gpu.run(
    LORA_FUSED_FORWARD,
    { inp, w1, w2, mid, out },
    { n, k, r, d, kChunk: chunkLen, chunks, sW1k: sW1[0], sW1d: sW1[1], sW2k: sW2[0], sW2d: sW2[1], alpha1, alpha2 },
    grid(Math.ceil(n / 256)),
  );
}

/** The forward as two products (lora_forward.wgsl, with lora_forward_reduce.wgsl where IN is split into chunks):
 * h = x A^T, then y += scale * h B^T. loraForward's fallback, and the reference its fused kernel is tested
 * against bit for bit. */
export function loraForwardUnfused(gpu: GpuRuntime, y: Tensor, h: Tensor, x: Tensor, A: Tensor, B: Tensor, scale: number): void {
  const { r, inF, outF } = factorDims(A, B);
  const n = rowsOf(x, inF, 'x');
  expectRows(y, n, outF, 'y');
  expectRows(h, n, r, 'h');
  // h = x A^T: W(i, r) = A[r, i]
  project(gpu, h, x, A, n, inF, r, 1, inF, false, 1);
  // y += scale * h B^T: W(r, o) = B[o, r]
  project(gpu, y, h, B, n, r, outF, 1, r, true, scale);
}

/** dB += scale * dy^T h; dh = scale * dy B (scratch, allocate from gpu and release); dA += dh^T x; dx += dh A when dx is not null.
 *  All three accumulate (+=): the caller zeroes them. Reductions over N must be deterministic (no float atomics). */
export function loraBackward(
  gpu: GpuRuntime,
  dA: Tensor,
  dB: Tensor,
  dx: Tensor | null,
  dy: Tensor,
  x: Tensor,
  h: Tensor,
  A: Tensor,
  B: Tensor,
  scale: number,
  /** dh and dx in one dispatch (lora_fused_forward.wgsl); default: where loraForward fuses (software adapters,
   * R <= 64); the same bits either way there (kernel self-test) */
  fuse: boolean = fusesLora(gpu, A),
): void {
  const { r, inF, outF } = factorDims(A, B);
  const n = rowsOf(x, inF, 'x');
  expectShape(dA, A.shape, 'dA');
  expectShape(dB, B.shape, 'dB');
  expectRows(dy, n, outF, 'dy');
  expectRows(h, n, r, 'h');
  if (dx) expectRows(dx, n, inF, 'dx');

  // dB (OUT, R) += scale * dy^T h
  weightGrad(gpu, dB, dy, h, n, outF, r, scale);
  const dh = gpu.tensor([n, r], 'lora dh');
  if (dx && fuse) {
    // dh = scale * dy B and dx += dh A in one dispatch (the same bits as the two products below on software adapters)
    chained(gpu, dh, dx, dy, B, A, n, outF, r, inF, [r, 1], [inF, 1], scale, 1);
  } else {
    // dh (N, R) = scale * dy B: W(o, r) = B[o, r]
    project(gpu, dh, dy, B, n, outF, r, r, 1, false, scale);
    // dx (N, IN) += dh A: W(r, i) = A[r, i]
    if (dx) project(gpu, dx, dh, A, n, r, inF, inF, 1, true, 1);
  }
  // dA (R, IN) += dh^T x
  weightGrad(gpu, dA, dh, x, n, r, inF, 1);
  gpu.release(dh); // later users of this buffer are recorded after the dispatches above
}

/** out (N, D) (+)= alpha * inp (N, K) · W, W(k, d) = w[k * sWk + d * sWd]. */
function project(
  gpu: GpuRuntime,
  out: Tensor,
  inp: Tensor,
  w: Tensor,
  n: number,
  k: number,
  d: number,
  sWk: number,
  sWd: number,
  accumulate: boolean,
  alpha: number,
): void {
  const blocksD = Math.ceil(d / 4);
  const blocks = Math.ceil(n / 4) * blocksD;
  if (blocks === 0) return;
  const { chunks, chunkLen } = chunking(k, blocks);
  const direct = chunks === 1;
  const part = direct ? out : gpu.tensor([chunks, n, d], `${out.label} partial sums`);
  gpu.run(
    LORA_FORWARD,
    { inp, w, part },
    { n, d, k, kChunk: chunkLen, sWk, sWd, blocksD, blocks, chunks, accumulate: direct && accumulate ? 1 : 0, alpha: direct ? alpha : 1 },
    grid(Math.ceil((blocks * chunks) / 64)),
  );
  if (!direct) reduceChunks(gpu, out, part, n * d, chunks, accumulate, alpha);
}

/** grad (M, C) += alpha * g (N, M)^T v (N, C), reduced over N. */
function weightGrad(gpu: GpuRuntime, grad: Tensor, g: Tensor, v: Tensor, n: number, m: number, c: number, alpha: number): void {
  const blocksC = Math.ceil(c / 4);
  const blocks = Math.ceil(m / 4) * blocksC;
  if (blocks === 0 || n === 0) return;
  const { chunks, chunkLen } = chunking(n, blocks);
  const direct = chunks === 1;
  const part = direct ? grad : gpu.tensor([chunks, m, c], `${grad.label} partial sums`);
  gpu.run(
    LORA_BACKWARD,
    { g, v, part },
    { n, m, c, rowsPerChunk: chunkLen, blocksC, blocks, chunks, accumulate: direct ? 1 : 0, alpha: direct ? alpha : 1 },
    grid(Math.ceil((blocks * chunks) / 64)),
  );
  if (!direct) reduceChunks(gpu, grad, part, m * c, chunks, true, alpha);
}

/** out (+)= alpha * sum of the chunks of part, in chunk order; releases part. */
function reduceChunks(gpu: GpuRuntime, out: Tensor, part: Tensor, count: number, chunks: number, accumulate: boolean, alpha: number): void {
  gpu.run(LORA_FORWARD_REDUCE, { part, out }, { count, chunks, accumulate: accumulate ? 1 : 0, alpha }, grid(Math.ceil(count / 256)));
  gpu.release(part); // later users of this buffer are recorded after the dispatches above
}

/** How to split a reduction of `len` terms: enough chunks to reach about LORA_TARGET_INVOCATIONS
 * invocations with the output's `blocks`, none shorter than LORA_MIN_CHUNK. */
export function chunking(len: number, blocks: number): { chunks: number; chunkLen: number } {
  const wanted = Math.min(Math.ceil(len / LORA_MIN_CHUNK), Math.ceil(LORA_TARGET_INVOCATIONS / blocks));
  const chunkLen = Math.ceil(len / Math.max(1, wanted));
  return { chunks: Math.ceil(len / chunkLen), chunkLen };
}

function factorDims(A: Tensor, B: Tensor): { r: number; inF: number; outF: number } {
  if (A.shape.length !== 2) throw new Error(`A: expected shape [R, IN], got ${shapeString(A)}`);
  const [r, inF] = A.shape;
  if (B.shape.length !== 2 || B.shape[1] !== r) {
    throw new Error(`B: expected shape [OUT, ${r}] (R from A ${shapeString(A)}), got ${shapeString(B)}`);
  }
  if (r < 1 || inF < 1 || B.shape[0] < 1) throw new Error(`LoRA factors A ${shapeString(A)}, B ${shapeString(B)} must not be empty`);
  return { r, inF, outF: B.shape[0] };
}

/** N for an activation whose last dimension must be `last`. */
function rowsOf(t: Tensor, last: number, what: string): number {
  if (t.shape.length < 1 || t.shape[t.shape.length - 1] !== last) {
    throw new Error(`${what}: expected shape [..., ${last}], got ${shapeString(t)}`);
  }
  return t.size / last;
}

function expectRows(t: Tensor, n: number, last: number, what: string): void {
  const rows = rowsOf(t, last, what);
  if (rows !== n) throw new Error(`${what}: expected ${n} rows of ${last} (from x), got ${shapeString(t)}`);
}
