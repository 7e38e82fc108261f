// The CPU dequantisation (src/reference/dequant.ts) against the tests' own ggml quantisers
// (test/model/gguf_fixtures.ts: quantize_row_*_ref for Q8_0, Q4_0, Q4_1, Q5_0, Q5_1; K-quant blocks packed from
// random fields), value for value.
import { describe, expect, test } from 'vitest';
import { ggmlType, type GgmlTypeName } from '../../src/ops/ggml_types';
import { dequantize } from '../../src/reference/dequant';
import { Rng, randn } from '../../src/util/random';
import { packK45, packQ6K, QUANTISERS, toHalf, type KBlockFields, type Q6KFields, type Quantised } from '../model/gguf_fixtures';

function run(name: GgmlTypeName, q: Quantised, n: number, offset = 0): Float32Array {
  const bytes = new Uint8Array(offset + q.bytes.length);
  bytes.set(q.bytes, offset);
  const out = new Float32Array(n);
  dequantize(ggmlType(name), bytes, offset, n, out);
  return out;
}

function expectBitExact(got: Float32Array, want: Float32Array) {
  let bad = -1;
  for (let i = 0; i < want.length && bad < 0; i++) if (!Object.is(got[i], want[i])) bad = i;
  expect(bad < 0 ? 'all equal' : `index ${bad}: got ${got[bad]}, want ${want[bad]}`).toBe('all equal');
}

describe('dequantize vs independent quantisers', () => {
  const n = 512;
  for (const name of Object.keys(QUANTISERS) as GgmlTypeName[]) {
    test(`${name}: bit-exact values, and close to the input`, () => {
      const x = randn(n, new Rng(7), 0.5);
      x[3] = 0; // a zero block value and a block of equal values exercise the d == 0 paths
      for (let j = 64; j < 96; j++) x[j] = 0;
      const q = QUANTISERS[name as keyof typeof QUANTISERS].q(x);
      expectBitExact(run(name, q, n, 3), q.values);
      const t = ggmlType(name);
      expect(q.bytes.length).toBe((n / t.blockSize) * t.typeSize);
      // the quantised values approximate the input (a check of the test's quantiser itself)
      const tol = { F32: 0, F16: 1e-3, BF16: 4e-3, Q8_0: 0.02, Q6_K: 0.06, Q5_0: 0.1, Q5_1: 0.1, Q5_K: 0.1, Q4_0: 0.2, Q4_1: 0.2, Q4_K: 0.25 }[name as keyof typeof QUANTISERS];
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(q.values[i] - x[i]));
      expect(worst).toBeLessThanOrEqual(tol);
    });
  }
});

describe('K-quant blocks from random fields (every scale, min and quant bit)', () => {
  const rng = new Rng(11);
  const int = (n: number) => Math.floor(rng.uniform() * n);
  for (const bits of [4, 5] as const) {
    test(`Q${bits}_K`, () => {
      const fields: KBlockFields[] = Array.from({ length: 3 }, () => ({
        d: toHalf(0.01 + rng.uniform() * 0.1), dmin: toHalf(rng.uniform() * 0.05),
        sc: Array.from({ length: 8 }, () => int(64)), mn: Array.from({ length: 8 }, () => int(64)),
        q: Array.from({ length: 256 }, () => int(1 << bits)),
      }));
      fields[0].sc[5] = 63; // the high two bits of a scale past the fourth
      fields[0].mn[7] = 63;
      const q = packK45(fields, bits);
      expectBitExact(run(bits === 4 ? 'Q4_K' : 'Q5_K', q, 768), q.values);
    });
  }
  test('Q6_K', () => {
    const fields: Q6KFields[] = Array.from({ length: 3 }, () => ({
      d: toHalf(0.001 + rng.uniform() * 0.01), sc: Array.from({ length: 16 }, () => int(256) - 128), q: Array.from({ length: 256 }, () => int(64)),
    }));
    const q = packQ6K(fields);
    expectBitExact(run('Q6_K', q, 768), q.values);
  });
});

describe('dequantize: bounds', () => {
  test('a count that is not whole blocks, or bytes past the end, is refused', () => {
    const out = new Float32Array(64);
    expect(() => dequantize(ggmlType('Q8_0'), new Uint8Array(68), 0, 48, out)).toThrow(/not a multiple of the block size 32/);
    expect(() => dequantize(ggmlType('Q8_0'), new Uint8Array(67), 0, 64, out)).toThrow(/need 68 bytes/);
  });
});
