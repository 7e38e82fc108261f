// Host wrapper for matmul.wgsl (fast path: every stored inner dim a multiple of 4, read as vec4) and
// matmul_scalar.wgsl (every other shape). Both compute an 8x8 block of out per invocation.
import vec4Code from '../../../shaders/matmul.wgsl?raw';
import scalarCode from '../../../shaders/matmul_scalar.wgsl?raw';
import { f32, grid, type GpuRuntime } from '../runtime';
import type { KernelSpec } from '../pipeline_cache';
import { expectShape, numel, shapeString, type Tensor } from '../tensor';

const MATMUL: KernelSpec = {
  name: 'matmul',
  code: vec4Code,
  buffers: ['read', 'read', 'read', 'read_write'],
  hasParams: true,
};
const MATMUL_SCALAR: KernelSpec = {
  name: 'matmul_scalar',
  code: scalarCode,
  buffers: ['read', 'read', 'read', 'read_write'],
  hasParams: true,
};

/** Each invocation computes an 8x8 block of out; a workgroup has 64 invocations. */
const BLOCK = 8;
const WG_INVOCATIONS = 64;

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  accumulate?: boolean;
  bias?: Tensor | null;
  alpha?: number;
}

/** The problem a matmul call describes, read from its tensors' shapes. */
export interface MatmulProblem {
  Bt: number;
  M: number;
  K: number;
  N: number;
  /** whether a / b hold one matrix per batch (false: one 2-D matrix shared by every batch) */
  batchedA: boolean;
  batchedB: boolean;
}

const dims = (t: Tensor): string => `${t.label} ${shapeString(t)}`;

/** Reads (Bt, M, K, N) from the shapes of out, a and b, and throws naming the tensors when they disagree. */
export function matmulProblem(out: Tensor, a: Tensor, b: Tensor, opts: MatmulOptions = {}): MatmulProblem {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  for (const [t, role] of [[out, 'out'], [a, 'a'], [b, 'b']] as const) {
    if (t.shape.length < 2) throw new Error(`matmul: ${role} ${dims(t)} needs at least 2 dims`);
    if (t.dtype !== 'f32') throw new Error(`matmul: ${role} ${dims(t)} is ${t.dtype}, needs f32`);
  }
  const M = out.shape[out.shape.length - 2];
  const N = out.shape[out.shape.length - 1];
  const Bt = numel(out.shape.slice(0, -2));
  const [aRows, aCols] = a.shape.slice(-2);
  const [bRows, bCols] = b.shape.slice(-2);
  const aM = transA ? aCols : aRows;
  const K = transA ? aRows : aCols;
  const bK = transB ? bCols : bRows;
  const bN = transB ? bRows : bCols;
  const formA = transA ? '(K, M) with transA' : '(M, K)';
  const formB = transB ? '(N, K) with transB' : '(K, N)';
  if (aM !== M) {
    throw new Error(`matmul: a ${dims(a)} read as ${formA} has M=${aM}, but out ${dims(out)} has M=${M}`);
  }
  if (bN !== N) {
    throw new Error(`matmul: b ${dims(b)} read as ${formB} has N=${bN}, but out ${dims(out)} has N=${N}`);
  }
  if (bK !== K) {
    throw new Error(`matmul: a ${dims(a)} read as ${formA} has K=${K}, but b ${dims(b)} read as ${formB} has K=${bK}`);
  }
  const batchedA = a.shape.length > 2;
  const batchedB = b.shape.length > 2;
  if (batchedA && numel(a.shape.slice(0, -2)) !== Bt) {
    throw new Error(`matmul: a ${dims(a)} has ${numel(a.shape.slice(0, -2))} batches, but out ${dims(out)} has ${Bt}`);
  }
  if (batchedB && numel(b.shape.slice(0, -2)) !== Bt) {
    throw new Error(`matmul: b ${dims(b)} has ${numel(b.shape.slice(0, -2))} batches, but out ${dims(out)} has ${Bt}`);
  }
  if (opts.bias) {
    if (opts.bias.dtype !== 'f32') throw new Error(`matmul: bias ${dims(opts.bias)} is ${opts.bias.dtype}, needs f32`);
    expectShape(opts.bias, [N], `matmul: bias ${opts.bias.label}`);
  }
  return { Bt, M, K, N, batchedA, batchedB };
}

/** out = alpha * op(a) @ op(b) (+ bias) (+ out if accumulate).
 *  op(a): (Bt, M, K) — a stored (Bt, M, K), or (Bt, K, M) when transA
 *  op(b): (Bt, K, N) — b stored (Bt, K, N), or (Bt, N, K) when transB; a 2-D b (K,N)/(N,K) is shared by every batch
 *  out: (Bt, M, N); bias: (N), added to every row; Bt = product of out's leading dims (1 for 2-D). */
export function matmul(gpu: GpuRuntime, out: Tensor, a: Tensor, b: Tensor, opts: MatmulOptions = {}): void {
  const prob = matmulProblem(out, a, b, opts);
  const bias = opts.bias ?? null;
  for (const [t, role] of [[a, 'a'], [b, 'b'], [bias, 'bias']] as const) {
    if (t && t.buffer === out.buffer) {
      throw new Error(`matmul: out ${dims(out)} is also ${role}; write into a separate tensor`);
    }
  }
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  let { Bt, M } = prob;
  const { K, N, batchedA, batchedB } = prob;
  if (Bt === 0 || M === 0 || N === 0) return;
  // A batch of (M, K) rows against one shared b is one (Bt * M, K) matrix: one bigger problem, fewer edges.
  if (Bt > 1 && batchedA && !batchedB && !transA) {
    M *= Bt;
    Bt = 1;
  }

  const colTiles = Math.ceil(N / BLOCK);
  const wgX = colTiles <= 4 ? 4 : colTiles <= 8 ? 8 : 16;
  const wgY = WG_INVOCATIONS / wgX;
  const tilesM = Math.ceil(Math.ceil(M / BLOCK) / wgY);
  const [gy, gz] = grid(tilesM * Bt);
  const workgroups = [Math.ceil(colTiles / wgX), gy, gz] as const;
  const alpha = f32(opts.alpha ?? 1);
  const accumulate = opts.accumulate ? 1 : 0;
  const hasBias = bias ? 1 : 0;
  const strideA = batchedA ? M * K : 0;
  const strideB = batchedB ? K * N : 0;
  const strideC = M * N;
  const buffers = [a, b, bias ?? a, out];

  const vec4 =
    K > 0 && N % 4 === 0 && (transA ? M % 4 === 0 : K % 4 === 0) && (!transB || K % 4 === 0);
  if (vec4) {
    gpu.dispatch(MATMUL, {
      buffers,
      params: [M, K, N, Bt, tilesM, strideA / 4, strideB / 4, strideC / 4, alpha, accumulate, hasBias],
      workgroups,
      overrides: { TRANS_A: transA ? 1 : 0, TRANS_B: transB ? 1 : 0, WG_X: wgX, WG_Y: wgY },
    });
  } else {
    const [aRs, aKs] = transA ? [1, M] : [K, 1];
    const [bKs, bCs] = transB ? [1, K] : [N, 1];
    gpu.dispatch(MATMUL_SCALAR, {
      buffers,
      params: [M, K, N, Bt, tilesM, strideA, strideB, strideC, aRs, aKs, bKs, bCs, alpha, accumulate, hasBias],
      workgroups,
      overrides: { WG_X: wgX, WG_Y: wgY },
    });
  }
}
