// The attention references: a forward by hand, grouped-query attention against multi-head attention on
// repeated k/v heads, the backward against finite differences, and decoding from a KV cache against the
// forward's rows.
import { describe, expect, test } from 'vitest';
import { attentionBackward, attentionForward } from '../../src/reference/attention';
import { attentionDecode, kvCacheWrite } from '../../src/reference/attention_decode';
import { Rng, randn } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

type Dims = { B: number; T: number; NH: number; NKV: number; HS: number };

const rand64 = (n: number, rng: Rng) => Float64Array.from(randn(n, rng));

/** k or v (B, T, NKV, HS) with each kv head repeated G times: (B, T, NKV * G, HS). */
function repeatHeads(x: Float64Array, d: Dims): Float64Array {
  const G = d.NH / d.NKV;
  const r = new Float64Array(d.B * d.T * d.NH * d.HS);
  for (let bt = 0; bt < d.B * d.T; bt++) {
    for (let h = 0; h < d.NH; h++) {
      const src = (bt * d.NKV + Math.floor(h / G)) * d.HS;
      r.set(x.subarray(src, src + d.HS), (bt * d.NH + h) * d.HS);
    }
  }
  return r;
}

/** Sums dk or dv of repeated heads (B, T, NH, HS) back over each group: (B, T, NKV, HS). */
function sumGroups(x: Float64Array, d: Dims): Float64Array {
  const G = d.NH / d.NKV;
  const r = new Float64Array(d.B * d.T * d.NKV * d.HS);
  for (let bt = 0; bt < d.B * d.T; bt++) {
    for (let h = 0; h < d.NH; h++) {
      const dst = (bt * d.NKV + Math.floor(h / G)) * d.HS;
      for (let i = 0; i < d.HS; i++) r[dst + i] += x[(bt * d.NH + h) * d.HS + i];
    }
  }
  return r;
}

