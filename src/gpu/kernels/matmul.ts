// Host wrapper for the matmul kernels, all computing an 8x8 block of out per invocation:
//   matmul_subgroup.wgsl  every stored inner dim a multiple of 4 (read as vec4), on adapters whose
//                         subgroups are exactly 4 wide (SwiftShader): reads of a shared across a subgroup
//   matmul.wgsl           the same shapes on every other adapter
//   matmul_scalar.wgsl    every other shape
import vec4Code from '../../../shaders/matmul.wgsl?raw';
import subgroupCode from '../../../shaders/matmul_subgroup.wgsl?raw';
import scalarCode from '../../../shaders/matmul_scalar.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, numel, shapeString, type Tensor } from '../tensor';

const MATMUL_BUFFERS = { a: 'read', b: 'read', bias: 'read', out: 'read_write' } as const;
/** matmul.wgsl and matmul_subgroup.wgsl: batch strides in vec4s */
const MATMUL_VEC4_PARAMS = {
  M: 'u32', K: 'u32', N: 'u32', batches: 'u32', tiles_m: 'u32', wg_x: 'u32', stride_a: 'u32', stride_b: 'u32',
  stride_c: 'u32', alpha: 'f32', accumulate: 'u32', has_bias: 'u32',
} as const;
export const MATMUL = defineKernel({ name: 'matmul', source: vec4Code, params: MATMUL_VEC4_PARAMS, buffers: MATMUL_BUFFERS });
export const MATMUL_SUBGROUP = defineKernel({
  name: 'matmul_subgroup',
  source: subgroupCode,
  params: MATMUL_VEC4_PARAMS,
  buffers: MATMUL_BUFFERS,
});
export const MATMUL_SCALAR = defineKernel({
  name: 'matmul_scalar',
  source: scalarCode,
  params: {
    M: 'u32', K: 'u32', N: 'u32', batches: 'u32', tiles_m: 'u32', wg_x: 'u32', stride_a: 'u32', stride_b: 'u32',
    stride_c: 'u32', a_rs: 'u32', a_ks: 'u32', b_ks: 'u32', b_cs: 'u32', alpha: 'f32', accumulate: 'u32', has_bias: 'u32',
  },
  buffers: MATMUL_BUFFERS,
});

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

/** Which kernel runs a matmul: 'subgroup' (matmul_subgroup.wgsl), 'vec4' (matmul.wgsl), 'scalar'. */
export type MatmulPath = 'subgroup' | 'vec4' | 'scalar';

/** Whether the device's subgroups are always exactly 4 invocations (what matmul_subgroup.wgsl assumes). */
export function hasSubgroupsOf4(gpu: GpuRuntime): boolean {
  const info = gpu.device.adapterInfo as GPUAdapterInfo | undefined;
  return gpu.device.features.has('subgroups') && info?.subgroupMinSize === 4 && info.subgroupMaxSize === 4;
}

/** The kernels that can run this problem on this device, fastest first (the last is always 'scalar'). */
export function matmulPaths(gpu: GpuRuntime, prob: MatmulProblem, opts: MatmulOptions = {}): MatmulPath[] {
  const { M, K, N } = prob;
  const vec4 = K > 0 && N % 4 === 0 && (opts.transA ? M % 4 === 0 : K % 4 === 0) && (!opts.transB || K % 4 === 0);
  if (!vec4) return ['scalar'];
  return hasSubgroupsOf4(gpu) ? ['subgroup', 'vec4', 'scalar'] : ['vec4', 'scalar'];
}

/** out = alpha * op(a) @ op(b) (+ bias) (+ out if accumulate).
 *  op(a): (Bt, M, K) — a stored (Bt, M, K), or (Bt, K, M) when transA
 *  op(b): (Bt, K, N) — b stored (Bt, K, N), or (Bt, N, K) when transB; a 2-D b (K,N)/(N,K) is shared by every batch
 *  out: (Bt, M, N); bias: (N), added to every row; Bt = product of out's leading dims (1 for 2-D). */
export function matmul(gpu: GpuRuntime, out: Tensor, a: Tensor, b: Tensor, opts: MatmulOptions = {}): void {
  matmulOnPath(gpu, out, a, b, opts);
}

/** matmul on a chosen kernel (default: the fastest that can run it); checks and benchmarks use this to
 * cover every path. Throws if that kernel cannot run this problem on this device. */
export function matmulOnPath(
  gpu: GpuRuntime,
  out: Tensor,
  a: Tensor,
  b: Tensor,
  opts: MatmulOptions = {},
  path?: MatmulPath,
): void {
  const prob = matmulProblem(out, a, b, opts);
  const bias = opts.bias ?? null;
  for (const [t, role] of [[a, 'a'], [b, 'b'], [bias, 'bias']] as const) {
    if (t && t.buffer === out.buffer) {
      throw new Error(`matmul: out ${dims(out)} is also ${role}; write into a separate tensor`);
    }
  }
  const paths = matmulPaths(gpu, prob, opts);
  const chosen = path ?? paths[0];
  if (!paths.includes(chosen)) {
    throw new Error(`matmul: the ${chosen} kernel cannot run M=${prob.M} K=${prob.K} N=${prob.N} here (can: ${paths.join(', ')})`);
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

  // Workgroups of 64 invocations, wgX across N and 64 / wgX across M, wgX picked to leave the fewest idle
  // columns (the widest among equals). wgX is a uniform (one pipeline serves every shape) and a multiple
  // of 4, which matmul_subgroup.wgsl needs: a subgroup must lie within one row of the workgroup.
  const colTiles = Math.ceil(N / BLOCK);
  const wgX = [16, 8, 4].reduce((best, w) => (Math.ceil(colTiles / w) * w < Math.ceil(colTiles / best) * best ? w : best));
  const tilesM = Math.ceil(Math.ceil(M / BLOCK) / (WG_INVOCATIONS / wgX));
  const [gy, gz] = grid(tilesM * Bt);
  const workgroups = [Math.ceil(colTiles / wgX), gy, gz] as const;
  const alpha = opts.alpha ?? 1;
  const accumulate = opts.accumulate ? 1 : 0;
  const has_bias = bias ? 1 : 0;
  const strideA = batchedA ? M * K : 0;
  const strideB = batchedB ? K * N : 0;
  const strideC = M * N;
  // Without a bias, a is bound a second time (read-only twice is allowed) and not read there.
  const buffers = { a, b, bias: bias ?? a, out };
  const shape = { M, K, N, batches: Bt, tiles_m: tilesM, wg_x: wgX };

  if (chosen === 'scalar') {
    const [a_rs, a_ks] = transA ? [1, M] : [K, 1];
    const [b_ks, b_cs] = transB ? [1, K] : [N, 1];
    const strides = { stride_a: strideA, stride_b: strideB, stride_c: strideC, a_rs, a_ks, b_ks, b_cs };
    gpu.run(MATMUL_SCALAR, buffers, { ...shape, ...strides, alpha, accumulate, has_bias }, workgroups);
  } else {
    const strides = { stride_a: strideA / 4, stride_b: strideB / 4, stride_c: strideC / 4 };
    gpu.run(chosen === 'subgroup' ? MATMUL_SUBGROUP : MATMUL, buffers, { ...shape, ...strides, alpha, accumulate, has_bias }, workgroups, {
      TRANS_A: transA ? 1 : 0,
      TRANS_B: transB ? 1 : 0,
    });
  }
}
