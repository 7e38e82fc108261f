// matmul_packed16_forward / _backward and embedding_packed16_forward against their CPU references, in
// bfloat16 and IEEE half, on odd shapes (edge blocks), with bias, alpha and accumulation.
import * as gpuK from '../../gpu/kernels/matmul_packed16';
import * as ref from '../../reference/packed16';
import { compare, type KernelCheck, type CaseResult, type Tolerance } from '../check';
import { Rng, randn } from '../../util/random';

const TOL: Tolerance = { atol: 1e-4, rtol: 1e-4 };

export const check: KernelCheck = {
  kernel: 'matmul_packed16',
  async run(gpu) {
    const rng = new Rng(16);
    const out: CaseResult[] = [];
    for (const format of ['bf16', 'f16'] as const) {
      for (const [M, K, N] of [[1, 2, 1], [7, 10, 13], [33, 64, 40], [9, 130, 65]]) {
        const name = `${format} M=${M} K=${K} N=${N}`;
        const x = randn(M * K, rng);
        const wp = ref.pack16(randn(N * K, rng, 0.5), format);
        const bias = randn(N, rng);
        const init = randn(M * N, rng);
        const tx = gpu.upload(x, [M, K], 'x');
        const tw = gpu.upload(wp, [N, K / 2], 'w16', 'u32');
        const tb = gpu.upload(bias, [N], 'bias');
        const ty = gpu.upload(init, [M, N], 'y');
        gpuK.matmulPacked16Forward(gpu, ty, tx, tw, format, { bias: tb, accumulate: true, alpha: 0.5 });
        const y = Float32Array.from(init);
        ref.matmulPacked16Forward(y, x, wp, bias, M, K, N, format, 0.5, true);
        out.push(compare('matmul_packed16_forward', name, 'y', await gpu.read(ty), y, TOL));
        const ty2 = gpu.tensor([M, N], 'y2');
        gpuK.matmulPacked16Forward(gpu, ty2, tx, tw, format);
        const y2 = new Float32Array(M * N);
        ref.matmulPacked16Forward(y2, x, wp, null, M, K, N, format);
        out.push(compare('matmul_packed16_forward', `${name} plain`, 'y', await gpu.read(ty2), y2, TOL));
        const dy = randn(M * N, rng);
        const dxInit = randn(M * K, rng);
        const tdy = gpu.upload(dy, [M, N], 'dy');
        const tdx = gpu.upload(dxInit, [M, K], 'dx');
        gpuK.matmulPacked16Backward(gpu, tdx, tdy, tw, format, { accumulate: true });
        const dx = Float32Array.from(dxInit);
        ref.matmulPacked16Backward(dx, dy, wp, M, K, N, format, 1, true);
        out.push(compare('matmul_packed16_backward', name, 'dx', await gpu.read(tdx), dx, TOL));
        const V = N;
        const ids = Uint32Array.from({ length: M }, (_, i) => (i === 1 ? V + 3 : rng.int(V)));
        const tids = gpu.upload(ids, [M], 'ids', 'u32');
        const temb = gpu.tensor([M, K], 'emb');
        gpuK.embeddingPacked16Forward(gpu, temb, tids, tw, format);
        const emb = new Float32Array(M * K);
        ref.embeddingPacked16Forward(emb, ids, wp, V, K, format);
        out.push(compare('embedding_packed16_forward', name, 'out', await gpu.read(temb), emb, { atol: 0, rtol: 0 }));
        gpu.release(tx, tw, tb, ty, ty2, tdy, tdx, tids, temb);
      }
    }
    return out;
  },
};
