// The quantised-weight matmuls (ggml block formats, GGUF) against the bfloat16 packed ones at real linear-layer
// shapes: the gate_proj of SmolLM2-135M (hidden 576 -> intermediate 1536) and of Qwen3-1.7B (2048 -> 6144),
// forward x Wᵀ and input gradient dy W, at a decoding M (1) and a training M (64). Per block type: the variant
// chooseQuantPath picks here ([chosen: name]) and the plain reference kernel ([plain]); with `all`, every
// variant this device can run. Types whose blocks do not divide K are left out (SmolLM2: the K-quants). Timed one after the other so that a loaded machine slows them alike.
// `npm run bench -- --quant-only [--json] [--quant-shapes smollm2|qwen3|all] [--quant-types Q8_0,Q4_K]
//   [--quant-rows 1,64] [--quant-all | --quant-no-plain]`
import { matmulPacked16Backward, matmulPacked16Forward } from '../../gpu/kernels/matmul_packed16';
import { choosePacked16Path } from '../../gpu/kernels/matmul_packed16_variants';
import { matmulQuantBackward, matmulQuantForward, uploadQuantWeight } from '../../gpu/kernels/matmul_quant';
import { chooseQuantPath, quantPaths, type QuantPath } from '../../gpu/kernels/matmul_quant_variants';
import type { GpuRuntime } from '../../gpu/runtime';
import { packWeights16 } from '../../model/pack16';
import { ggmlType, quantGpuWords, type GgmlTypeName } from '../../ops/ggml_types';
import { Rng, randn } from '../../util/random';
import { timeKernel, type KernelBench, type TimeOptions } from '../harness';

export const QUANT_BENCH_SHAPES = {
  smollm2: { name: 'SmolLM2-135M gate_proj', K: 576, N: 1536 },
  qwen3: { name: 'Qwen3-1.7B gate_proj', K: 2048, N: 6144 },
} as const;
export const QUANT_BENCH_TYPES: readonly GgmlTypeName[] = ['Q8_0', 'Q4_K', 'Q6_K', 'Q4_0'];

/** Random blocks with small finite f16 scales (every byte <= 0x3b), as the autotuner times them. */
function randomBlocks(type: GgmlTypeName, N: number, K: number, rng: Rng): Uint32Array {
  const t = ggmlType(type);
  const words = new Uint32Array(quantGpuWords(t, N, K));
  for (let i = 0; i < words.length; i++) words[i] = (rng.int(0x10000) | (rng.int(0x10000) << 16)) & 0x3b3b3b3b;
  return words;
}

export interface QuantBenchOptions {
  shapes?: readonly (keyof typeof QUANT_BENCH_SHAPES)[];
  types?: readonly GgmlTypeName[];
  rows?: readonly number[];
  /** every variant, not only the chosen one and plain */
  all?: boolean;
  /** leave out the plain kernel (minutes per run at Qwen3 M = 64 on SwiftShader) */
  noPlain?: boolean;
  time?: TimeOptions;
}

export async function benchQuantMatmul(gpu: GpuRuntime, o: QuantBenchOptions = {}): Promise<KernelBench[]> {
  const rng = new Rng(26);
  const opts = o.time ?? (gpu.adapter.isSoftware ? { warmup: 1, minMs: 0, batches: 2 } : {});
  const out: KernelBench[] = [];
  for (const key of o.shapes ?? (['smollm2', 'qwen3'] as const)) {
    const { name, K, N } = QUANT_BENCH_SHAPES[key];
    const w16 = gpu.upload(packWeights16(randn(N * K, rng, 0.05), 'bf16'), [N, K / 2], 'w bf16', 'u32');
    // a type whose blocks do not divide K cannot hold this weight (SmolLM2's 576 is no multiple of 256: no K-quants)
    const types = (o.types ?? QUANT_BENCH_TYPES).filter((t) => K % ggmlType(t).blockSize === 0);
    const wq = new Map(types.map((t) => {
      const words = randomBlocks(t, N, K, rng);
      return [t, uploadQuantWeight(gpu, words, t, N, K, `w ${t}`)] as const;
    }));
    for (const M of o.rows ?? [1, 64]) {
      const x = gpu.upload(randn(M * K, rng), [M, K], 'x');
      const y = gpu.tensor([M, N], 'y');
      const dy = gpu.upload(randn(M * N, rng), [M, N], 'dy');
      const dx = gpu.tensor([M, K], 'dx');
      const shape = `${name} (${M}, ${K}) -> ${N}`;
      const flops = 2 * M * K * N;
      const fwd16 = choosePacked16Path(gpu, { dir: 'forward', format: 'bf16', M, K, N });
      const bwd16 = choosePacked16Path(gpu, { dir: 'backward', format: 'bf16', M, K, N });
      out.push(await timeKernel(gpu, `x Wᵀ bf16 [chosen: ${fwd16}]`, shape, flops, () => matmulPacked16Forward(gpu, y, x, w16, 'bf16'), opts));
      out.push(await timeKernel(gpu, `dy W bf16 [chosen: ${bwd16}]`, shape, flops, () => matmulPacked16Backward(gpu, dx, dy, w16, 'bf16'), opts));
      for (const [type, w] of wq) {
        for (const dir of ['forward', 'backward'] as const) {
          const chosen = chooseQuantPath(gpu, { dir, type, M, K, N });
          const paths: QuantPath[] = o.all ? quantPaths(gpu) : o.noPlain ? [chosen] : [...new Set<QuantPath>([chosen, 'plain'])];
          for (const path of paths) {
            const label = `${dir === 'forward' ? 'x Wᵀ' : 'dy W'} ${type} [${path === chosen ? `chosen: ${path}` : path}]`;
            const run = dir === 'forward'
              ? () => matmulQuantForward(gpu, y, x, w, type, { path })
              : () => matmulQuantBackward(gpu, dx, dy, w, type, { path });
            out.push(await timeKernel(gpu, label, shape, flops, run, opts));
          }
        }
      }
      gpu.release(x, y, dy, dx);
    }
    gpu.release(w16, ...wq.values());
  }
  return out;
}
