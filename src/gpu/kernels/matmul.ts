// Host wrapper for the matmul kernels, all computing an 8x8 block of out per invocation:
//   matmul_subgroup.wgsl  every stored inner dim a multiple of 4 (read as vec4), on adapters whose
//                         subgroups are exactly 4 wide (SwiftShader): reads of a shared across a subgroup
//   matmul.wgsl           the same shapes on every other adapter
//   matmul_scalar.wgsl    every other shape
// and the GPU-class variants (any shape and transpose form; for hardware adapters):
//   matmul_tiled.wgsl     workgroup-memory tiles, several tile shapes (MATMUL_TILES, override constants)
//   matmul_smallm.wgsl    few rows (decoding), K split across a workgroup, tree sum in workgroup memory
//   matmul_smallm_subgroup.wgsl  the same summed with subgroupAdd (any subgroup size)
//   matmul_tiled_subgroup.wgsl   op(b) tiles shared across a subgroup by subgroupShuffle (subgroup sizes 4..128)
// Which one runs: chooseMatmulPath (the autotuned choice for this adapter and shape class, else a fixed
// table per vendor; software adapters always keep the software kernels, see src/gpu/autotune.ts).
import vec4Code from '../../../shaders/matmul.wgsl?raw';
import tiledCode from '../../../shaders/matmul_tiled.wgsl?raw';
import smallmCode from '../../../shaders/matmul_smallm.wgsl?raw';
import smallmSubgroupCode from '../../../shaders/matmul_smallm_subgroup.wgsl?raw';
import subgroupCode from '../../../shaders/matmul_subgroup.wgsl?raw';
import tiledSubgroupCode from '../../../shaders/matmul_tiled_subgroup.wgsl?raw';
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

/** matmul_tiled / matmul_smallm(_subgroup): element strides, as matmul_scalar without wg_x */
const MATMUL_STRIDED_PARAMS = {
  M: 'u32', K: 'u32', N: 'u32', batches: 'u32', tiles_m: 'u32', stride_a: 'u32', stride_b: 'u32', stride_c: 'u32',
  a_rs: 'u32', a_ks: 'u32', b_ks: 'u32', b_cs: 'u32', alpha: 'f32', accumulate: 'u32', has_bias: 'u32',
} as const;
export const MATMUL_TILED = defineKernel({ name: 'matmul_tiled', source: tiledCode, params: MATMUL_STRIDED_PARAMS, buffers: MATMUL_BUFFERS });
export const MATMUL_SMALLM = defineKernel({ name: 'matmul_smallm', source: smallmCode, params: MATMUL_STRIDED_PARAMS, buffers: MATMUL_BUFFERS });
export const MATMUL_SMALLM_SUBGROUP = defineKernel({
  name: 'matmul_smallm_subgroup',
  source: smallmSubgroupCode,
  params: MATMUL_STRIDED_PARAMS,
  buffers: MATMUL_BUFFERS,
});

export const MATMUL_TILED_SUBGROUP = defineKernel({
  name: 'matmul_tiled_subgroup',
  source: tiledSubgroupCode,
  params: MATMUL_STRIDED_PARAMS,
  buffers: MATMUL_BUFFERS,
});

/** Shapes of matmul_tiled_subgroup.wgsl (its override constants): a workgroup of 128 invocations computes
 * (128 * TM) rows x (4 * TNV) columns of out. */
export const MATMUL_SUBGROUP_TILES = {
  tiled_subgroup_m128_n16: { TM: 1, TNV: 4 },
  tiled_subgroup_m256_n16: { TM: 2, TNV: 4 },
} as const;
export type MatmulSubgroupTile = keyof typeof MATMUL_SUBGROUP_TILES;

/** Tile shapes of matmul_tiled.wgsl (its override constants): a workgroup of WG_X x WG_Y invocations
 * computes a (WG_Y * TM) x (WG_X * 4) tile of out, TK steps of k per workgroup-memory tile. */
