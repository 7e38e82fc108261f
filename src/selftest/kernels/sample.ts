import * as gpuK from '../../gpu/kernels/sample';
import type { GpuRuntime } from '../../gpu/runtime';
import * as ref from '../../reference/sample';
import type { CaseResult, KernelCheck } from '../check';
import { Rng, randn } from '../../util/random';

// GPU and CPU ids must be identical. The one allowed exception is a rounding boundary case, where the
// f32 sums of the GPU (chunks of <= 16 weights, an 8-level scan, exp within a few ulp) and the float64
// sums of the reference may settle differently: the uniform lies within BOUNDARY of the edge of the
// GPU's token's CDF interval, or the top-p mass lies within BOUNDARY of topP * mass. Those are
// counted in the case name and must stay rare (at most 1 in 50 rows).
const BOUNDARY = 1e-5;

async function gpuSample(gpu: GpuRuntime, logits: Float32Array, B: number, V: number, opts: gpuK.SampleOptions): Promise<Uint32Array> {
  const tl = gpu.upload(logits, [B, V], 'logits');
  const ti = gpu.tensor([opts.rowIndex && opts.rowCounters ? 2 * B : B], 'ids', 'u32');
  gpuK.sample(gpu, ti, tl, opts);
  const ids = await gpu.readU32(ti, B);
  gpu.release(tl, ti);
  return ids;
}

function describe(opts: gpuK.SampleOptions): string {
  return `T=${opts.temperature} topK=${opts.topK} topP=${opts.topP} seed=${opts.seed} counter=${opts.counter}`;
}

/** GPU ids against the reference, row by row, allowing only explained boundary cases. */
function judge(caseName: string, got: Uint32Array, logits: Float32Array, B: number, V: number, opts: gpuK.SampleOptions): CaseResult {
  const mismatches: string[] = [];
  let boundary = 0;
  for (let b = 0; b < B; b++) {
    const trace = ref.sampleRow(logits.subarray(b * V, (b + 1) * V), opts, b);
    if (got[b] === trace.id) continue;
    const dist = ref.boundaryDistance(trace, got[b]);
    if (dist < BOUNDARY || trace.topPMargin < BOUNDARY) {
      boundary++;
    } else if (mismatches.length < 5) {
      mismatches.push(`ids[${b}] got ${got[b]} want ${trace.id} (u ${trace.u}, distance ${dist}, top-p margin ${trace.topPMargin})`);
    }
  }
  if (boundary > Math.max(1, B / 50)) mismatches.push(`${boundary} boundary cases in ${B} rows is too many`);
  return {
    kernel: 'sample',
    case: `${caseName} ${describe(opts)} B=${B} V=${V}${boundary ? ` (${boundary} boundary cases)` : ''}`,
    ok: mismatches.length === 0,
    maxAbsErr: mismatches.length ? Infinity : 0,
    mismatches,
  };
}

function expectEqualIds(caseName: string, got: Uint32Array, want: ArrayLike<number>): CaseResult {
  const mismatches: string[] = [];
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i] && mismatches.length < 5) mismatches.push(`ids[${i}] got ${got[i]} want ${want[i]}`);
  }
  return { kernel: 'sample', case: caseName, ok: mismatches.length === 0, maxAbsErr: mismatches.length ? Infinity : 0, mismatches };
}

