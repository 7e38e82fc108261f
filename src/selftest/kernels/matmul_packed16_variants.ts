// Each GPU-class variant of the 16-bit weight matmuls (matmul_packed16_variants.ts: tiled, split-K,
// shader-f16 tiles) forced in turn against the CPU reference (src/reference/packed16.ts), forward and input
// gradient, bfloat16 and IEEE half: odd shapes (edge tiles, an inner dim that is not a multiple of the tile's),
// outputs spanning several tiles both ways, a 3-D x, bias, alpha and accumulation. A variant this device cannot
// run (e.g. shader-f16 missing) is one skipped case, "untested here: ...", never a pass.
import * as gpuK from '../../gpu/kernels/matmul_packed16';
import { COMPILED_NOT_RUN } from '../../gpu/kernels/matmul_availability';
import { ALL_PACKED16_PATHS, packed16PathUnavailable, type Packed16Path } from '../../gpu/kernels/matmul_packed16_variants';
import type { GpuRuntime } from '../../gpu/runtime';
import * as ref from '../../reference/packed16';
import { compare, skippedCase, type CaseResult, type KernelCheck, type Tolerance } from '../check';
import { Rng, randn } from '../../util/random';

const TOL: Tolerance = { atol: 1e-4, rtol: 1e-4 };

/** (x's leading dims, K, N): x is (...lead, K), the weight (N, K), out (...lead, N). */
const SHAPES: [number[], number, number][] = [
  [[1], 2, 1],
  [[3], 6, 5],
  [[7], 10, 13],
  [[33], 64, 40],
  [[9], 130, 65],
  [[70], 34, 72],
  [[2, 5], 18, 9],
];

/** The formats a variant reads: the shader-f16 tiles keep IEEE half only. */
const formatsOf = (path: Packed16Path): readonly ref.Format16[] => (path.startsWith('f16_') ? ['f16'] : ['bf16', 'f16']);

async function runVariant(gpu: GpuRuntime, path: Packed16Path): Promise<CaseResult[]> {
  const rng = new Rng(16);
  const name = `matmul_packed16 [${path}]`;
  const out: CaseResult[] = [];
  for (const format of formatsOf(path)) {
    for (const [lead, K, N] of SHAPES) {
      const M = lead.reduce((a, b) => a * b, 1);
      const shape = `${format} x (${lead.join(', ')}, ${K}) W (${N}, ${K})`;
      const x = randn(M * K, rng);
      const wp = ref.pack16(randn(N * K, rng, 0.5), format);
      const bias = randn(N, rng);
      const init = randn(M * N, rng);
      const tx = gpu.upload(x, [...lead, K], 'x');
      const tw = gpu.upload(wp, [N, K / 2], 'w16', 'u32');
      const tb = gpu.upload(bias, [N], 'bias');
      const ty = gpu.upload(init, [...lead, N], 'y');
      gpuK.matmulPacked16Forward(gpu, ty, tx, tw, format, { bias: tb, accumulate: true, alpha: 0.5, path });
      const y = Float32Array.from(init);
      ref.matmulPacked16Forward(y, x, wp, bias, M, K, N, format, 0.5, true);
      out.push(compare(name, `forward ${shape} bias alpha=0.5 accumulate`, 'y', await gpu.read(ty), y, TOL));
      gpuK.matmulPacked16Forward(gpu, ty, tx, tw, format, { path });
      const y2 = new Float32Array(M * N);
      ref.matmulPacked16Forward(y2, x, wp, null, M, K, N, format);
      out.push(compare(name, `forward ${shape}`, 'y', await gpu.read(ty), y2, TOL));

      const dy = randn(M * N, rng);
      const dxInit = randn(M * K, rng);
      const tdy = gpu.upload(dy, [...lead, N], 'dy');
      const tdx = gpu.upload(dxInit, [...lead, K], 'dx');
      gpuK.matmulPacked16Backward(gpu, tdx, tdy, tw, format, { accumulate: true, alpha: -1.5, path });
      const dx = Float32Array.from(dxInit);
      ref.matmulPacked16Backward(dx, dy, wp, M, K, N, format, -1.5, true);
      out.push(compare(name, `backward ${shape} alpha=-1.5 accumulate`, 'dx', await gpu.read(tdx), dx, TOL));
      gpuK.matmulPacked16Backward(gpu, tdx, tdy, tw, format, { path });
      const dx2 = new Float32Array(M * K);
      ref.matmulPacked16Backward(dx2, dy, wp, M, K, N, format);
      out.push(compare(name, `backward ${shape}`, 'dx', await gpu.read(tdx), dx2, TOL));
      gpu.release(tx, tw, tb, ty, tdy, tdx);
    }
  }
  return out;
}

/** Why this device cannot run the variant for any format it reads (null: it can for at least one), and that
 * it is only compiled (in CI), never run here. */
function unavailable(gpu: GpuRuntime, path: Packed16Path): string | null {
  const whys = formatsOf(path).map((f) => packed16PathUnavailable(gpu, path, f));
  return whys.some((w) => w === null) ? null : `${whys[0]}; ${COMPILED_NOT_RUN}`;
}

export const checks: KernelCheck[] = ALL_PACKED16_PATHS.filter((p) => p !== 'block8').map((path) => ({
  kernel: `matmul_packed16 [${path}]`,
  unavailable: (gpu: GpuRuntime) => unavailable(gpu, path),
  async run(gpu: GpuRuntime): Promise<CaseResult[]> {
    const why = unavailable(gpu, path);
    if (why) return [skippedCase(`matmul_packed16 [${path}]`, why)];
    return runVariant(gpu, path);
  },
}));
