// The shared-prefix attention mask (AttentionSegments; shaders/lib/attention_segments.wgsl; packing in
// src/model/prefix_pack.ts): the CPU reference against each row attended alone and its backward against
// central finite differences; the direct kernels against the reference, forward and backward, over several
// key tiles, GQA, an empty prefix, padding and a sliding window (on positions); the tiled kernels refuse a mask.
import { describe, expect, test } from 'vitest';
import { attentionBackward, attentionForward, type AttentionDims } from '../src/gpu/kernels/attention';
import * as ref from '../src/reference/attention';
import { sharedPrefixHost } from '../src/model/prefix_pack';
import type { SequenceRow } from '../src/model/logprobs';
import { Rng, randn } from '../src/util/random';
import { centralDiff, dotLoss, mismatches } from './fd';
import { testGpu } from './gpu';

const rand64 = (n: number, rng: Rng) => Float64Array.from(randn(n, rng));

/** Rows of two groups: a prompt of 5 tokens with three completions, a prompt of 1 (empty prefix) with two. */
function groups(lengths: number[][], prompts: number[]): SequenceRow[] {
  const rows: SequenceRow[] = [];
  lengths.forEach((ls, g) => {
    const prompt = Array.from({ length: prompts[g] }, (_, i) => 10 * g + i + 1);
    for (const L of ls) rows.push({ prompt, completion: Array.from({ length: L }, (_, j) => 100 + j) });
  });
  return rows;
}

/** Gathers the (T, heads, HS) rows of packed row b at indices idx into a (1, idx.length, heads, HS) array. */
function gather(x: Float64Array | Float32Array, T: number, heads: number, HS: number, b: number, idx: number[]): Float64Array {
  const w = heads * HS;
  const out = new Float64Array(idx.length * w);
  idx.forEach((t, i) => out.set(x.subarray((b * T + t) * w, (b * T + t + 1) * w), i * w));
  return out;
}

describe('shared-prefix attention mask: reference', () => {
  test.each([0, 3])('each segment token attends as its row alone would (out and lse), window %i', (window) => {
    const rng = new Rng(5);
    const rows = groups([[6, 3, 4], [5, 2]], [5, 1]);
    const h = sharedPrefixHost(rows, 1000);
    const d: AttentionDims = { B: h.B, T: h.T, NH: 4, NKV: 2, HS: 4, window };
    const nq = d.B * d.T * d.NH * d.HS;
    const nkv = d.B * d.T * d.NKV * d.HS;
    const q = rand64(nq, rng);
    const k = rand64(nkv, rng);
    const v = rand64(nkv, rng);
    const out = new Float64Array(nq);
    const lse = new Float64Array(d.B * d.NH * d.T);
    ref.attentionForward(out, lse, q, k, v, d, h.segments);
    let worst = 0;
    rows.forEach((r, i) => {
      const b = h.row[i];
      const pe = r.prompt.length - 1;
      // the row alone: the prefix's indices, then its segment's
      const idx = [...Array.from({ length: pe }, (_, t) => t), ...Array.from({ length: r.completion.length + 1 }, (_, j) => h.start[i] + j)];
      const dr = { ...d, B: 1, T: idx.length };
      const o1 = new Float64Array(idx.length * d.NH * d.HS);
      const l1 = new Float64Array(d.NH * idx.length);
      ref.attentionForward(o1, l1, gather(q, d.T, d.NH, d.HS, b, idx), gather(k, d.T, d.NKV, d.HS, b, idx), gather(v, d.T, d.NKV, d.HS, b, idx), dr);
      idx.forEach((t, n) => {
        for (let c = 0; c < d.NH * d.HS; c++) worst = Math.max(worst, Math.abs(out[(b * d.T + t) * d.NH * d.HS + c] - o1[n * d.NH * d.HS + c]));
        for (let hh = 0; hh < d.NH; hh++) worst = Math.max(worst, Math.abs(lse[(b * d.NH + hh) * d.T + t] - l1[hh * idx.length + n]));
      });
    });
    expect(worst).toBeLessThan(1e-12);
    // the mask matters: plain causal attention over the packed row differs
    const plain = new Float64Array(nq);
    ref.attentionForward(plain, new Float64Array(d.B * d.NH * d.T), q, k, v, { ...d, window: 0 }, h.segments);
    if (window) expect(Math.max(...plain.map((x, i) => Math.abs(x - out[i])))).toBeGreaterThan(1e-3); // the window matters
    ref.attentionForward(plain, new Float64Array(d.B * d.NH * d.T), q, k, v, d);
    expect(Math.max(...plain.map((x, i) => Math.abs(x - out[i])))).toBeGreaterThan(1e-3);
  });

  test.each([0, 2])('the backward with the mask equals central differences of the forward, window %i', (window) => {
    const rng = new Rng(9);
    const rows = groups([[2, 3], [3]], [3, 2]);
    const h = sharedPrefixHost(rows, 1000);
    const d: AttentionDims = { B: h.B, T: h.T, NH: 2, NKV: 1, HS: 4, window };
    const nq = d.B * d.T * d.NH * d.HS;
    const nkv = d.B * d.T * d.NKV * d.HS;
    const q = rand64(nq, rng);
    const k = rand64(nkv, rng);
    const v = rand64(nkv, rng);
    const G = rand64(nq, rng);
    const out = new Float64Array(nq);
    const lse = new Float64Array(d.B * d.NH * d.T);
    const f = () => {
      ref.attentionForward(out, lse, q, k, v, d, h.segments);
      return dotLoss(out, G);
    };
    f();
    const dq = new Float64Array(nq);
    const dk = new Float64Array(nkv);
    const dv = new Float64Array(nkv);
    ref.attentionBackward(dq, dk, dv, G, q, k, v, out, lse, d, h.segments);
    expect(mismatches(dq, centralDiff(f, q, 1e-5), 1e-7, 1e-6, 'dq')).toBe('');
    expect(mismatches(dk, centralDiff(f, k, 1e-5), 1e-7, 1e-6, 'dk')).toBe('');
    expect(mismatches(dv, centralDiff(f, v, 1e-5), 1e-7, 1e-6, 'dv')).toBe('');
  });
});