const matchesReference: KernelCheck = {
  kernel: 'sample',
  async run(gpu) {
    const rng = new Rng(5);
    const results: CaseResult[] = [];

    // greedy: argmax with the lowest index on ties (row 0 has its maximum twice, row 1 is constant)
    for (const V of [1, 7, 300, 1000]) {
      const B = 5;
      const logits = randn(B * V, rng, 2);
      if (V > 3) {
        logits[3] = 10;
        logits[V - 1] = 10;
      }
      logits.fill(-1.5, V, 2 * V);
      const opts = { temperature: 0, topK: 0, topP: 1, seed: 0, counter: 0 };
      const got = await gpuSample(gpu, logits, B, V, opts);
      const want = new Uint32Array(B);
      ref.sample(want, logits, opts, B, V);
      const r = expectEqualIds(`greedy B=${B} V=${V}`, got, want);
      if (V > 3 && got[0] !== 3) r.mismatches.push(`tied maximum: ids[0] = ${got[0]}, want the lowest index 3`);
      if (got[1] !== 0) r.mismatches.push(`constant row: ids[1] = ${got[1]}, want 0`);
      r.ok = r.mismatches.length === 0;
      results.push(r);
    }

    // sampling: every row against the reference, each setting under its own (seed, counter) pairs.
    // V = 257 and 1000 run 64 and 128 invocations per row; V = 2100 and the vocabulary-sized case below
    // run 256 (sampleWorkgroupSize).
    const settings: [number, number, number][] = [
      // [temperature, topK, topP]
      [1.0, 0, 1],
      [0.7, 0, 1],
      [0.7, 5, 1],
      [1.0, 0, 0.9],
      [0.7, 0, 0.9],
      [1.0, 5, 0.9],
      [0.7, 40, 0.95],
    ];
    const pairs: [number, number][] = [];
    for (let i = 0; i < 2 * settings.length; i++) pairs.push([i === 0 ? 0 : rng.int(2 ** 31), i === 1 ? 2 ** 33 + 5 : rng.int(1000)]);
    pairs.push([2 ** 40 + 3, 0]);
    for (const [V, B] of [[257, 12], [1000, 12], [2100, 3]]) {
      const logits = randn(B * V, rng, 2.5);
      for (const [si, [temperature, topK, topP]] of settings.entries()) {
        const mine = V === 2100 ? [pairs[pairs.length - 1]] : [pairs[2 * si], pairs[2 * si + 1]];
        for (const [seed, counter] of mine) {
          const opts = { temperature, topK, topP, seed, counter };
          results.push(judge('sample', await gpuSample(gpu, logits, B, V, opts), logits, B, V, opts));
        }
      }
      // top-k 1 is greedy (random logits have no ties)
      const greedy = await gpuSample(gpu, logits, B, V, { temperature: 0, topK: 0, topP: 1, seed: 0, counter: 0 });
      const top1 = await gpuSample(gpu, logits, B, V, { temperature: 0.7, topK: 1, topP: 1, seed: 9, counter: 3 });
      results.push(expectEqualIds(`topK=1 equals greedy V=${V}`, top1, greedy));
    }

    // per-row counters (multi-turn decoding): each row draws with the low counter word plus its own offset
    // (mod 2^32, so offsets near 2^32 wrap); a row's id must not depend on the other rows' offsets
    {
      const B = 12;
      const V = 257;
      const logits = randn(B * V, rng, 2.5);
      const offsets = Array.from({ length: B }, (_, b) => (b === 0 ? 0 : b === 1 ? 0xffffffff : rng.int(2 ** 31)));
      for (const [temperature, topK, topP] of [[1.0, 0, 1], [0.7, 5, 0.9]] as const) {
        const opts = { temperature, topK, topP, seed: 11, counter: 2 ** 32 + 7, rowCounters: offsets };
        const got = await gpuSample(gpu, logits, B, V, opts);
        results.push(judge('per-row counters', got, logits, B, V, opts));
        const shifted = await gpuSample(gpu, logits, B, V, { ...opts, rowCounters: offsets.map((o, b) => (b % 2 ? o : (o + 1) >>> 0)) });
        const r = expectEqualIds(`per-row counters: odd rows keep their ids when even rows move T=${temperature}`, shifted.filter((_, b) => b % 2 === 1), got.filter((_, b) => b % 2 === 1));
        results.push(r);
      }
    }

    // row words (finished rows leaving a decode batch): slot i draws as row rowIndex[i] of the full batch
    {
      const B = 12;
      const V = 257;
      const logits = randn(B * V, rng, 2.5);
      const opts = { temperature: 1.0, topK: 0, topP: 0.95, seed: 13, counter: 5 };
      const full = await gpuSample(gpu, logits, B, V, opts);
      const keep = [11, 2, 7, 5];
      const sub = new Float32Array(keep.length * V);
      keep.forEach((r, i) => sub.set(logits.subarray(r * V, r * V + V), i * V));
      const rowOpts = { ...opts, rowIndex: keep };
      const got = await gpuSample(gpu, sub, keep.length, V, rowOpts);
      results.push(judge('row words', got, sub, keep.length, V, rowOpts));
      results.push(expectEqualIds('row words: compacted rows draw as in the full batch', got, keep.map((r) => full[r])));
    }

    // row words and per-row counters together (continuous batching: rows that joined the batch at different
    // steps): slot i draws as row rowIndex[i] at its own counter; equal to each row drawn alone at that counter
    {
      const B = 12;
      const V = 257;
      const logits = randn(B * V, rng, 2.5);
      const base = { temperature: 1.0, topK: 0, topP: 0.95, seed: 17, counter: 6 };
      const words = [40, 3, 7, 5, 100, 0, 9, 1, 2, 64, 8, 11];
      const offsets = words.map((_, b) => (b === 1 ? 0xffffffff : b % 3));
      const opts = { ...base, rowIndex: words, rowCounters: offsets };
      const got = await gpuSample(gpu, logits, B, V, opts);
      results.push(judge('row words and per-row counters', got, logits, B, V, opts));
      const alone: number[] = [];
      for (let b = 0; b < B; b++) {
        const one = await gpuSample(gpu, logits.subarray(b * V, b * V + V), 1, V, { ...base, counter: (base.counter + offsets[b]) % 2 ** 32, rowIndex: [words[b]] });
        alone.push(one[0]);
      }
      results.push(expectEqualIds('row words and counters: each slot draws as its row alone at its counter', got, Uint32Array.from(alone)));
    }

    // masked logits (-3e38, as large finite values) are never drawn, also at temperatures below 1
    {
      const B = 12;
      const V = 300;
      const logits = randn(B * V, rng, 2);
      for (let i = 0; i < B * V; i++) if (rng.uniform() < 0.5) logits[i] = -3.0e38;
      for (const opts of [
        { temperature: 0.5, topK: 0, topP: 1, seed: 21, counter: 1 },
        { temperature: 1.0, topK: 0, topP: 0.9, seed: 22, counter: 2 },
        { temperature: 0.7, topK: 200, topP: 1, seed: 23, counter: 3 },
      ]) {
        const got = await gpuSample(gpu, logits, B, V, opts);
        const r = judge('masked half of the vocabulary', got, logits, B, V, opts);
        got.forEach((id, b) => {
          if (logits[b * V + id] === -3.0e38) r.mismatches.push(`ids[${b}] = ${id} is a masked token`);
        });
        r.ok = r.mismatches.length === 0;
        results.push(r);
      }
    }

    // the same (seed, counter) reproduces the draw; the next counter draws afresh
    {
      const B = 64;
      const V = 500;
      const logits = randn(B * V, rng, 0.5);
      const opts = { temperature: 1, topK: 0, topP: 1, seed: 77, counter: 41 };
      const a = await gpuSample(gpu, logits, B, V, opts);
      const b = await gpuSample(gpu, logits, B, V, opts);
      const c = await gpuSample(gpu, logits, B, V, { ...opts, counter: 42 });
      const d = await gpuSample(gpu, logits, B, V, { ...opts, seed: 78 });
      const r = expectEqualIds('same seed and counter reproduce the ids', b, a);
      // near-uniform over 500 tokens: two independent draws agree with probability ~1/400 per row
      const sameC = a.filter((id, i) => id === c[i]).length;
      const sameD = a.filter((id, i) => id === d[i]).length;
      if (sameC > 4) r.mismatches.push(`counter 42 repeats ${sameC} of ${B} ids of counter 41`);
      if (sameD > 4) r.mismatches.push(`seed 78 repeats ${sameD} of ${B} ids of seed 77`);
      r.ok = r.mismatches.length === 0;
      results.push(r);
      results.push(judge('sample', c, logits, B, V, { ...opts, counter: 42 }));
    }

    // a real vocabulary size (Qwen2.5, V = 151936): many elements per invocation
    {
      const B = 2;
      const V = 151936;
      const logits = randn(B * V, rng, 3);
      for (const opts of [
        { temperature: 0, topK: 0, topP: 1, seed: 0, counter: 0 },
        { temperature: 0.8, topK: 50, topP: 0.9, seed: 3, counter: 11 },
        { temperature: 1.0, topK: 0, topP: 1, seed: 4, counter: 12 },
      ]) {
        results.push(judge('sample', await gpuSample(gpu, logits, B, V, opts), logits, B, V, opts));
      }
    }
    return results;
  },
};

