// matmul_quant_forward / _backward (the 'plain' variant, forced; the others: matmul_quant_variants.ts) and
// embedding_quant_forward against their CPU references (ggml's dequantisation, then f32), for every block type the
// kernels read (NF4: bitsandbytes' levels times an f32 absmax; NF4_DQ: times the double-quantised absmax): random
// block bytes (every bit pattern of quants, scales and high bits) with finite f16 scales, odd M and N, with bias,
// alpha and accumulation.
import * as gpuK from '../../gpu/kernels/matmul_quant';
import * as ref from '../../reference/matmul_quant';
import { f16Bits } from '../../reference/packed16';
import { blockWords, ggmlType, QUANT_KERNEL_TYPES, quantGpuWords, type GgmlTypeName } from '../../ops/ggml_types';
import { compare, type KernelCheck, type CaseResult, type Tolerance } from '../check';
import { Rng, randn } from '../../util/random';

const TOL: Tolerance = { atol: 1e-4, rtol: 1e-4 };

/** byte offsets of each type's f16 scales (the rest of a block is any bytes) */
const HALVES: Record<string, number[]> = {
  Q4_0: [0], Q5_0: [0], Q8_0: [0], Q4_1: [0, 2], Q5_1: [0, 2], Q4_K: [0, 2], Q5_K: [0, 2], Q6_K: [208], NF4: [], NF4_DQ: [],
};

/** R rows of K values of random blocks, stored as the kernels read them (word-aligned; NF4_DQ: random codes and
 * absmax codes, then random small absmax2 and offset). */
export function randomQuantWeight(type: GgmlTypeName, R: number, K: number, rng: Rng): Uint32Array {
  const t = ggmlType(type);
  const wpb = blockWords(t);
  const nb = (R * K) / t.blockSize;
  const words = new Uint32Array(quantGpuWords(t, R, K));
  const bytes = new Uint8Array(words.buffer);
  for (let b = 0; b < nb; b++) {
    const o = b * wpb * 4;
    for (let i = 0; i < t.typeSize; i++) bytes[o + i] = rng.int(256);
    for (const h of HALVES[type]) {
      const bits = f16Bits((rng.uniform() - 0.3) * (t.blockSize === 256 ? 0.02 : 0.1));
      bytes[o + h] = bits & 0xff;
      bytes[o + h + 1] = bits >> 8;
    }
    if (type === 'NF4') new DataView(words.buffer).setFloat32(o, rng.uniform() * 0.1, true); // the block's f32 absmax
  }
  if (type === 'NF4_DQ') {
    const side = nb * wpb;
    const qWords = Math.ceil(nb / 4);
    for (let i = 0; i < nb; i++) bytes[side * 4 + i] = rng.int(256); // each block's absmax code
    const fw = new Float32Array(words.buffer);
    for (let g = 0; g < Math.ceil(nb / 256); g++) fw[side + qWords + g] = rng.uniform() * 0.05; // absmax2
    fw[words.length - 1] = 0.05 + rng.uniform() * 0.05; // offset
  }
  return words;
}

export const check: KernelCheck = {
  kernel: 'matmul_quant',
  async run(gpu) {
    const rng = new Rng(26);
    const out: CaseResult[] = [];
    for (const type of QUANT_KERNEL_TYPES) {
      const qk = ggmlType(type).blockSize;
      for (const [M, K, N] of [[1, qk, 3], [9, 2 * qk, 13]]) {
        const name = `${type} M=${M} K=${K} N=${N}`;
        const wq = randomQuantWeight(type, N, K, rng);
        const x = randn(M * K, rng);
        const bias = randn(N, rng);
        const init = randn(M * N, rng);
        const tx = gpu.upload(x, [M, K], 'x');
        const tw = gpuK.uploadQuantWeight(gpu, wq, type, N, K, `w ${type}`);
        const tb = gpu.upload(bias, [N], 'bias');
        const ty = gpu.upload(init, [M, N], 'y');
        gpuK.matmulQuantForward(gpu, ty, tx, tw, type, { bias: tb, accumulate: true, alpha: 0.5, path: 'plain' });
        const y = Float32Array.from(init);
        ref.matmulQuantForward(y, x, wq, type, bias, M, K, N, 0.5, true);
        out.push(compare('matmul_quant_forward', name, 'y', await gpu.read(ty), y, TOL));
        const dy = randn(M * N, rng);
        const dxInit = randn(M * K, rng);
        const tdy = gpu.upload(dy, [M, N], 'dy');
        const tdx = gpu.upload(dxInit, [M, K], 'dx');
        gpuK.matmulQuantBackward(gpu, tdx, tdy, tw, type, { accumulate: true, path: 'plain' });
        const dx = Float32Array.from(dxInit);
        ref.matmulQuantBackward(dx, dy, wq, type, M, K, N, 1, true);
        out.push(compare('matmul_quant_backward', name, 'dx', await gpu.read(tdx), dx, TOL));
        const ids = Uint32Array.from({ length: M }, (_, i) => (i === 1 ? N + 2 : rng.int(N)));
        const tids = gpu.upload(ids, [M], 'ids', 'u32');
        const temb = gpu.tensor([M, K], 'emb');
        gpuK.embeddingQuantForward(gpu, temb, tids, tw, type, 1.5);
        const emb = new Float32Array(M * K);
        ref.embeddingQuantForward(emb, ids, wq, type, N, K, 1.5);
        out.push(compare('embedding_quant_forward', name, 'out', await gpu.read(temb), emb, { atol: 1e-6, rtol: 1e-6 }));
        gpu.release(tx, tw, tb, ty, tdy, tdx, tids, temb);
      }
    }
    return out;
  },
};