describe('shared-prefix attention mask: direct kernels', () => {
  // HS 8: 16 keys (rows) per tile. Two packed rows of different prefixes (one empty) over three tiles; then one
  // group of long segments, whose blocks skip the key tiles (row tiles) inside every row's masked hole
  const cases: [string, SequenceRow[], number, number][] = [
    ['two groups, T = 40', groups([[12, 9, 6], [10, 3]], [5, 1]), 40, 0],
    ['long segments, masked tiles skipped, T = 152', groups([[40, 37, 45]], [21]), 152, 0],
    ['two groups, sliding window 7 on positions', groups([[12, 9, 6], [10, 3]], [5, 1]), 40, 7],
    ['long segments, sliding window 24 on positions', groups([[40, 37, 45]], [21]), 152, 24],
  ];
  test.each(cases)('forward and backward against the reference: %s', async (name, rows, wantT, window) => {
    const h = sharedPrefixHost(rows, 1000);
    const d: AttentionDims = { B: h.B, T: h.T, NH: 4, NKV: 2, HS: 8, window };
    expect(h.T).toBe(wantT);
    const gpu = await testGpu();
    const rng = new Rng(17);
    const nq = d.B * d.T * d.NH * d.HS;
    const nkv = d.B * d.T * d.NKV * d.HS;
    const q = Float32Array.from(randn(nq, rng));
    const k = Float32Array.from(randn(nkv, rng));
    const v = Float32Array.from(randn(nkv, rng));
    const dout = Float32Array.from(randn(nq, rng));
    const out = new Float64Array(nq);
    const lse = new Float64Array(d.B * d.NH * d.T);
    ref.attentionForward(out, lse, q, k, v, d, h.segments);
    const dq = new Float64Array(nq);
    const dk = new Float64Array(nkv);
    const dv = new Float64Array(nkv);
    ref.attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, d, h.segments);

    const up = (x: Float32Array, label: string) => gpu.upload(x, [x.length], label);
    const tq = up(q, 'q');
    const tk = up(k, 'k');
    const tv = up(v, 'v');
    const tdout = up(dout, 'dout');
    const seg = gpu.upload(h.segments, [h.segments.length], 'segments');
    const gOut = gpu.tensor([nq], 'out');
    const gLse = gpu.tensor([d.B * d.NH * d.T], 'lse');
    attentionForward(gpu, gOut, gLse, tq, tk, tv, d, null, seg);
    const gdq = gpu.tensor([nq], 'dq');
    const gdk = gpu.tensor([nkv], 'dk');
    const gdv = gpu.tensor([nkv], 'dv');
    attentionBackward(gpu, gdq, gdk, gdv, tdout, tq, tk, tv, gOut, gLse, d, null, seg);
    const [o, l, a, bk, bv] = [await gpu.read(gOut), await gpu.read(gLse), await gpu.read(gdq), await gpu.read(gdk), await gpu.read(gdv)];
    expect(mismatches(o, out, 1e-5, 1e-4, 'out')).toBe('');
    expect(mismatches(l, lse, 1e-5, 1e-4, 'lse')).toBe('');
    expect(mismatches(a, dq, 1e-5, 1e-4, 'dq')).toBe('');
    expect(mismatches(bk, dk, 1e-5, 1e-4, 'dk')).toBe('');
    expect(mismatches(bv, dv, 1e-5, 1e-4, 'dv')).toBe('');
    const maxDiff = (x: Float32Array, y: Float64Array) => Math.max(...x.map((e, i) => Math.abs(e - y[i])));
    console.log(`segmented attention vs reference (${name}), max |diff|: out ${maxDiff(o, out).toExponential(2)} lse ${maxDiff(l, lse).toExponential(2)} dq ${maxDiff(a, dq).toExponential(2)} dk ${maxDiff(bk, dk).toExponential(2)} dv ${maxDiff(bv, dv).toExponential(2)}`);

    // the forced tiled kernels refuse the mask
    expect(() => attentionForward(gpu, gOut, gLse, tq, tk, tv, d, 'tiled_16k', seg)).toThrow(/do not support a shared-prefix mask/);
    gpu.release(tq, tk, tv, tdout, seg, gOut, gLse, gdq, gdk, gdv);
  });
});
