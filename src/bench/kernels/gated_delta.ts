// Benchmark of the gated delta rule's two forms (Qwen3.5's Gated DeltaNet core): the recurrent kernels
// (gated_delta_forward / _backward: one token after another, checkpoints every 16 tokens) against the chunked
// WY / UT-transform kernels (gated_delta_chunk_forward / _backward, at each chunk length asked; default 64), forward and backward, at Qwen3.5's
// head shapes (NK = NV = 16, DK = DV = 128) for each T asked. Inputs are random with l2-normalised q, k, g < 0 and
// beta in (0, 1). The backward's timing excludes the forward that wrote its checkpoints.
// FLOPs: the recurrent form's 4 * DK * DV multiply-adds per token and head (x2 for the backward's recomputation and
// gradient), the same count for both forms so their GFLOP/s compare as speed.
import { gatedDeltaBackward, gatedDeltaCheckpoints, gatedDeltaChannels, gatedDeltaForward } from '../../gpu/kernels/gated_delta';
import { GATED_DELTA_CHUNK_DEFAULT, gatedDeltaChunkBackward, gatedDeltaChunkForward, gatedDeltaChunks } from '../../gpu/kernels/gated_delta_chunk';
import type { GpuRuntime } from '../../gpu/runtime';
import type { GatedDeltaDims } from '../../ops/gated_delta';
import { Rng, randn } from '../../util/random';
import { timeKernel, type KernelBench, type TimeOptions } from '../harness';

/** The recurrent form's checkpoint interval in training (src/model/qwen35_linear_attention.ts). */
const CH = 16;

export function gatedDeltaBenchDims(T: number): GatedDeltaDims {
  return { B: 1, T, NK: 16, NV: 16, DK: 128, DV: 128, scale: 128 ** -0.5 };
}

export async function benchGatedDelta(
  gpu: GpuRuntime, Ts: number[], Cs: number[] = [GATED_DELTA_CHUNK_DEFAULT], opts: TimeOptions = { warmup: 1, batches: 1, minMs: 0 },
): Promise<KernelBench[]> {
  const results: KernelBench[] = [];
  for (const T of Ts) {
    const d = gatedDeltaBenchDims(T);
    const rng = new Rng(5);
    const N = d.B * d.T;
    const CD = gatedDeltaChannels(d);
    const qkvHost = randn(N * CD, rng);
    for (let n = 0; n < N; n++) {
      for (let hd = 0; hd < 2 * d.NK; hd++) {
        const o = n * CD + hd * d.DK;
        let s = 0;
        for (let i = 0; i < d.DK; i++) s += qkvHost[o + i] ** 2;
        for (let i = 0; i < d.DK; i++) qkvHost[o + i] /= Math.sqrt(s);
      }
    }
    const gbHost = randn(N * d.NV * 2, rng);
    for (let e = 0; e < N * d.NV; e++) {
      gbHost[2 * e] = -Math.abs(gbHost[2 * e]) * 0.1;
      gbHost[2 * e + 1] = 1 / (1 + Math.exp(-gbHost[2 * e + 1]));
    }
    const qkv = gpu.upload(qkvHost, [d.B, d.T, CD], 'qkv');
    const gb = gpu.upload(gbHost, [d.B, d.T, d.NV, 2], 'gb');
    const out = gpu.tensor([d.B, d.T, d.NV, d.DV], 'out');
    const dout = gpu.upload(randn(out.size, rng), out.shape, 'dout');
    const dqkv = gpu.tensor(qkv.shape, 'dqkv');
    const dgb = gpu.tensor(gb.shape, 'dgb');
    const ckptR = gpu.tensor([d.B, d.NV, gatedDeltaCheckpoints(T, CH), d.DK, d.DV], 'ckpt (recurrent)');
    const shape = `B=1 T=${T} NV=16 DK=DV=128`;
    const flops = 2 * 4 * N * d.NV * d.DK * d.DV;
    results.push(await timeKernel(gpu, 'gated_delta_forward (recurrent)', shape, flops,
      () => gatedDeltaForward(gpu, out, qkv, gb, d, { ckpt: { tensor: ckptR, CH }, state: null, initial: false, final: false }), opts));
    results.push(await timeKernel(gpu, 'gated_delta_backward (recurrent)', shape, 2 * flops,
      () => gatedDeltaBackward(gpu, dqkv, dgb, dout, qkv, gb, ckptR, CH, d), opts));
    for (const C of Cs) {
      const ckptC = gpu.tensor([d.B, d.NV, gatedDeltaChunks(T, C), d.DK, d.DV], 'ckpt (chunked)');
      results.push(await timeKernel(gpu, `gated_delta_chunk_forward (C=${C})`, shape, flops,
        () => gatedDeltaChunkForward(gpu, out, qkv, gb, d, { C, ckpt: ckptC, state: null, initial: false, final: false }), opts));
      results.push(await timeKernel(gpu, `gated_delta_chunk_backward (C=${C})`, shape, 2 * flops,
        () => gatedDeltaChunkBackward(gpu, dqkv, dgb, dout, qkv, gb, ckptC, d, C), opts));
      gpu.release(ckptC);
    }
    gpu.release(qkv, gb, out, dout, dqkv, dgb, ckptR);
  }
  return results;
}
