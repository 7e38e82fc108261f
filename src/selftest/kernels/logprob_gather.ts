import * as gpuK from '../../gpu/kernels/logprob_gather';
import * as ref from '../../reference/logprob_gather';
import { compare, merge, type KernelCheck, type CaseResult, type Tolerance } from '../check';
import type { GpuRuntime } from '../../gpu/runtime';
import { Rng, randInts, randn } from '../../util/random';

const FORWARD_TOL: Tolerance = { atol: 1e-4, rtol: 1e-5 };
const BACKWARD_TOL: Tolerance = { atol: 1e-6, rtol: 1e-4 };
const NO_TARGET = 0xffffffff;
/** the serial and per-workgroup forms: the same combines in the same order, so the same bits on software adapters;
 * a hardware compiler may fuse each entry point's arithmetic differently */
const sameAs = (gpu: GpuRuntime): Tolerance => (gpu.adapter.isSoftware ? { atol: 0, rtol: 0 } : { atol: 1e-6, rtol: 1e-6 });

interface Case {
  name: string;
  n: number;
  v: number;
  temperature: number;
  logits: Float32Array;
  targets: Uint32Array;
}

function cases(): Case[] {
  const rng = new Rng(21);
  const out: Case[] = [];
  const add = (n: number, v: number, temperature: number, scale: number, note = '') => {
    const targets = randInts(n, rng, v);
    if (n > 2) targets[1] = NO_TARGET; // a row without a target: logp 0, zero gradient, entropy still computed
    out.push({ name: `N=${n} V=${v} T=${temperature}${note}`, n, v, temperature, logits: randn(n * v, rng, scale), targets });
  };
  add(1, 7, 1, 2);
  add(3, 513, 0.7, 3);
  add(6, 100, 1, 4);
  add(4, 5000, 1, 2);
  add(2, 5000, 0.7, 1);
  add(5, 1, 1, 1, ' (single-token rows)');
  // rows enough for the serial form (a row per invocation; software adapters' default from 128 rows of <= 1024)
  add(200, 48, 1, 3);
  add(130, 1000, 0.7, 2);
  // large magnitudes: rows around +80 and -80 and spanning both, at T = 0.7 (|z| up to ~150)
  const big: Case = { name: 'N=3 V=513 T=0.7 |logits|~80', n: 3, v: 513, temperature: 0.7, logits: new Float32Array(3 * 513), targets: randInts(3, rng, 513) };
  for (let j = 0; j < 513; j++) {
    big.logits[j] = 80 + 5 * rng.normal();
    big.logits[513 + j] = -80 + 5 * rng.normal();
    big.logits[2 * 513 + j] = 80 * (2 * rng.uniform() - 1);
  }
  out.push(big);
  // more rows than one dispatch dimension allows: the row index must use the y workgroup id
  add(65537, 3, 0.7, 1, ' (grid split)');
  return out;
}

async function forwardCase(gpu: GpuRuntime, c: Case): Promise<CaseResult> {
  const { n, v, temperature } = c;
  const tlogits = gpu.upload(c.logits, [n, v], 'logits');
  const ttargets = gpu.upload(c.targets, [n], 'targets', 'u32');
  const tlogp = gpu.tensor([n], 'logp');
  const tentropy = gpu.tensor([n], 'entropy');
  const tlse = gpu.tensor([n], 'lse');
  gpuK.logprobGatherForward(gpu, tlogp, tentropy, tlse, tlogits, ttargets, temperature);
  const logp = new Float32Array(n);
  const entropy = new Float32Array(n);
  const lse = new Float32Array(n);
  ref.logprobGatherForward(logp, entropy, lse, c.logits, c.targets, temperature, n, v);
  const got = [await gpu.read(tlogp), await gpu.read(tentropy), await gpu.read(tlse)];
  // each form forced (main_serial takes rows of at most 4 slices, so on hardware adapters only where V is short):
  // the same bits as the default on software adapters
  const forms: CaseResult[] = [];
  for (const serial of [true, false]) {
    gpuK.logprobGatherForward(gpu, tlogp, tentropy, tlse, tlogits, ttargets, temperature, serial);
    const form = serial ? 'serial' : 'a workgroup per row';
    forms.push(
      compare('logprob_gather_forward', c.name, `logp (${form})`, await gpu.read(tlogp), got[0], sameAs(gpu)),
      compare('logprob_gather_forward', c.name, `entropy (${form})`, await gpu.read(tentropy), got[1], sameAs(gpu)),
      compare('logprob_gather_forward', c.name, `lse (${form})`, await gpu.read(tlse), got[2], sameAs(gpu)),
    );
  }
  const result = merge([
    compare('logprob_gather_forward', c.name, 'logp', got[0], logp, FORWARD_TOL),
    compare('logprob_gather_forward', c.name, 'entropy', got[1], entropy, FORWARD_TOL),
    compare('logprob_gather_forward', c.name, 'lse', got[2], lse, FORWARD_TOL),
    ...forms,
  ]);
  gpu.release(tlogits, ttargets, tlogp, tentropy, tlse);
  return result;
}