/** Exact distribution of the kept, renormalised softmax, computed directly (by sorting) in float64. */
function truncatedSoftmax(x: number[], temperature: number, topK: number, topP: number): number[] {
  const V = x.length;
  const z = x.map((xi) => xi / temperature);
  const order = [...z.keys()].sort((a, b) => z[b] - z[a]);
  const keep = new Set(order.slice(0, topK > 0 ? Math.min(topK, V) : V));
  const zmax = z[order[0]];
  const total = [...keep].reduce((s, i) => s + Math.exp(z[i] - zmax), 0);
  if (topP < 1) {
    let cum = 0;
    const nucleus = new Set<number>();
    for (const i of order) {
      if (!keep.has(i) || cum >= topP) continue;
      nucleus.add(i);
      cum += Math.exp(z[i] - zmax) / total;
    }
    keep.clear();
    for (const i of nucleus) keep.add(i);
  }
  const w = z.map((zi, i) => (keep.has(i) ? Math.exp(zi - zmax) : 0));
  const sum = w.reduce((s, v) => s + v, 0);
  return w.map((v) => v / sum);
}

const statistics: KernelCheck = {
  kernel: 'sample_statistics',
  async run(gpu) {
    // Fixed logits over V = 8, 4000 rows drawn in one batch (the row index is part of the Philox counter).
    // Each token's count must lie within 4.5 standard errors of n * p; dropped tokens must never appear.
    const x = [1.0, 0.5, 2.0, -1.0, 0.0, 1.5, -0.5, 0.8];
    const V = x.length;
    const B = 4000;
    const logits = new Float32Array(B * V);
    for (let b = 0; b < B; b++) logits.set(x, b * V);
    const results: CaseResult[] = [];
    const settings: [number, number, number][] = [
      [1.0, 0, 1],
      [0.7, 3, 1],
      [1.0, 0, 0.9],
      [0.7, 5, 0.8],
    ];
    for (const [i, [temperature, topK, topP]] of settings.entries()) {
      const opts = { temperature, topK, topP, seed: 1000 + i, counter: 5 };
      const ids = await gpuSample(gpu, logits, B, V, opts);
      const counts = new Array<number>(V).fill(0);
      for (const id of ids) counts[id] = (counts[id] ?? 0) + 1;
      const p = truncatedSoftmax(x, temperature, topK, topP);
      const mismatches: string[] = [];
      for (let v = 0; v < V; v++) {
        const mean = B * p[v];
        const se = Math.sqrt(B * p[v] * (1 - p[v]));
        const ok = p[v] === 0 ? counts[v] === 0 : Math.abs(counts[v] - mean) <= 4.5 * se;
        if (!ok) mismatches.push(`token ${v}: ${counts[v]} draws, want ${mean.toFixed(1)} +- ${(4.5 * se).toFixed(1)}`);
      }
      const caseName = `${describe(opts)} counts [${counts.join(', ')}] vs p [${p.map((q) => q.toFixed(3)).join(', ')}]`;
      results.push({ kernel: 'sample_statistics', case: caseName, ok: mismatches.length === 0, maxAbsErr: 0, mismatches });
      results.push(judge('sample', ids, logits, B, V, opts));
    }
    return results;
  },
};

export const checks: KernelCheck[] = [matchesReference, statistics];
