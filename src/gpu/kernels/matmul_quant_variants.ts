// The block-tiled variants of the frozen quantised-weight matmuls (y = x W^T and dx = dy W, W in a ggml block
// format; host of the plain kernels: matmul_quant.ts, which stays the reference variant 'plain'):
//   matmul_quant_block_forward/_backward.wgsl            register blocks of ROWS x 4 (forward) / ROWS x 8
//                                                        (backward) outputs, each weight vec4 decoded once per
//                                                        ROWS rows: 'block_r1', 'block_r4', 'block_r8'
//   matmul_quant_splitk_forward/_backward.wgsl           few rows (decoding): the inner dim split across a
//                                                        workgroup, summed in workgroup memory: 'splitk'
//   matmul_quant_splitk_subgroup_forward/_backward.wgsl  the same summed with subgroupAdd: 'splitk_subgroup'
//   matmul_quant_tiled_forward/_backward.wgsl            32 x 64 output tiles, the weight dequantised once per
//                                                        workgroup into workgroup memory: 'tiled'
// All decode through shaders/lib/ggml_dequant.wgsl (q_values4: four values per read) and sum in f32; only the
// summation order differs from 'plain'. Which one runs: chooseQuantPath (software adapters: a fixed table of
// the register-blocked kernels, never tuned; hardware: the autotuned choice for the adapter and shape class,
// else the fixed table; see src/gpu/autotune.ts).
import blockForwardCode from '../../../shaders/matmul_quant_block_forward.wgsl?raw';
import blockBackwardCode from '../../../shaders/matmul_quant_block_backward.wgsl?raw';
import splitkForwardCode from '../../../shaders/matmul_quant_splitk_forward.wgsl?raw';
import splitkBackwardCode from '../../../shaders/matmul_quant_splitk_backward.wgsl?raw';
import splitkSubgroupForwardCode from '../../../shaders/matmul_quant_splitk_subgroup_forward.wgsl?raw';
import splitkSubgroupBackwardCode from '../../../shaders/matmul_quant_splitk_subgroup_backward.wgsl?raw';
import tiledForwardCode from '../../../shaders/matmul_quant_tiled_forward.wgsl?raw';
import tiledBackwardCode from '../../../shaders/matmul_quant_tiled_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import type { Tensor } from '../tensor';
import { ggmlType, type GgmlTypeName } from '../../ops/ggml_types';
import { bucket } from './matmul';

const FORWARD_PARAMS = { M: 'u32', K: 'u32', N: 'u32', tiles_m: 'u32', alpha: 'f32', accumulate: 'u32', has_bias: 'u32' } as const;
const FORWARD_BUFFERS = { x: 'read', w: 'read', bias: 'read', out: 'read_write' } as const;
const BACKWARD_PARAMS = { M: 'u32', K: 'u32', N: 'u32', tiles_m: 'u32', alpha: 'f32', accumulate: 'u32' } as const;
const BACKWARD_BUFFERS = { dy: 'read', w: 'read', dx: 'read_write' } as const;

export const MATMUL_QUANT_BLOCK_FORWARD = defineKernel({ name: 'matmul_quant_block_forward', source: blockForwardCode, params: FORWARD_PARAMS, buffers: FORWARD_BUFFERS });
export const MATMUL_QUANT_BLOCK_BACKWARD = defineKernel({ name: 'matmul_quant_block_backward', source: blockBackwardCode, params: BACKWARD_PARAMS, buffers: BACKWARD_BUFFERS });
export const MATMUL_QUANT_SPLITK_FORWARD = defineKernel({ name: 'matmul_quant_splitk_forward', source: splitkForwardCode, params: FORWARD_PARAMS, buffers: FORWARD_BUFFERS });
export const MATMUL_QUANT_SPLITK_BACKWARD = defineKernel({ name: 'matmul_quant_splitk_backward', source: splitkBackwardCode, params: BACKWARD_PARAMS, buffers: BACKWARD_BUFFERS });
export const MATMUL_QUANT_SPLITK_SUBGROUP_FORWARD = defineKernel({
  name: 'matmul_quant_splitk_subgroup_forward', source: splitkSubgroupForwardCode, params: FORWARD_PARAMS, buffers: FORWARD_BUFFERS
});
export const MATMUL_QUANT_SPLITK_SUBGROUP_BACKWARD = defineKernel({
  name: 'matmul_quant_splitk_subgroup_backward', source: splitkSubgroupBackwardCode, params: BACKWARD_PARAMS, buffers: BACKWARD_BUFFERS
});
export const MATMUL_QUANT_TILED_FORWARD = defineKernel({ name: 'matmul_quant_tiled_forward', source: tiledForwardCode, params: FORWARD_PARAMS, buffers: FORWARD_BUFFERS });
export const MATMUL_QUANT_TILED_BACKWARD = defineKernel({ name: 'matmul_quant_tiled_backward', source: tiledBackwardCode, params: BACKWARD_PARAMS, buffers: BACKWARD_BUFFERS });