export const MATMUL_TILES = {
  tiled_32x32_k16: { WG_X: 8, WG_Y: 8, TM: 4, TK: 16 },
  tiled_64x64_k8: { WG_X: 16, WG_Y: 16, TM: 4, TK: 8 },
  tiled_64x64_k16: { WG_X: 16, WG_Y: 16, TM: 4, TK: 16 },
  tiled_64x64_k32: { WG_X: 16, WG_Y: 16, TM: 4, TK: 32 },
  tiled_128x64_k8: { WG_X: 16, WG_Y: 16, TM: 8, TK: 8 },
  tiled_128x64_k16: { WG_X: 16, WG_Y: 16, TM: 8, TK: 16 },
  tiled_64x128_k16: { WG_X: 32, WG_Y: 8, TM: 8, TK: 16 },
} as const;
export type MatmulTile = keyof typeof MATMUL_TILES;
const tileDims = (t: MatmulTile) => {
  const c = MATMUL_TILES[t];
  return { tileM: c.WG_Y * c.TM, tileN: c.WG_X * 4, invocations: c.WG_X * c.WG_Y, bytes: 4 * c.TK * (c.WG_Y * c.TM + c.WG_X * 4) };
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

/** Which kernel runs a matmul: 'subgroup' (matmul_subgroup.wgsl), 'vec4' (matmul.wgsl), 'scalar', a tile
 * shape of matmul_tiled.wgsl, 'smallm' or 'smallm_subgroup'. */
export type MatmulPath = 'subgroup' | 'vec4' | 'scalar' | MatmulTile | 'smallm' | 'smallm_subgroup' | MatmulSubgroupTile;
/** The software-adapter kernels (register blocking, no workgroup memory), fastest first on SwiftShader. */
export const SOFTWARE_MATMUL_PATHS: readonly MatmulPath[] = ['subgroup', 'vec4', 'scalar'];
/** Every variant, in the order listed by matmulPaths. */
export const ALL_MATMUL_PATHS: readonly MatmulPath[] = [
  ...SOFTWARE_MATMUL_PATHS,
  ...(Object.keys(MATMUL_TILES) as MatmulTile[]),
  'smallm',
  'smallm_subgroup',
  ...(Object.keys(MATMUL_SUBGROUP_TILES) as MatmulSubgroupTile[]),
];
/** Variants that need a device feature, by feature. */
export const MATMUL_PATH_FEATURES: Partial<Record<MatmulPath, string>> = {
  subgroup: 'subgroups',
  smallm_subgroup: 'subgroups',
  tiled_subgroup_m128_n16: 'subgroups',
  tiled_subgroup_m256_n16: 'subgroups',
};

/** The subgroup sizes the adapter reports (GPUAdapterInfo.subgroupMinSize / subgroupMaxSize), or WebGPU's
 * bounds for them (4..128) where the browser does not report them. */
export function subgroupSizeRange(gpu: GpuRuntime): { min: number; max: number; reported: boolean } {
  const info = gpu.device.adapterInfo as (GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number }) | undefined;
  const min = info?.subgroupMinSize;
  const max = info?.subgroupMaxSize;
  if (typeof min === 'number' && typeof max === 'number' && min > 0 && max >= min) return { min, max, reported: true };
  return { min: 4, max: 128, reported: false };
}

/** Why matmul_tiled_subgroup.wgsl cannot run here (null: it can): it needs the subgroups feature, subgroups
 * of at least 4 (its op(b) tile spreads over at most 8 slots per lane) and at most 128 (its workgroup of 128
 * must hold whole subgroups), and a workgroup of 128 invocations. */
export function tiledSubgroupUnavailable(gpu: GpuRuntime): string | null {
  if (!gpu.device.features.has('subgroups')) return "needs the 'subgroups' feature, which this adapter lacks";
  const { min, max } = subgroupSizeRange(gpu);
  if (min < 4 || max > 128) return `needs subgroups of 4..128 invocations; this adapter reports ${min}..${max}`;
  if (gpu.device.limits.maxComputeInvocationsPerWorkgroup < 128 || gpu.device.limits.maxComputeWorkgroupSizeX < 128) {
    return 'needs workgroups of 128 invocations';
  }
  return null;
}

