// The attention and LM-head kernel variants timed side by side (issue 14): training attention forward and
// backward, 'direct' against 'tiled' (and 'tiled_16k'), at T = 256 and 512 with head sizes 64 and 128; the
// log-prob chunk kernels, 'row' against 'wide', on one whole-vocabulary chunk of V = 49152 and 151936 with
// few rows. Each result names the variant that would run here unforced (`chosen`).
//   attention GFLOP/s: causal flops, forward 2 * B * NH * T (T + 1) * HS (q k^T and p v over the seen half),
//   backward 3.5 times that (recomputed scores, dP, dq, dk, dv: 7 products against 2);
//   log-prob chunk GB/s: bytes of the chunk read (forward), read and written (backward).
import { attentionBackward, attentionForward, type AttentionDims } from '../../gpu/kernels/attention';
import { attentionPathUnavailable, chooseAttentionPath, type AttentionPath } from '../../gpu/kernels/attention_tiled';
import { logprobChunkBackward, logprobChunkForward } from '../../gpu/kernels/logprob_chunk';
import { chooseLogprobChunkVariant, wideSegments, type LogprobChunkVariant } from '../../gpu/kernels/logprob_chunk_wide';
import type { GpuRuntime } from '../../gpu/runtime';
import { Rng, randInts, randn } from '../../util/random';
import { timeKernel, type TimeOptions } from '../harness';

export interface VariantBench {
  name: string;
  shape: string;
  variant: string;
  /** the variant that runs here when none is forced */
  chosen: string;
  ms: number;
  /** attention: GFLOP/s; 0 for the log-prob chunk */
  gflops: number;
  /** log-prob chunk: GB/s of the chunk moved; 0 for attention */
  gbps: number;
}

export interface AttentionBenchOptions {
  /** sequence lengths (default 256, 512) */
  T?: number[];
  /** head sizes (default 64, 128) */
  HS?: number[];
  /** query and kv heads (default 8 and 2 on a hardware adapter, 2 and 1 on a software one) */
  NH?: number;
  NKV?: number;
  time?: TimeOptions;
}

export async function benchAttentionVariants(gpu: GpuRuntime, o: AttentionBenchOptions = {}): Promise<VariantBench[]> {
  const soft = gpu.adapter.isSoftware;
  const NH = o.NH ?? (soft ? 2 : 8);
  const NKV = o.NKV ?? (soft ? 1 : 2);
  const time = o.time ?? { minMs: soft ? 50 : 200, batches: soft ? 1 : 3, warmup: 1 };
  const rng = new Rng(11);
  const out: VariantBench[] = [];
  for (const HS of o.HS ?? [64, 128]) {
    for (const T of o.T ?? [256, 512]) {
      const d: AttentionDims = { B: 1, T, NH, NKV, HS };
      const nq = T * NH * HS;
      const nkv = T * NKV * HS;
      const q = gpu.upload(randn(nq, rng), [1, T, NH, HS], 'q');
      const k = gpu.upload(randn(nkv, rng), [1, T, NKV, HS], 'k');
      const v = gpu.upload(randn(nkv, rng), [1, T, NKV, HS], 'v');
      const dout = gpu.upload(randn(nq, rng), [1, T, NH, HS], 'dout');
      const att = gpu.tensor([1, T, NH, HS], 'out');
      const lse = gpu.tensor([1, NH, T], 'lse');
      const dq = gpu.tensor([1, T, NH, HS], 'dq');
      const dk = gpu.tensor([1, T, NKV, HS], 'dk');
      const dv = gpu.tensor([1, T, NKV, HS], 'dv');
      const shape = `B=1 T=${T} NH=${NH} NKV=${NKV} HS=${HS}`;
      const fwdFlops = 2 * NH * T * (T + 1) * HS;
      const chosen = chooseAttentionPath(gpu, d);
      for (const path of ['direct', 'tiled', 'tiled_16k'] as AttentionPath[]) {
        if (attentionPathUnavailable(gpu, path, HS)) continue;
        const f = await timeKernel(gpu, `attention forward [${path}]`, shape, fwdFlops, () => attentionForward(gpu, att, lse, q, k, v, d, path), time);
        out.push({ ...f, variant: path, chosen, gbps: 0 });
        const b = await timeKernel(
          gpu, `attention backward [${path}]`, shape, 3.5 * fwdFlops,
          () => attentionBackward(gpu, dq, dk, dv, dout, q, k, v, att, lse, d, path), time,
        );
        out.push({ ...b, variant: path, chosen, gbps: 0 });
      }
      gpu.release(q, k, v, dout, att, lse, dq, dk, dv);
    }
  }
  return out;
}

export interface LmHeadBenchOptions {
  /** vocabularies, each timed as one whole chunk (default 49152, 151936) */
  V?: number[];
  /** rows (default 8) */
  N?: number;
  time?: TimeOptions;
}

export async function benchLogprobChunkVariants(gpu: GpuRuntime, o: LmHeadBenchOptions = {}): Promise<VariantBench[]> {
  const soft = gpu.adapter.isSoftware;
  const N = o.N ?? 8;
  const time = o.time ?? { minMs: soft ? 50 : 200, batches: soft ? 1 : 3, warmup: 1 };
  const rng = new Rng(12);
  const out: VariantBench[] = [];
  for (const V of o.V ?? [49152, 151936]) {
    const chunk = gpu.upload(randn(N * V, rng, 3), [N, V], 'logits.chunk');
    const targets = gpu.upload(randInts(N, rng, V), [N], 'targets', 'u32');
    const dlogp = gpu.upload(randn(N, rng), [N], 'dlogp');
    const logp = gpu.tensor([N], 'logp');
    const entropy = gpu.tensor([N], 'entropy');
    const lse = gpu.tensor([N], 'lse');
    const state = gpu.tensor([N, 4], 'state');
    const dchunk = gpu.tensor([N, V], 'dchunk');
    const chosen = chooseLogprobChunkVariant(gpu, V);
    const bytes = 4 * N * V;
    for (const variant of ['row', 'wide'] as LogprobChunkVariant[]) {
      const shape = `N=${N} V=${V} vc=${V}${variant === 'wide' ? ` segs=${wideSegments(N, V).segs}` : ''}`;
      const f = await timeKernel(gpu, `logprob_chunk forward [${variant}]`, shape, 0,
        () => logprobChunkForward(gpu, logp, entropy, lse, state, chunk, targets, { v0: 0, v: V }, 1, variant), time);
      out.push({ ...f, variant, chosen, gbps: bytes / (f.ms * 1e6) });
      const b = await timeKernel(gpu, `logprob_chunk backward [${variant}]`, shape, 0,
        () => logprobChunkBackward(gpu, dchunk, dlogp, chunk, targets, lse, { v0: 0, v: V }, 1, variant), time);
      out.push({ ...b, variant, chosen, gbps: (2 * bytes) / (b.ms * 1e6) });
    }
    gpu.release(chunk, targets, dlogp, logp, entropy, lse, state, dchunk);
  }
  return out;
}

/** One line per result, like formatBench. */
export function formatVariantBench(r: VariantBench): string {
  const rate = r.gbps > 0 ? `${r.gbps.toFixed(2).padStart(8)} GB/s` : `${r.gflops.toFixed(2).padStart(8)} GFLOP/s`;
  return `${r.name.padEnd(36)} ${r.shape.padEnd(34)} ${r.ms.toFixed(3).padStart(10)} ms ${rate}  (chosen here: ${r.chosen})`;
}