/** Rows per invocation of the register-blocked variants (override ROWS). */
export const QUANT_BLOCK_ROWS = { block_r1: 1, block_r4: 4, block_r8: 8 } as const;

/** 'plain': matmul_quant_forward/_backward.wgsl (the reference variant); the rest as in the header. */
export type QuantPath = 'plain' | keyof typeof QUANT_BLOCK_ROWS | 'splitk' | 'splitk_subgroup' | 'tiled';
export const ALL_QUANT_PATHS: readonly QuantPath[] = ['plain', 'block_r1', 'block_r4', 'block_r8', 'splitk', 'splitk_subgroup', 'tiled'];
/** What software adapters choose from (no workgroup memory); split-K and tiled are GPU-class. */
export const SOFTWARE_QUANT_PATHS: readonly QuantPath[] = ['plain', 'block_r1', 'block_r4', 'block_r8'];
export type QuantDirection = 'forward' | 'backward';

const isBlock = (p: QuantPath): p is keyof typeof QUANT_BLOCK_ROWS => p in QUANT_BLOCK_ROWS;

/** Why a variant cannot run on this device (null: it can). */
export function quantPathUnavailable(gpu: GpuRuntime, path: QuantPath): string | null {
  if (path === 'splitk_subgroup' && !gpu.device.features.has('subgroups')) return "needs the 'subgroups' feature, which this adapter lacks";
  return null;
}

/** The variants that can run here: 'plain' first. */
export function quantPaths(gpu: GpuRuntime): QuantPath[] {
  return ALL_QUANT_PATHS.filter((p) => quantPathUnavailable(gpu, p) === null);
}

/** One quantised matmul: forward out (M, N) = x (M, K) W^T; backward dx (M, K) = dy (M, N) W. */
export interface QuantProblem {
  dir: QuantDirection;
  type: GgmlTypeName;
  M: number;
  K: number;
  N: number;
}

/** The autotuner's shape class: direction, block type, M (exact up to 8), K, N rounded up to powers of 2. */
export function quantShapeClass(p: QuantProblem): string {
  return `matmul_quant ${p.dir} ${p.type} M${bucket(p.M)} K${bucket(p.K)} N${bucket(p.N)}`;
}

/** The kernel a quantised matmul runs: on software adapters the fixed table (never tuned); elsewhere the
 * autotuned choice for this adapter and shape class, else the fixed table (recording the class for the
 * autotuner). */
export function chooseQuantPath(gpu: GpuRuntime, prob: QuantProblem): QuantPath {
  const paths = quantPaths(gpu);
  if (gpu.adapter.isSoftware) return defaultQuantPath(prob, paths, true);
  const cls = quantShapeClass(prob);
  const tuned = gpu.variantChoices.get(cls) as QuantPath | undefined;
  if (tuned && paths.includes(tuned)) return tuned;
  if (!gpu.variantChoices.has(cls) && !gpu.variantPending.has(cls)) gpu.variantPending.set(cls, { op: 'matmul_quant', prob });
  return defaultQuantPath(prob, paths, false);
}