const subgroupsOf4 = new WeakMap<GPUDevice, boolean>();
/** Whether the device's subgroups are always exactly 4 invocations (what matmul_subgroup.wgsl assumes). */
export function hasSubgroupsOf4(gpu: GpuRuntime): boolean {
  const info = gpu.device.adapterInfo as GPUAdapterInfo | undefined;
  let v = subgroupsOf4.get(gpu.device);
  if (v === undefined) {
    v = gpu.device.features.has('subgroups') && info?.subgroupMinSize === 4 && info.subgroupMaxSize === 4;
    subgroupsOf4.set(gpu.device, v);
  }
  return v;
}

/** Why a variant cannot run on this device (null: it can), e.g. a feature the adapter lacks. */
export function matmulPathUnavailable(gpu: GpuRuntime, path: MatmulPath): string | null {
  const probe = { Bt: 1, M: 64, K: 64, N: 64, batchedA: false, batchedB: false };
  if (matmulPaths(gpu, probe).includes(path)) return null;
  if (path in MATMUL_SUBGROUP_TILES) return tiledSubgroupUnavailable(gpu);
  const feature = MATMUL_PATH_FEATURES[path];
  if (feature && !gpu.device.features.has(feature as GPUFeatureName)) return `needs the '${feature}' feature, which this adapter lacks`;
  if (path === 'subgroup') return 'needs subgroups of exactly 4 invocations';
  return "does not fit this adapter's workgroup limits";
}

/** The kernels that can run this problem on this device: the software kernels fastest first on
 * SwiftShader (the first is what a software adapter runs), then the GPU-class variants this device's limits
 * and features allow. matmul() runs chooseMatmulPath's pick; checks and benchmarks run every one. */
export function matmulPaths(gpu: GpuRuntime, prob: MatmulProblem, opts: MatmulOptions = {}): MatmulPath[] {
  return [...softwarePaths(gpu, prob, opts), ...gpuClassPaths(gpu)];
}

/** The software kernels that can run this problem here, fastest first on SwiftShader. */
function softwarePaths(gpu: GpuRuntime, prob: MatmulProblem, opts: MatmulOptions): readonly MatmulPath[] {
  const { M, K, N } = prob;
  const vec4 = K > 0 && N % 4 === 0 && (opts.transA ? M % 4 === 0 : K % 4 === 0) && (!opts.transB || K % 4 === 0);
  if (!vec4) return ['scalar'];
  return hasSubgroupsOf4(gpu) ? ['subgroup', 'vec4', 'scalar'] : ['vec4', 'scalar'];
}

/** The GPU-class variants this device's limits and features allow (any shape), worked out once per device. */
const gpuClassCache = new WeakMap<GPUDevice, readonly MatmulPath[]>();
function gpuClassPaths(gpu: GpuRuntime): readonly MatmulPath[] {
  let paths = gpuClassCache.get(gpu.device);
  if (paths) return paths;
  const lim = gpu.device.limits;
  const fit = (Object.keys(MATMUL_TILES) as MatmulTile[]).filter((t) => {
    const d = tileDims(t);
    return d.bytes <= lim.maxComputeWorkgroupStorageSize && d.invocations <= lim.maxComputeInvocationsPerWorkgroup &&
      MATMUL_TILES[t].WG_X <= lim.maxComputeWorkgroupSizeX && MATMUL_TILES[t].WG_Y <= lim.maxComputeWorkgroupSizeY;
  });
  paths = [
    ...fit,
    'smallm',
    ...(gpu.device.features.has('subgroups') ? (['smallm_subgroup'] as const) : []),
    ...(tiledSubgroupUnavailable(gpu) === null ? (Object.keys(MATMUL_SUBGROUP_TILES) as MatmulSubgroupTile[]) : []),
  ];
  gpuClassCache.set(gpu.device, paths);
  return paths;
}

/** The kernel matmul() runs for this problem: on software adapters the first software kernel (what it has
 * always been, so results there do not change); elsewhere the autotuned choice for this adapter and shape
 * class (src/gpu/autotune.ts) when there is one, else the fixed default table for the adapter's vendor. */
