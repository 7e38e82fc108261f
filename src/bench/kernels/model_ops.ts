// Benchmarks of the model's non-matmul kernels at the shapes of a training step: attention forward and
// backward, LoRA forward and backward, log-prob gathering (forward and backward).
import { attentionBackward, attentionForward, type AttentionDims } from '../../gpu/kernels/attention';
import { loraBackward, loraForward } from '../../gpu/kernels/lora';
import { logprobGatherBackward, logprobGatherForward } from '../../gpu/kernels/logprob_gather';
import type { GpuRuntime } from '../../gpu/runtime';
import type { Tensor } from '../../gpu/tensor';
import { Rng, randInts, randn } from '../../util/random';
import { timeKernel, type KernelBench, type TimeOptions } from '../harness';

export interface OpShapes {
  model: string;
  attention: AttentionDims;
  lora: { N: number; IN: number; OUT: number; R: number };
  logprob: { N: number; V: number };
}

export const STORIES260K_SHAPES: OpShapes = {
  model: 'stories260K',
  attention: { B: 8, T: 64, NH: 8, NKV: 4, HS: 8 },
  lora: { N: 512, IN: 64, OUT: 64, R: 8 },
  logprob: { N: 512, V: 512 },
};

export const SMOLLM2_SHAPES: OpShapes = {
  model: 'SmolLM2-135M',
  attention: { B: 4, T: 128, NH: 9, NKV: 3, HS: 64 },
  lora: { N: 512, IN: 576, OUT: 576, R: 8 },
  logprob: { N: 128, V: 49152 },
};

export async function benchModelOps(gpu: GpuRuntime, s: OpShapes, opts: TimeOptions = {}): Promise<KernelBench[]> {
  const rng = new Rng(11);
  const made: Tensor[] = [];
  const rand = (shape: number[], label: string, scale = 1) => {
    const t = gpu.upload(randn(shape.reduce((a, b) => a * b, 1), rng, scale), shape, label);
    made.push(t);
    return t;
  };
  const results: KernelBench[] = [];
  try {
    // attention: QK^T and PV, causal (half the square)
    const a = s.attention;
    const N = a.B * a.T;
    const q = rand([N, a.NH * a.HS], 'q');
    const k = rand([N, a.NKV * a.HS], 'k');
    const v = rand([N, a.NKV * a.HS], 'v');
    const out = rand([N, a.NH * a.HS], 'out');
    const lse = rand([a.B, a.NH, a.T], 'lse');
    const attShape = `B=${a.B} T=${a.T} NH=${a.NH} NKV=${a.NKV} HS=${a.HS}`;
    const attFlops = 2 * 2 * a.B * a.NH * ((a.T * (a.T + 1)) / 2) * a.HS;
    results.push(await timeKernel(gpu, `attention_forward ${s.model}`, attShape, attFlops,
      () => attentionForward(gpu, out, lse, q, k, v, a), opts));
    const dout = rand([N, a.NH * a.HS], 'dout');
    const dq = rand([N, a.NH * a.HS], 'dq');
    const dk = rand([N, a.NKV * a.HS], 'dk');
    const dv = rand([N, a.NKV * a.HS], 'dv');
    attentionForward(gpu, out, lse, q, k, v, a);
    results.push(await timeKernel(gpu, `attention_backward ${s.model}`, attShape, 2.5 * attFlops,
      () => attentionBackward(gpu, dq, dk, dv, dout, q, k, v, out, lse, a), opts));

    // LoRA: h = x A^T, y += s h B^T; backward dB, dh, dA, dx
    const l = s.lora;
    const x = rand([l.N, l.IN], 'x');
    const A = rand([l.R, l.IN], 'A', 0.1);
    const Bm = rand([l.OUT, l.R], 'B', 0.1);
    const y = rand([l.N, l.OUT], 'y');
    const h = rand([l.N, l.R], 'h');
    const loraShape = `N=${l.N} ${l.IN}->${l.OUT} R=${l.R}`;
    const loraFlops = 2 * l.N * l.R * (l.IN + l.OUT);
    results.push(await timeKernel(gpu, `lora_forward ${s.model}`, loraShape, loraFlops,
      () => loraForward(gpu, y, h, x, A, Bm, 2), opts));
    const dy = rand([l.N, l.OUT], 'dy');
    const dA = rand([l.R, l.IN], 'dA');
    const dB = rand([l.OUT, l.R], 'dB');
    const dx = rand([l.N, l.IN], 'dx');
    results.push(await timeKernel(gpu, `lora_backward ${s.model}`, loraShape, 2 * loraFlops,
      () => loraBackward(gpu, dA, dB, dx, dy, x, h, A, Bm, 2), opts));

    // log-prob gathering over the vocabulary
    const p = s.logprob;
    const logits = rand([p.N, p.V], 'logits', 3);
    const targets = gpu.upload(randInts(p.N, rng, p.V), [p.N], 'targets', 'u32');
    made.push(targets);
    const logp = rand([p.N], 'logp');
    const ent = rand([p.N], 'entropy');
    const lse2 = rand([p.N], 'lse');
    const lpShape = `N=${p.N} V=${p.V}`;
    results.push(await timeKernel(gpu, `logprob_gather_forward ${s.model}`, lpShape, 6 * p.N * p.V,
      () => logprobGatherForward(gpu, logp, ent, lse2, logits, targets, 0.9), opts));
    const dlogits = rand([p.N, p.V], 'dlogits');
    results.push(await timeKernel(gpu, `logprob_gather_backward ${s.model}`, lpShape, 3 * p.N * p.V,
      () => logprobGatherBackward(gpu, dlogits, logp, logits, targets, lse2, 0.9), opts));
  } finally {
    gpu.release(...made);
  }
  return results;
}