/** The fixed table: register blocks as tall as M needs on software adapters (measured fastest on SwiftShader:
 * docs/performance.md); elsewhere split-K for decode-sized M, workgroup tiles from 32 rows, 8-row blocks between. */
export function defaultQuantPath(prob: QuantProblem, paths: readonly QuantPath[], software: boolean): QuantPath {
  const want: QuantPath[] = [];
  if (!software && prob.M <= 8) want.push('splitk_subgroup', 'splitk');
  if (!software && prob.M >= 32) want.push('tiled');
  want.push(prob.M === 1 ? 'block_r1' : prob.M <= 4 ? 'block_r4' : 'block_r8', 'plain');
  return want.find((p) => paths.includes(p)) ?? 'plain';
}

/** A variant's grid and override constants for a problem (not 'plain'). */
export function quantDispatch(path: Exclude<QuantPath, 'plain'>, prob: QuantProblem): {
  tiles_m: number;
  workgroups: readonly [number, number, number];
  overrides: Record<string, number>;
} {
  const QTYPE = ggmlType(prob.type).id;
  const rows = isBlock(path) ? QUANT_BLOCK_ROWS[path] : path === 'tiled' ? 32 : 4;
  const tiles_m = Math.ceil(prob.M / rows);
  const [gy, gz] = grid(tiles_m);
  const cols = prob.dir === 'forward' ? prob.N : prob.K;
  // forward: 4 columns per invocation (block) or workgroup (split-K); backward: 8; tiled: 64 per workgroup
  const colsPer = path === 'tiled' ? 64 : (prob.dir === 'forward' ? 4 : 8) * (isBlock(path) ? 64 : 1);
  return { tiles_m, workgroups: [Math.ceil(cols / colsPer), gy, gz], overrides: isBlock(path) ? { QTYPE, ROWS: rows } : { QTYPE } };
}

/** The kernel a variant (not 'plain') runs in a direction. */
export function quantVariantKernel(path: Exclude<QuantPath, 'plain'>, dir: QuantDirection) {
  if (path === 'tiled') return dir === 'forward' ? MATMUL_QUANT_TILED_FORWARD : MATMUL_QUANT_TILED_BACKWARD;
  if (dir === 'forward') return isBlock(path) ? MATMUL_QUANT_BLOCK_FORWARD : path === 'splitk' ? MATMUL_QUANT_SPLITK_FORWARD : MATMUL_QUANT_SPLITK_SUBGROUP_FORWARD;
  return isBlock(path) ? MATMUL_QUANT_BLOCK_BACKWARD : path === 'splitk' ? MATMUL_QUANT_SPLITK_BACKWARD : MATMUL_QUANT_SPLITK_SUBGROUP_BACKWARD;
}

/** Runs a variant (not 'plain'); the caller has checked the shapes. a is x (forward) or dy (backward); out is
 * out or dx; bias only forward. */
export function runQuantVariant(
  gpu: GpuRuntime,
  path: Exclude<QuantPath, 'plain'>,
  prob: QuantProblem,
  t: { a: Tensor; w: Tensor; out: Tensor; bias: Tensor | null },
  alpha: number,
  accumulate: boolean,
): void {
  const why = quantPathUnavailable(gpu, path);
  if (why) throw new Error(`matmul_quant_${prob.dir}: the ${path} variant cannot run here: it ${why}`);
  const { M, K, N } = prob;
  const common = { M, K, N, alpha, accumulate: accumulate ? 1 : 0 };
  const { tiles_m, workgroups, overrides } = quantDispatch(path, prob);
  const kernel = quantVariantKernel(path, prob.dir);
  if (prob.dir === 'forward') {
    gpu.run(kernel as typeof MATMUL_QUANT_BLOCK_FORWARD, { x: t.a, w: t.w, bias: t.bias ?? t.a, out: t.out }, { ...common, tiles_m, has_bias: t.bias ? 1 : 0 }, workgroups, overrides);
  } else {
    gpu.run(kernel as typeof MATMUL_QUANT_BLOCK_BACKWARD, { dy: t.a, w: t.w, dx: t.out }, { ...common, tiles_m }, workgroups, overrides);
  }
}