export function chooseMatmulPath(gpu: GpuRuntime, prob: MatmulProblem, opts: MatmulOptions = {}): MatmulPath {
  if (gpu.adapter.isSoftware) return softwarePaths(gpu, prob, opts)[0];
  const paths = matmulPaths(gpu, prob, opts);
  const cls = matmulShapeClass(prob, opts);
  const tuned = gpu.variantChoices.get(cls) as MatmulPath | undefined;
  if (tuned && paths.includes(tuned)) return tuned;
  if (!gpu.variantChoices.has(cls) && !gpu.variantPending.has(cls)) {
    gpu.variantPending.set(cls, { op: 'matmul', prob, transA: !!opts.transA, transB: !!opts.transB });
  }
  return defaultMatmulPath(gpu.adapter.vendor, prob, paths);
}

/** The fixed table (autotuning off, or a shape class not tuned yet): split-K for decode-sized M, big
 * tiles for big problems on discrete-class vendors, 64x64 tiles otherwise. */
export function defaultMatmulPath(vendor: string, prob: MatmulProblem, paths: readonly MatmulPath[]): MatmulPath {
  const want: MatmulPath[] = [];
  const big = prob.M >= 256 && prob.N >= 256;
  if (prob.M <= 8) want.push('smallm_subgroup', 'smallm');
  else if (/nvidia|amd|ati/i.test(vendor) && big) want.push('tiled_128x64_k16', 'tiled_64x64_k16');
  else if (prob.M < 64 || prob.N < 64) want.push('tiled_32x32_k16');
  want.push('tiled_64x64_k16', 'tiled_64x64_k8');
  return want.find((p) => paths.includes(p)) ?? paths[0];
}

export const bucket = (n: number): string => (n <= 8 ? `${n}` : `${2 ** Math.ceil(Math.log2(n))}`);

/** The autotuner's shape class: transpose form and each of M, K, N rounded up to a power of 2 (M exact up
 * to 8, the decode sizes). */
export function matmulShapeClass(prob: MatmulProblem, opts: MatmulOptions = {}): string {
  const form = `${opts.transA ? 'T' : 'N'}${opts.transB ? 'T' : 'N'}`;
  const M = prob.M * (prob.Bt > 1 && prob.batchedA && !prob.batchedB && !opts.transA ? prob.Bt : 1);
  return `matmul ${form} M${bucket(M)} K${bucket(prob.K)} N${bucket(prob.N)}${prob.Bt > 1 && prob.batchedB ? ' batched' : ''}`;
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
  const chosen = path ?? chooseMatmulPath(gpu, prob, opts);
  const paths = path === undefined ? null : matmulPaths(gpu, prob, opts);
  if (paths && !paths.includes(chosen)) {
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

  const [a_rs, a_ks] = transA ? [1, M] : [K, 1];
  const [b_ks, b_cs] = transB ? [1, K] : [N, 1];
  const elementStrides = { stride_a: strideA, stride_b: strideB, stride_c: strideC, a_rs, a_ks, b_ks, b_cs, alpha, accumulate, has_bias };
  if (chosen in MATMUL_TILES) {
    const d = tileDims(chosen as MatmulTile);
    const tiles_m = Math.ceil(M / d.tileM);
    const [ty, tz] = grid(tiles_m * Bt);
    const params = { M, K, N, batches: Bt, tiles_m, ...elementStrides };
    gpu.run(MATMUL_TILED, buffers, params, [Math.ceil(N / d.tileN), ty, tz], { ...MATMUL_TILES[chosen as MatmulTile] });
  } else if (chosen in MATMUL_SUBGROUP_TILES) {
    const t = MATMUL_SUBGROUP_TILES[chosen as MatmulSubgroupTile];
    const tiles_m = Math.ceil(M / (128 * t.TM));
    const [ty, tz] = grid(tiles_m * Bt);
    const params = { M, K, N, batches: Bt, tiles_m, ...elementStrides };
    gpu.run(MATMUL_TILED_SUBGROUP, buffers, params, [Math.ceil(N / (4 * t.TNV)), ty, tz], { ...t });
  } else if (chosen === 'smallm' || chosen === 'smallm_subgroup') {
    const tiles_m = Math.ceil(M / 4);
    const [ty, tz] = grid(tiles_m * Bt);
    const params = { M, K, N, batches: Bt, tiles_m, ...elementStrides };
    gpu.run(chosen === 'smallm' ? MATMUL_SMALLM : MATMUL_SMALLM_SUBGROUP, buffers, params, [Math.ceil(N / 8), ty, tz]);
  } else if (chosen === 'scalar') {
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
