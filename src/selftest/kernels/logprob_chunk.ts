// logprob_chunk_forward / _backward against their CPU references: a vocabulary split into chunks of
// different widths (the last one narrower), targets in every chunk and none, two temperatures.
import * as gpuK from '../../gpu/kernels/logprob_chunk';
import * as ref from '../../reference/logprob_chunk';
import { compare, merge, type KernelCheck, type CaseResult, type Tolerance } from '../check';
import type { GpuRuntime } from '../../gpu/runtime';
import { Rng, randInts, randn } from '../../util/random';

const FORWARD_TOL: Tolerance = { atol: 1e-4, rtol: 1e-5 };
const BACKWARD_TOL: Tolerance = { atol: 1e-6, rtol: 1e-4 };

interface Case {
  name: string;
  n: number;
  v: number;
  vc: number;
  temperature: number;
  logits: Float32Array; // (n, v)
  targets: Uint32Array;
}

function cases(): Case[] {
  const rng = new Rng(77);
  const out: Case[] = [];
  const add = (n: number, v: number, vc: number, temperature: number, scale: number) => {
    const targets = randInts(n, rng, v);
    if (n > 2) targets[1] = 0xffffffff; // a row without a target: logp 0, zero gradient
    out.push({ name: `N=${n} V=${v} vc=${vc} T=${temperature}`, n, v, vc, temperature, logits: randn(n * v, rng, scale), targets });
  };
  add(3, 10, 4, 1, 2);
  add(5, 1000, 256, 0.7, 3);
  add(4, 777, 777, 1, 2);
  add(2, 5000, 1024, 1, 8);
  return out;
}

/** Columns [v0, v0 + vc) of (n, v) logits as an (n, vc) array. */
function slice(c: Case, v0: number, vc: number): Float32Array {
  const out = new Float32Array(c.n * vc);
  for (let r = 0; r < c.n; r++) out.set(c.logits.subarray(r * c.v + v0, r * c.v + v0 + vc), r * vc);
  return out;
}

async function runCase(gpu: GpuRuntime, c: Case, rng: Rng): Promise<CaseResult> {
  const { n, v, temperature } = c;
  const targets = gpu.upload(c.targets, [n], 'targets', 'u32');
  const tlogp = gpu.tensor([n], 'logp');
  const tentropy = gpu.tensor([n], 'entropy');
  const tlse = gpu.tensor([n], 'lse');
  const tstate = gpu.upload(randn(4 * n, rng), [n, 4], 'state'); // garbage: the first chunk resets it
  const logp = new Float32Array(n);
  const entropy = new Float32Array(n);
  const lse = new Float32Array(n);
  const state = new Float32Array(4 * n);
  for (let v0 = 0; v0 < v; v0 += c.vc) {
    const vc = Math.min(c.vc, v - v0);
    const chunk = slice(c, v0, vc);
    const tchunk = gpu.upload(chunk, [n, vc], 'logits.chunk');
    gpuK.logprobChunkForward(gpu, tlogp, tentropy, tlse, tstate, tchunk, targets, { v0, v }, temperature);
    ref.logprobChunkForward(logp, entropy, lse, state, chunk, c.targets, v0, v, temperature, n, vc);
    gpu.release(tchunk);
  }
  const results = [
    compare('logprob_chunk_forward', c.name, 'logp', await gpu.read(tlogp), logp, FORWARD_TOL),
    compare('logprob_chunk_forward', c.name, 'entropy', await gpu.read(tentropy), entropy, FORWARD_TOL),
    compare('logprob_chunk_forward', c.name, 'lse', await gpu.read(tlse), lse, FORWARD_TOL),
  ];
  const dlogp = randn(n, rng);
  const tdlogp = gpu.upload(dlogp, [n], 'dlogp');
  const tlseRef = gpu.upload(lse, [n], 'lse');
  for (let v0 = 0; v0 < v; v0 += c.vc) {
    const vc = Math.min(c.vc, v - v0);
    const chunk = slice(c, v0, vc);
    const tchunk = gpu.upload(chunk, [n, vc], 'logits.chunk');
    const tdchunk = gpu.upload(randn(n * vc, rng), [n, vc], 'dchunk'); // overwritten
    gpuK.logprobChunkBackward(gpu, tdchunk, tdlogp, tchunk, targets, tlseRef, { v0, v }, temperature);
    const dchunk = new Float32Array(n * vc);
    ref.logprobChunkBackward(dchunk, dlogp, chunk, c.targets, lse, v0, v, temperature, n, vc);
    results.push(compare('logprob_chunk_backward', `${c.name} v0=${v0}`, 'dchunk', await gpu.read(tdchunk), dchunk, BACKWARD_TOL));
    gpu.release(tchunk, tdchunk);
  }
  gpu.release(targets, tlogp, tentropy, tlse, tstate, tdlogp, tlseRef);
  return merge(results);
}

export const check: KernelCheck = {
  kernel: 'logprob_chunk',
  async run(gpu) {
    const rng = new Rng(5);
    const out: CaseResult[] = [];
    for (const c of cases()) out.push(await runCase(gpu, c, rng));
    return out;
  },
};
