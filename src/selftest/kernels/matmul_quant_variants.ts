// Each variant of the quantised-weight matmuls (matmul_quant_variants.ts: register blocks of 1, 4 and 8 rows,
// split-K, split-K with subgroups, workgroup tiles) forced in turn against the CPU reference (ggml's dequantisation, then f32:
// src/reference/matmul_quant.ts), forward and input gradient, for every block type the kernels read: random
// block bytes (every bit pattern of quants and high bits) with finite f16 scales; M = 1, M not a multiple of
// any variant's rows, K spanning several blocks, N not a multiple of 4, a 3-D x, bias, alpha, accumulation.
// A variant this device cannot run (no subgroups) is one skipped case, "untested here: ...", never a pass.
import * as gpuK from '../../gpu/kernels/matmul_quant';
import { COMPILED_NOT_RUN } from '../../gpu/kernels/matmul_availability';
import { ALL_QUANT_PATHS, quantPathUnavailable, type QuantPath } from '../../gpu/kernels/matmul_quant_variants';
import type { GpuRuntime } from '../../gpu/runtime';
import * as ref from '../../reference/matmul_quant';
import { ggmlType, QUANT_KERNEL_TYPES } from '../../ops/ggml_types';
import { compare, skippedCase, type CaseResult, type KernelCheck, type Tolerance } from '../check';
import { Rng, randn } from '../../util/random';
import { randomQuantWeight } from './matmul_quant';

const TOL: Tolerance = { atol: 2e-4, rtol: 2e-4 };

/** (x's leading dims, blocks along K, N) */
const SHAPES: [number[], number, number][] = [
  [[1], 1, 3],
  [[9], 3, 13],
  [[2, 3], 2, 6],
];
/** 'tiled' (32 x 64 output tiles) also over more than one tile each way: rows and columns past the edge */
const TILED_SHAPES: [number[], number, number][] = [[[1], 1, 3], [[37], 3, 70]];

async function runVariant(gpu: GpuRuntime, path: QuantPath): Promise<CaseResult[]> {
  const rng = new Rng(27);
  const name = `matmul_quant [${path}]`;
  const out: CaseResult[] = [];
  for (const type of QUANT_KERNEL_TYPES) {
    for (const [lead, blocks, N] of path === 'tiled' ? TILED_SHAPES : SHAPES) {
      const M = lead.reduce((a, b) => a * b, 1);
      const K = blocks * ggmlType(type).blockSize;
      const shape = `${type} x (${lead.join(', ')}, ${K}) W (${N}, ${K})`;
      const wq = randomQuantWeight(type, N, K, rng);
      const x = randn(M * K, rng);
      const bias = randn(N, rng);
      const init = randn(M * N, rng);
      const tx = gpu.upload(x, [...lead, K], 'x');
      const tw = gpuK.uploadQuantWeight(gpu, wq, type, N, K, `w ${type}`);
      const tb = gpu.upload(bias, [N], 'bias');
      const ty = gpu.upload(init, [...lead, N], 'y');
      gpuK.matmulQuantForward(gpu, ty, tx, tw, type, { bias: tb, accumulate: true, alpha: 0.5, path });
      const y = Float32Array.from(init);
      ref.matmulQuantForward(y, x, wq, type, bias, M, K, N, 0.5, true);
      out.push(compare(name, `forward ${shape} bias alpha=0.5 accumulate`, 'y', await gpu.read(ty), y, TOL));
      gpuK.matmulQuantForward(gpu, ty, tx, tw, type, { path });
      const y2 = new Float32Array(M * N);
      ref.matmulQuantForward(y2, x, wq, type, null, M, K, N);
      out.push(compare(name, `forward ${shape}`, 'y', await gpu.read(ty), y2, TOL));

      const dy = randn(M * N, rng);
      const dxInit = randn(M * K, rng);
      const tdy = gpu.upload(dy, [...lead, N], 'dy');
      const tdx = gpu.upload(dxInit, [...lead, K], 'dx');
      gpuK.matmulQuantBackward(gpu, tdx, tdy, tw, type, { accumulate: true, alpha: -1.5, path });
      const dx = Float32Array.from(dxInit);
      ref.matmulQuantBackward(dx, dy, wq, type, M, K, N, -1.5, true);
      out.push(compare(name, `backward ${shape} alpha=-1.5 accumulate`, 'dx', await gpu.read(tdx), dx, TOL));
      gpuK.matmulQuantBackward(gpu, tdx, tdy, tw, type, { path });
      const dx2 = new Float32Array(M * K);
      ref.matmulQuantBackward(dx2, dy, wq, type, M, K, N);
      out.push(compare(name, `backward ${shape}`, 'dx', await gpu.read(tdx), dx2, TOL));
      gpu.release(tx, tw, tb, ty, tdy, tdx);
    }
  }
  return out;
}

function unavailable(gpu: GpuRuntime, path: QuantPath): string | null {
  const why = quantPathUnavailable(gpu, path);
  return why === null ? null : `${why}; ${COMPILED_NOT_RUN}`;
}

export const checks: KernelCheck[] = ALL_QUANT_PATHS.filter((p) => p !== 'plain').map((path) => ({
  kernel: `matmul_quant [${path}]`,
  unavailable: (gpu: GpuRuntime) => unavailable(gpu, path),
  async run(gpu: GpuRuntime): Promise<CaseResult[]> {
    const why = unavailable(gpu, path);
    if (why) return [skippedCase(`matmul_quant [${path}]`, why)];
    return runVariant(gpu, path);
  },
}));
