// The CPU reference of decoding (src/reference/attention_decode.ts, the only one): f32 full-length caches
// against the training forward (src/reference/attention.ts), to the bit; 16-bit caches against the f32
// path on the caches' stored values; a ring equal to the full-length cache with the same window; and 16-bit
// writes rounding to nearest even; the shared prompt-prefix layout equal to per-row caches of the same values.
import { describe, expect, test } from 'vitest';
import * as full from '../../src/reference/attention';
import * as ref from '../../src/reference/attention_decode';
import { pack16, unpack16 } from '../../src/reference/packed16';
import { RING_SKIP } from '../../src/ops/attention';
import { Rng, randn } from '../../src/util/random';
import { PREFIX_CASES, prefixLayout } from '../../src/selftest/kernels/attention_decode_prefix';

describe('decode reference with 16-bit and ring caches', () => {
  const d = { B: 2, NH: 4, NKV: 2, HS: 8, TMAX: 30 };
  const C = d.NKV * d.HS;
  const rng = new Rng(3);
  const q = randn(d.B * d.NH * d.HS, rng);
  const k = randn(d.B * d.TMAX * C, rng);
  const v = randn(d.B * d.TMAX * C, rng);
  const lengths = Uint32Array.from([30, 11]);

  test("f32 caches: each row is the training forward's last position over the row's cache, to the bit", () => {
    const b = new Float64Array(q.length);
    ref.attentionDecode(b, q, k, v, lengths, { ...d, window: 7 });
    const n = d.NH * d.HS;
    for (let r = 0; r < d.B; r++) {
      // a sequence of the row's length: its cache positions as k and v, the decoded query at the last position
      // (the other positions' queries do not reach the last position's output)
      const T = lengths[r];
      const qs = new Float64Array(T * n);
      qs.set(q.subarray(r * n, (r + 1) * n), (T - 1) * n);
      const cache = (x: Float32Array) => x.subarray(r * d.TMAX * C, (r * d.TMAX + T) * C);
      const a = new Float64Array(T * n);
      full.attentionForward(a, new Float64Array(d.NH * T), qs, cache(k), cache(v), { B: 1, T, NH: d.NH, NKV: d.NKV, HS: d.HS, window: 7 });
      expect(Array.from(b.subarray(r * n, (r + 1) * n)), `row ${r}`).toEqual(Array.from(a.subarray((T - 1) * n)));
    }
  });

  test("16-bit caches: the f32 caches' result on the rounded values", () => {
    for (const format of ['bf16', 'f16'] as const) {
      const kp = pack16(k, format);
      const vp = pack16(v, format);
      const a = new Float64Array(q.length);
      const b = new Float64Array(q.length);
      ref.attentionDecode(a, q, unpack16(kp, format), unpack16(vp, format), lengths, d);
      ref.attentionDecode(b, q, kp, vp, lengths, { ...d, kvFormat: format });
      expect(Array.from(b)).toEqual(Array.from(a));
      // and not the unrounded result
      const c = new Float64Array(q.length);
      ref.attentionDecode(c, q, k, v, lengths, d);
      expect(Math.max(...b.map((x, i) => Math.abs(x - c[i])))).toBeGreaterThan(1e-5);
    }
  });

  test('a ring of the window written position by position equals the full-length cache', () => {
    const W = 5;
    const ringK = new Float32Array(d.B * W * C);
    const ringV = new Float32Array(d.B * W * C);
    // every position of every row in order, wrapping; row 1 stops at its length
    for (let t = 0; t < d.TMAX; t++) {
      const pos = Uint32Array.from([t, t < lengths[1] ? t : RING_SKIP]);
      const row = (src: Float32Array) => {
        const x = new Float32Array(d.B * C);
        for (let b = 0; b < d.B; b++) x.set(src.subarray((b * d.TMAX + t) * C, (b * d.TMAX + t + 1) * C), b * C);
        return x;
      };
      ref.kvCacheWrite(ringK, row(k), pos, { B: d.B, T: 1, NKV: d.NKV, HS: d.HS, TMAX: W, ring: true });
      ref.kvCacheWrite(ringV, row(v), pos, { B: d.B, T: 1, NKV: d.NKV, HS: d.HS, TMAX: W, ring: true });
    }
    const a = new Float64Array(q.length);
    const b = new Float64Array(q.length);
    ref.attentionDecode(a, q, k, v, lengths, { ...d, window: W });
    ref.attentionDecode(b, q, ringK, ringV, lengths, { ...d, TMAX: W, window: W, ring: true });
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  test('16-bit writes round to nearest even into their half of the word, leaving the other half', () => {
    const cache = new Uint32Array(2).fill(0xdeadbeef);
    // bf16: 1 + 2^-8 is a tie between 1 and 1 + 2^-7 (rounds to even: 1); 1 + 3 * 2^-8 rounds up to 1 + 2^-6
    ref.kvCacheWrite(cache, Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8]), Uint32Array.from([1]), { B: 1, T: 1, NKV: 1, HS: 2, TMAX: 2, kvFormat: 'bf16' });
    expect(cache[0]).toBe(0xdeadbeef);
    expect(cache[1]).toBe((0x3f80 | (0x3f82 << 16)) >>> 0);
  });
});

// the shared prompt-prefix layout (DecodeDims.prefixSlots, a per-row table; rows out of order as after compaction)
describe('decode reference over a shared prompt prefix', () => {
  test('equals per-row full-length caches holding the same values, to the bit (every self-test case)', () => {
    const rng = new Rng(5);
    for (const c of PREFIX_CASES) {
      const L = prefixLayout(c, rng);
      const q = randn(L.B * c.NH * c.HS, rng);
      const dims = { B: L.B, NH: c.NH, NKV: c.NKV, HS: c.HS, TMAX: L.TMAX, window: c.window };
      const a = new Float64Array(q.length);
      const b = new Float64Array(q.length);
      ref.attentionDecode(a, q, L.kFull, L.vFull, L.lengths, dims);
      ref.attentionDecode(b, q, L.k, L.v, L.lengths, { ...dims, prefixSlots: L.slots }, L.table);
      expect(Array.from(b)).toEqual(Array.from(a));
      // a row reading another row's own block would differ
      const swapped = L.table.slice();
      swapped.copyWithin(2, 5, 6);
      const s = new Float64Array(q.length);
      ref.attentionDecode(s, q, L.k, L.v, L.lengths, { ...dims, prefixSlots: L.slots }, swapped);
      expect(Array.from(s)).not.toEqual(Array.from(a));
    }
  });

  test('a layout without its table is refused', () => {
    const out = new Float64Array(8);
    expect(() => ref.attentionDecode(out, new Float32Array(8), new Float32Array(8), new Float32Array(8), Uint32Array.from([1]), { B: 1, NH: 1, NKV: 1, HS: 8, TMAX: 1, prefixSlots: 1 })).toThrow(/table/);
  });
});
