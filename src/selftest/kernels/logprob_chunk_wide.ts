// The wide log-prob chunk kernels (src/gpu/kernels/logprob_chunk_wide.ts) forced: `logprob_chunk [wide]`,
// forward and backward against the CPU reference and against the row kernels, on vocabularies split into
// chunks (the last one narrower), targets in every chunk and none, two temperatures, and the vocabulary
// sizes the variant is for (49152, 151936) with few rows.
import * as gpuK from '../../gpu/kernels/logprob_chunk';
import type { LogprobChunkVariant } from '../../gpu/kernels/logprob_chunk_wide';
import * as ref from '../../reference/logprob_chunk';
import { compare, merge, type KernelCheck, type CaseResult, type Tolerance } from '../check';
import type { GpuRuntime } from '../../gpu/runtime';
import { Rng, randInts, randn } from '../../util/random';

// as the row kernels' check
const FORWARD_TOL: Tolerance = { atol: 1e-4, rtol: 1e-5 };
const BACKWARD_TOL: Tolerance = { atol: 1e-6, rtol: 1e-4 };

interface Case {
  name: string;
  n: number;
  v: number;
  vc: number;
  temperature: number;
  scale: number;
}

/** (n, v, vc): one segment per row, several, a last chunk narrower than the others, whole rows. */
const CASES: Case[] = [
  { name: 'N=3 V=12 vc=8', n: 3, v: 12, vc: 8, temperature: 1, scale: 2 },
  { name: 'N=5 V=1000 vc=256', n: 5, v: 1000, vc: 256, temperature: 0.7, scale: 3 },
  { name: 'N=2 V=5000 vc=1024', n: 2, v: 5000, vc: 1024, temperature: 1, scale: 8 },
  { name: 'N=4 V=49152 vc=16384', n: 4, v: 49152, vc: 16384, temperature: 1, scale: 3 },
  { name: 'N=2 V=151936 vc=37984', n: 2, v: 151936, vc: 37984, temperature: 0.9, scale: 4 },
  { name: 'N=3 V=3000 vc=3000', n: 3, v: 3000, vc: 3000, temperature: 1, scale: 2 },
];

function slice(logits: Float32Array, n: number, v: number, v0: number, vc: number): Float32Array {
  const out = new Float32Array(n * vc);
  for (let r = 0; r < n; r++) out.set(logits.subarray(r * v + v0, r * v + v0 + vc), r * vc);
  return out;
}

async function runCase(gpu: GpuRuntime, c: Case, rng: Rng): Promise<CaseResult[]> {
  const kernel = 'logprob_chunk [wide]';
  const { n, v, temperature } = c;
  const logits = randn(n * v, rng, c.scale);
  const tg = randInts(n, rng, v);
  if (n > 2) tg[1] = 0xffffffff; // a row without a target: logp 0, zero gradient
  tg[0] = v - 1; // a target in the last chunk
  const targets = gpu.upload(tg, [n], 'targets', 'u32');
  const dlogp = randn(n, rng);
  const tdlogp = gpu.upload(dlogp, [n], 'dlogp');
  const chunks: { v0: number; vc: number; data: Float32Array }[] = [];
  for (let v0 = 0; v0 < v; v0 += c.vc) {
    const vc = Math.min(c.vc, v - v0);
    chunks.push({ v0, vc, data: slice(logits, n, v, v0, vc) });
  }
  const run = async (variant: LogprobChunkVariant) => {
    const logp = gpu.tensor([n], 'logp');
    const entropy = gpu.tensor([n], 'entropy');
    const lse = gpu.tensor([n], 'lse');
    const state = gpu.upload(randn(4 * n, rng), [n, 4], 'state'); // garbage: the first chunk resets it
    const dchunks: Float32Array[] = [];
    for (const ch of chunks) {
      const t = gpu.upload(ch.data, [n, ch.vc], 'logits.chunk');
      gpuK.logprobChunkForward(gpu, logp, entropy, lse, state, t, targets, { v0: ch.v0, v }, temperature, variant);
      gpu.release(t);
    }
    for (const ch of chunks) {
      const t = gpu.upload(ch.data, [n, ch.vc], 'logits.chunk');
      const dt = gpu.upload(randn(n * ch.vc, rng), [n, ch.vc], 'dchunk'); // overwritten
      gpuK.logprobChunkBackward(gpu, dt, tdlogp, t, targets, lse, { v0: ch.v0, v }, temperature, variant);
      dchunks.push(await gpu.read(dt));
      gpu.release(t, dt);
    }
    const result = { logp: await gpu.read(logp), entropy: await gpu.read(entropy), lse: await gpu.read(lse), dchunks };
    gpu.release(logp, entropy, lse, state);
    return result;
  };
  const wide = await run('wide');
  const row = await run('row');
  gpu.release(targets, tdlogp);

  const logp = new Float32Array(n);
  const entropy = new Float32Array(n);
  const lse = new Float32Array(n);
  const state = new Float32Array(4 * n);
  for (const ch of chunks) ref.logprobChunkForward(logp, entropy, lse, state, ch.data, tg, ch.v0, v, temperature, n, ch.vc);
  const results = [
    compare(kernel, c.name, 'logp', wide.logp, logp, FORWARD_TOL),
    compare(kernel, c.name, 'entropy', wide.entropy, entropy, FORWARD_TOL),
    compare(kernel, c.name, 'lse', wide.lse, lse, FORWARD_TOL),
    compare(kernel, `${c.name} against row`, 'lse', wide.lse, row.lse, FORWARD_TOL),
    compare(kernel, `${c.name} against row`, 'entropy', wide.entropy, row.entropy, FORWARD_TOL),
  ];
  // the backward reference takes the variant's own lse, so that it checks the backward alone
  chunks.forEach((ch, i) => {
    const want = new Float32Array(n * ch.vc);
    ref.logprobChunkBackward(want, dlogp, ch.data, tg, wide.lse, ch.v0, v, temperature, n, ch.vc);
    results.push(compare(kernel, `${c.name} v0=${ch.v0}`, 'dchunk', wide.dchunks[i], want, BACKWARD_TOL));
  });
  return [merge(results)];
}

export const check: KernelCheck = {
  kernel: 'logprob_chunk [wide]',
  async run(gpu) {
    const rng = new Rng(23);
    const out: CaseResult[] = [];
    for (const c of CASES) out.push(...(await runCase(gpu, c, rng)));
    return out;
  },
};
