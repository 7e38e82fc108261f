import * as gpuK from '../../gpu/kernels/cross_entropy';
import * as ref from '../../reference/cross_entropy';
import { compare, merge, type KernelCheck, type CaseResult, type Tolerance } from '../check';
import type { GpuRuntime } from '../../gpu/runtime';
import { Rng, randInts, randn } from '../../util/random';
import { expectThrow } from './logprob_gather';

const FORWARD_TOL: Tolerance = { atol: 1e-4, rtol: 1e-5 };
const BACKWARD_TOL: Tolerance = { atol: 1e-6, rtol: 1e-4 };

interface Case {
  name: string;
  n: number;
  v: number;
  logits: Float32Array;
  targets: Uint32Array;
  /** logits shape when not (N, V) */
  shape?: number[];
}

function cases(): Case[] {
  const rng = new Rng(31);
  const out: Case[] = [];
  const add = (n: number, v: number, scale: number, note = '') => {
    const targets = randInts(n, rng, v);
    if (n > 2) targets[1] = gpuK.IGNORE_INDEX;
    out.push({ name: `N=${n} V=${v}${note}`, n, v, logits: randn(n * v, rng, scale), targets });
  };
  add(1, 7, 2);
  add(3, 513, 3);
  add(6, 100, 4);
  add(4, 5000, 2);
  add(5, 1, 1, ' (single-token rows)');
  // every row ignored: zero loss and gradient, lse still computed
  out.push({ name: 'N=3 V=9 all ignored', n: 3, v: 9, logits: randn(27, rng, 2), targets: new Uint32Array(3).fill(gpuK.IGNORE_INDEX) });
  // uniform rows: loss = log V exactly
  out.push({ name: 'N=2 V=5000 uniform', n: 2, v: 5000, logits: new Float32Array(10000).fill(1.5), targets: Uint32Array.from([0, 4999]) });
  const big: Case = { name: 'N=3 V=513 |logits|~80', n: 3, v: 513, logits: new Float32Array(3 * 513), targets: randInts(3, rng, 513) };
  for (let j = 0; j < 513; j++) {
    big.logits[j] = 80 + 5 * rng.normal();
    big.logits[513 + j] = -80 + 5 * rng.normal();
    big.logits[2 * 513 + j] = 80 * (2 * rng.uniform() - 1);
  }
  out.push(big);
  add(65537, 3, 1, ' (grid split)');
  // (B, T, V) logits with (B, T) targets, as a model hands them over
  out.push({ name: 'logits (2, 4, 5)', n: 8, v: 5, logits: randn(40, rng, 2), targets: randInts(8, rng, 5), shape: [2, 4, 5] });
  return out;
}

async function forwardCase(gpu: GpuRuntime, c: Case): Promise<CaseResult> {
  const { n, v } = c;
  const tlogits = gpu.upload(c.logits, c.shape ?? [n, v], 'logits');
  const ttargets = gpu.upload(c.targets, c.shape?.slice(0, -1) ?? [n], 'targets', 'u32');
  const tloss = gpu.tensor([n], 'loss');
  const tlse = gpu.tensor([n], 'lse');
  gpuK.crossEntropyForward(gpu, tloss, tlse, tlogits, ttargets);
  const loss = new Float32Array(n);
  const lse = new Float32Array(n);
  ref.crossEntropyForward(loss, lse, c.logits, c.targets, n, v);
  const parts = [
    compare('cross_entropy_forward', c.name, 'loss', await gpu.read(tloss), loss, FORWARD_TOL),
    compare('cross_entropy_forward', c.name, 'lse', await gpu.read(tlse), lse, FORWARD_TOL),
  ];
  if (c.name.endsWith('uniform')) {
    // by hand, not through the reference
    parts.push(compare('cross_entropy_forward', c.name, 'loss = log V', await gpu.read(tloss), new Float32Array(n).fill(Math.log(v)), FORWARD_TOL));
  }
  gpu.release(tlogits, ttargets, tloss, tlse);
  return merge(parts);
}

async function backwardCase(gpu: GpuRuntime, c: Case, rng: Rng): Promise<CaseResult> {
  const { n, v } = c;
  const loss = new Float32Array(n);
  const lse = new Float32Array(n);
  ref.crossEntropyForward(loss, lse, c.logits, c.targets, n, v);
  const dloss = randn(n, rng);
  const tlogits = gpu.upload(c.logits, c.shape ?? [n, v], 'logits');
  const ttargets = gpu.upload(c.targets, c.shape?.slice(0, -1) ?? [n], 'targets', 'u32');
  const tlse = gpu.upload(lse, [n], 'lse');
  const tdloss = gpu.upload(dloss, [n], 'dloss');
  // start from garbage: the kernel overwrites every element, ignored rows included
  const tdlogits = gpu.upload(randn(n * v, rng), c.shape ?? [n, v], 'dlogits');
  gpuK.crossEntropyBackward(gpu, tdlogits, tdloss, tlogits, ttargets, tlse);
  const dlogits = new Float32Array(n * v);
  ref.crossEntropyBackward(dlogits, dloss, c.logits, c.targets, lse, n, v);
  const result = compare('cross_entropy_backward', c.name, 'dlogits', await gpu.read(tdlogits), dlogits, BACKWARD_TOL);
  gpu.release(tlogits, ttargets, tlse, tdloss, tdlogits);
  return result;
}

export const checks: KernelCheck[] = [
  {
    kernel: 'cross_entropy_forward',
    async run(gpu) {
      const results: CaseResult[] = [];
      for (const c of cases()) results.push(await forwardCase(gpu, c));
      const logits = gpu.tensor([2, 4, 5], 'logits');
      const targets = gpu.tensor([8], 'targets', 'u32');
      const eight = gpu.tensor([8], 'eight');
      const loss = gpu.tensor([7], 'loss');
      results.push(
        expectThrow('cross_entropy_forward', 'loss of the wrong length', () => gpuK.crossEntropyForward(gpu, loss, eight, logits, targets), /loss: expected 8 elements/),
      );
      gpu.release(logits, targets, eight, loss);
      return results;
    },
  },
  {
    kernel: 'cross_entropy_backward',
    async run(gpu) {
      const rng = new Rng(32);
      const results: CaseResult[] = [];
      for (const c of cases()) results.push(await backwardCase(gpu, c, rng));
      return results;
    },
  },
];