describe('attention reference', () => {
  test('forward by hand: T = 2, HS = 1, two query heads sharing one kv head', () => {
    const d = { B: 1, T: 2, NH: 2, NKV: 1, HS: 1 };
    // q (1, 2, 2, 1): head 0 = (1, 2), head 1 = (-1, 0) over t; k = (0, 1); v = (3, 5)
    const q = Float64Array.from([1, -1, 2, 0]);
    const k = Float64Array.from([0, 1]);
    const v = Float64Array.from([3, 5]);
    const out = new Float64Array(4);
    const lse = new Float64Array(4);
    attentionForward(out, lse, q, k, v, d);
    const e2 = Math.exp(2);
    // t = 0 sees only key 0
    expect(out[0]).toBeCloseTo(3, 14);
    expect(out[1]).toBeCloseTo(3, 14);
    expect(lse[0]).toBeCloseTo(0, 14); // lse (B, NH, T): [h0 t0, h0 t1, h1 t0, h1 t1]
    expect(lse[2]).toBeCloseTo(0, 14);
    // t = 1, head 0: scores (0, 2); head 1: scores (0, 0)
    expect(out[2]).toBeCloseTo((3 + 5 * e2) / (1 + e2), 14);
    expect(lse[1]).toBeCloseTo(Math.log(1 + e2), 14);
    expect(out[3]).toBeCloseTo(4, 14);
    expect(lse[3]).toBeCloseTo(Math.log(2), 14);
  });

  test('grouped-query attention equals multi-head attention on repeated kv heads, forward and backward', () => {
    const rng = new Rng(31);
    const d = { B: 2, T: 6, NH: 6, NKV: 2, HS: 4 };
    const mha = { ...d, NKV: d.NH };
    const nq = d.B * d.T * d.NH * d.HS;
    const nkv = d.B * d.T * d.NKV * d.HS;
    const q = rand64(nq, rng);
    const k = rand64(nkv, rng);
    const v = rand64(nkv, rng);
    const dout = rand64(nq, rng);
    const out = new Float64Array(nq);
    const lse = new Float64Array(d.B * d.NH * d.T);
    attentionForward(out, lse, q, k, v, d);
    const outM = new Float64Array(nq);
    const lseM = new Float64Array(d.B * d.NH * d.T);
    const kM = repeatHeads(k, d);
    const vM = repeatHeads(v, d);
    attentionForward(outM, lseM, q, kM, vM, mha);
    expect(mismatches(out, outM, 1e-14, 1e-12, 'out')).toBe('');
    expect(mismatches(lse, lseM, 1e-14, 1e-12, 'lse')).toBe('');

    const dq = new Float64Array(nq);
    const dk = new Float64Array(nkv);
    const dv = new Float64Array(nkv);
    attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, d);
    const dqM = new Float64Array(nq);
    const dkM = new Float64Array(nq);
    const dvM = new Float64Array(nq);
    attentionBackward(dqM, dkM, dvM, dout, q, kM, vM, outM, lseM, mha);
    expect(mismatches(dq, dqM, 1e-13, 1e-12, 'dq')).toBe('');
    expect(mismatches(dk, sumGroups(dkM, d), 1e-13, 1e-12, 'dk')).toBe('');
    expect(mismatches(dv, sumGroups(dvM, d), 1e-13, 1e-12, 'dv')).toBe('');
  });

  test('the future does not leak: changing position t changes no output before t', () => {
    const rng = new Rng(32);
    const d = { B: 1, T: 5, NH: 2, NKV: 1, HS: 3 };
    const q = rand64(d.T * d.NH * d.HS, rng);
    const k = rand64(d.T * d.NKV * d.HS, rng);
    const v = rand64(d.T * d.NKV * d.HS, rng);
    const out1 = new Float64Array(q.length);
    const lse = new Float64Array(d.NH * d.T);
    attentionForward(out1, lse, q, k, v, d);
    const t = 3;
    for (let i = t * d.HS; i < (t + 1) * d.HS; i++) {
      k[i] += 1;
      v[i] -= 2;
    }
    const out2 = new Float64Array(q.length);
    attentionForward(out2, lse, q, k, v, d);
    const before = t * d.NH * d.HS;
    expect(Array.from(out2.subarray(0, before))).toEqual(Array.from(out1.subarray(0, before)));
    expect(out2[before]).not.toBe(out1[before]);
  });

  test('backward (overwrites dq, dk, dv) matches finite differences: B=2 T=5 NH=4 NKV=2 HS=3', () => {
    const rng = new Rng(33);
    const d = { B: 2, T: 5, NH: 4, NKV: 2, HS: 3 };
    const nq = d.B * d.T * d.NH * d.HS;
    const nkv = d.B * d.T * d.NKV * d.HS;
    const q = rand64(nq, rng);
    const k = rand64(nkv, rng);
    const v = rand64(nkv, rng);
    const G = rand64(nq, rng);
    const out = new Float64Array(nq);
    const lse = new Float64Array(d.B * d.NH * d.T);
    const loss = () => {
      attentionForward(out, lse, q, k, v, d);
      return dotLoss(out, G);
    };
    const fdQ = centralDiff(loss, q, 1e-4);
    const fdK = centralDiff(loss, k, 1e-4);
    const fdV = centralDiff(loss, v, 1e-4);
    loss(); // out and lse at the unperturbed point
    // garbage in the outputs: the backward overwrites them
    const dq = rand64(nq, rng);
    const dk = rand64(nkv, rng);
    const dv = rand64(nkv, rng);
    attentionBackward(dq, dk, dv, G, q, k, v, out, lse, d);
    expect(mismatches(dq, fdQ, 1e-7, 1e-6, 'dq')).toBe('');
    expect(mismatches(dk, fdK, 1e-7, 1e-6, 'dk')).toBe('');
    expect(mismatches(dv, fdV, 1e-7, 1e-6, 'dv')).toBe('');
  });

  test('decoding over a cache written by kvCacheWrite gives the forward rows; length 0 gives zeros', () => {
    const rng = new Rng(34);
    const d = { B: 3, T: 6, NH: 4, NKV: 2, HS: 3 };
    const TMAX = 8;
    const C = d.NKV * d.HS;
    const q = rand64(d.B * d.T * d.NH * d.HS, rng);
    const k = rand64(d.B * d.T * C, rng);
    const v = rand64(d.B * d.T * C, rng);
    const out = new Float64Array(q.length);
    const lse = new Float64Array(d.B * d.NH * d.T);
    attentionForward(out, lse, q, k, v, d);

    // prefill rows 0..T-2 in one write, then the last row as a decode step; garbage elsewhere
    const kCache = rand64(d.B * TMAX * C, rng);
    const vCache = rand64(d.B * TMAX * C, rng);
    const T1 = d.T - 1;
    const rowsUpTo = (x: Float64Array, from: number, to: number) => {
      const r = new Float64Array(d.B * (to - from) * C);
      for (let b = 0; b < d.B; b++) r.set(x.subarray((b * d.T + from) * C, (b * d.T + to) * C), b * (to - from) * C);
      return r;
    };
    const prefillPos = Uint32Array.from({ length: d.B * T1 }, (_, i) => i % T1);
    kvCacheWrite(kCache, rowsUpTo(k, 0, T1), prefillPos, { ...d, T: T1, TMAX });
    kvCacheWrite(vCache, rowsUpTo(v, 0, T1), prefillPos, { ...d, T: T1, TMAX });
    const stepPos = new Uint32Array(d.B).fill(T1);
    kvCacheWrite(kCache, rowsUpTo(k, T1, d.T), stepPos, { ...d, T: 1, TMAX });
    kvCacheWrite(vCache, rowsUpTo(v, T1, d.T), stepPos, { ...d, T: 1, TMAX });

    const dd = { B: d.B, NH: d.NH, NKV: d.NKV, HS: d.HS, TMAX };
    const row = (x: Float64Array, t: number) => {
      const r = new Float64Array(d.B * d.NH * d.HS);
      for (let b = 0; b < d.B; b++) {
        r.set(x.subarray((b * d.T + t) * d.NH * d.HS, (b * d.T + t + 1) * d.NH * d.HS), b * d.NH * d.HS);
      }
      return r;
    };
    for (let t = 0; t < d.T; t++) {
      const got = new Float64Array(d.B * d.NH * d.HS);
      attentionDecode(got, row(q, t), kCache, vCache, new Uint32Array(d.B).fill(t + 1), dd);
      expect(mismatches(got, row(out, t), 1e-14, 1e-12, `decode t=${t}`)).toBe('');
    }
    const zero = rand64(d.B * d.NH * d.HS, rng);
    attentionDecode(zero, row(q, 0), kCache, vCache, new Uint32Array(d.B), dd);
    expect(Array.from(zero).every((x) => x === 0)).toBe(true);
  });

  test('kvCacheWrite skips positions at or past TMAX and leaves other rows alone', () => {
    const d = { B: 2, T: 2, NKV: 1, HS: 2, TMAX: 3 };
    const cache = Float64Array.from({ length: 2 * 3 * 2 }, () => -1);
    const x = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    kvCacheWrite(cache, x, Uint32Array.from([2, 0, 3, 1]), d);
    expect(Array.from(cache)).toEqual([3, 4, -1, -1, 1, 2, /* b = 1 */ -1, -1, 7, 8, -1, -1]);
  });

  test('sliding window and scale: equals full attention on the window, FD backward, decode over the window', () => {
    const rng = new Rng(35);
    const d = { B: 2, T: 7, NH: 4, NKV: 2, HS: 3, window: 3, scale: 0.3 };
    const nq = d.B * d.T * d.NH * d.HS;
    const nkv = d.B * d.T * d.NKV * d.HS;
    const q = rand64(nq, rng);
    const k = rand64(nkv, rng);
    const v = rand64(nkv, rng);
    const out = new Float64Array(nq);
    const lse = new Float64Array(d.B * d.NH * d.T);
    attentionForward(out, lse, q, k, v, d);
    // position t with the window equals full attention over positions t-2..t (a T = 3 slice, scale 0.3)
    for (const t of [0, 2, 5, 6]) {
      const from = Math.max(0, t - 2);
      const n = t - from + 1;
      const slice = (x: Float64Array, heads: number) => {
        const r = new Float64Array(d.B * n * heads * d.HS);
        for (let b = 0; b < d.B; b++) {
          r.set(x.subarray((b * d.T + from) * heads * d.HS, (b * d.T + t + 1) * heads * d.HS), b * n * heads * d.HS);
        }
        return r;
      };
      const o = new Float64Array(d.B * n * d.NH * d.HS);
      attentionForward(o, new Float64Array(d.B * d.NH * n), slice(q, d.NH), slice(k, d.NKV), slice(v, d.NKV),
        { B: d.B, T: n, NH: d.NH, NKV: d.NKV, HS: d.HS, scale: 0.3 });
      for (let b = 0; b < d.B; b++) {
        const got = out.subarray((b * d.T + t) * d.NH * d.HS, (b * d.T + t + 1) * d.NH * d.HS);
        const want = o.subarray(((b * n) + n - 1) * d.NH * d.HS, (b * n + n) * d.NH * d.HS);
        expect(mismatches(got, want, 1e-14, 1e-12, `t=${t} b=${b}`)).toBe('');
      }
    }
    const G = rand64(nq, rng);
    const loss = () => {
      attentionForward(out, lse, q, k, v, d);
      return dotLoss(out, G);
    };
    const fdQ = centralDiff(loss, q, 1e-4);
    const fdK = centralDiff(loss, k, 1e-4);
    const fdV = centralDiff(loss, v, 1e-4);
    loss();
    const dq = new Float64Array(nq);
    const dk = new Float64Array(nkv);
    const dv = new Float64Array(nkv);
    attentionBackward(dq, dk, dv, G, q, k, v, out, lse, d);
    expect(mismatches(dq, fdQ, 1e-7, 1e-6, 'dq')).toBe('');
    expect(mismatches(dk, fdK, 1e-7, 1e-6, 'dk')).toBe('');
    expect(mismatches(dv, fdV, 1e-7, 1e-6, 'dv')).toBe('');
    // decoding with the window: a cache holding the whole sequence, length t + 1, gives row t
    const C = d.NKV * d.HS;
    const TMAX = d.T;
    const kc = new Float64Array(d.B * TMAX * C);
    const vc = new Float64Array(d.B * TMAX * C);
    const pos = Uint32Array.from({ length: d.B * d.T }, (_, i) => i % d.T);
    kvCacheWrite(kc, k, pos, { B: d.B, T: d.T, NKV: d.NKV, HS: d.HS, TMAX });
    kvCacheWrite(vc, v, pos, { B: d.B, T: d.T, NKV: d.NKV, HS: d.HS, TMAX });
    for (let t = 0; t < d.T; t++) {
      const qt = new Float64Array(d.B * d.NH * d.HS);
      const want = new Float64Array(d.B * d.NH * d.HS);
      for (let b = 0; b < d.B; b++) {
        qt.set(q.subarray((b * d.T + t) * d.NH * d.HS, (b * d.T + t + 1) * d.NH * d.HS), b * d.NH * d.HS);
        want.set(out.subarray((b * d.T + t) * d.NH * d.HS, (b * d.T + t + 1) * d.NH * d.HS), b * d.NH * d.HS);
      }
      const got = new Float64Array(d.B * d.NH * d.HS);
      attentionDecode(got, qt, kc, vc, new Uint32Array(d.B).fill(t + 1), { B: d.B, NH: d.NH, NKV: d.NKV, HS: d.HS, TMAX, window: 3, scale: 0.3 });
      expect(mismatches(got, want, 1e-14, 1e-12, `decode t=${t}`)).toBe('');
    }
  });
});