async function backwardCase(gpu: GpuRuntime, c: Case, rng: Rng): Promise<CaseResult> {
  const { n, v, temperature } = c;
  const logp = new Float32Array(n);
  const entropy = new Float32Array(n);
  const lse = new Float32Array(n);
  ref.logprobGatherForward(logp, entropy, lse, c.logits, c.targets, temperature, n, v);
  const dlogp = randn(n, rng);
  const tlogits = gpu.upload(c.logits, [n, v], 'logits');
  const ttargets = gpu.upload(c.targets, [n], 'targets', 'u32');
  const tlse = gpu.upload(lse, [n], 'lse');
  const tdlogp = gpu.upload(dlogp, [n], 'dlogp');
  // start from garbage: the kernel overwrites every element
  const tdlogits = gpu.upload(randn(n * v, rng), [n, v], 'dlogits');
  gpuK.logprobGatherBackward(gpu, tdlogits, tdlogp, tlogits, ttargets, tlse, temperature);
  const dlogits = new Float32Array(n * v);
  ref.logprobGatherBackward(dlogits, dlogp, c.logits, c.targets, lse, temperature, n, v);
  const result = compare('logprob_gather_backward', c.name, 'dlogits', await gpu.read(tdlogits), dlogits, BACKWARD_TOL);
  gpu.release(tlogits, ttargets, tlse, tdlogp, tdlogits);
  return result;
}

/** Entropy of hand-made rows against -sum p log p written out from the probabilities themselves. */
async function entropyByHand(gpu: GpuRuntime): Promise<CaseResult> {
  const probs = [
    [0.1, 0.2, 0.3, 0.4, 0, 0, 0],
    [1 / 7, 1 / 7, 1 / 7, 1 / 7, 1 / 7, 1 / 7, 1 / 7],
    [0.97, 0.01, 0.01, 0.01, 0, 0, 0],
  ];
  const v = 7;
  const n = probs.length;
  const logits = new Float32Array(n * v);
  const want = new Float32Array(n);
  const wantLogp = new Float32Array(n);
  probs.forEach((row, i) => {
    let h = 0;
    row.forEach((pj, j) => {
      // "zero" probabilities as a logit 60 below the rest: exp(-60) ~ 1e-26, nothing in float32
      logits[i * v + j] = pj > 0 ? Math.log(pj) + 3 : Math.log(0.1) - 60;
      if (pj > 0) h -= pj * Math.log(pj);
    });
    want[i] = h;
    wantLogp[i] = Math.log(row[i]);
  });
  const targets = Uint32Array.from(probs.map((_, i) => i));
  const tlogits = gpu.upload(logits, [n, v], 'logits');
  const ttargets = gpu.upload(targets, [n], 'targets', 'u32');
  const tlogp = gpu.tensor([n], 'logp');
  const tentropy = gpu.tensor([n], 'entropy');
  const tlse = gpu.tensor([n], 'lse');
  gpuK.logprobGatherForward(gpu, tlogp, tentropy, tlse, tlogits, ttargets, 1);
  const result = merge([
    compare('logprob_gather_forward', 'hand-made rows', 'entropy', await gpu.read(tentropy), want, FORWARD_TOL),
    compare('logprob_gather_forward', 'hand-made rows', 'logp', await gpu.read(tlogp), wantLogp, FORWARD_TOL),
  ]);
  gpu.release(tlogits, ttargets, tlogp, tentropy, tlse);
  return result;
}

/** A case that passes when `f` throws a message matching `pattern` (wrong shapes must name the tensor). */
export function expectThrow(kernel: string, caseName: string, f: () => void, pattern: RegExp): CaseResult {
  let message = 'did not throw';
  try {
    f();
  } catch (e) {
    message = (e as Error).message;
    if (pattern.test(message)) return { kernel, case: caseName, ok: true, maxAbsErr: 0, mismatches: [] };
  }
  return { kernel, case: caseName, ok: false, maxAbsErr: 0, mismatches: [`${message} (want ${pattern})`] };
}

function shapeErrors(gpu: GpuRuntime): CaseResult[] {
  const logits = gpu.tensor([3, 5], 'logits');
  const targets = gpu.tensor([3], 'targets', 'u32');
  const floatTargets = gpu.tensor([3], 'targets');
  const three = gpu.tensor([3], 'three');
  const two = gpu.tensor([2], 'short');
  const k = 'logprob_gather_forward';
  const results = [
    expectThrow(k, 'lse of the wrong length', () => gpuK.logprobGatherForward(gpu, three, three, two, logits, targets, 1), /lse: expected 3 elements/),
    expectThrow(k, 'f32 targets', () => gpuK.logprobGatherForward(gpu, three, three, three, logits, floatTargets, 1), /targets: expected u32/),
    expectThrow(k, 'temperature 0', () => gpuK.logprobGatherForward(gpu, three, three, three, logits, targets, 0), /temperature/),
    expectThrow(k, 'dlogits of the wrong shape', () => gpuK.logprobGatherBackward(gpu, three, three, logits, targets, three, 1), /dlogits: expected the shape of logits/),
  ];
  gpu.release(logits, targets, floatTargets, three, two);
  return results;
}

export const checks: KernelCheck[] = [
  {
    kernel: 'logprob_gather_forward',
    async run(gpu) {
      const results: CaseResult[] = [];
      for (const c of cases()) results.push(await forwardCase(gpu, c));
      results.push(await entropyByHand(gpu));
      results.push(...shapeErrors(gpu));
      return results;
    },
  },
  {
    kernel: 'logprob_gather_backward',
    async run(gpu) {
      const rng = new Rng(22);
      const results: CaseResult[] = [];
      for (const c of cases()) results.push(await backwardCase(gpu, c, rng));
      return results;
    },
  },
];
