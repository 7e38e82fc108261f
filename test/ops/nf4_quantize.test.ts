// NF4 as bitsandbytes defines it (src/ops/nf4_quantize.ts): hand-checked codes and packing, the comparison
// tree against the tests' own argmin quantiser (test/ops/nf4_fixture.ts), the round trip, and double
// quantisation (the dynamic 8-bit map, its binary search, the nested blocks of 256 with the mean subtracted).
import { describe, expect, test } from 'vitest';
import { dequantWords } from '../../src/ops/ggml_dequant';
import { ggmlType, quantGpuBytes } from '../../src/ops/ggml_types';
import {
  createDynamicMap, dequantizeAbsmax, dequantizeNf4, doubleQuantizeAbsmax, nf4BnbBytes, nf4Words, NF4_CODE,
  quantizeBlockwise8, quantizeDynamicValue, quantizeNf4, quantizeNf4Value,
} from '../../src/ops/nf4_quantize';
import { Rng, randn } from '../../src/util/random';
import { NF4_LEVELS, nf4Argmin, quantNf4Ref } from './nf4_fixture';

const f = Math.fround;

describe('NF4 (bitsandbytes) quantiser', () => {
  test('the 16 levels are bitsandbytes\' table, and each level codes to itself', () => {
    expect(Array.from(NF4_CODE)).toEqual(NF4_LEVELS.map(f));
    for (let q = 0; q < 16; q++) expect(quantizeNf4Value(NF4_CODE[q]), `level ${q}`).toBe(q);
  });

  test('hand-checked block: codes, the high nibble first, absmax kept, and the thresholds strict', () => {
    const x = new Float32Array(64);
    x.set([2, -2, 0, 1, -1.5, 0.1, 1.6, -0.05]);
    // normalised by absmax 2: 1 -> 15, -1 -> 0, 0 -> 7, 0.5 -> 12 (below the 12/13 threshold 0.50166),
    // -0.75 -> 1 (between -0.848 and -0.611), 0.05 -> 8 (above 0.0398), 0.8 -> 14, -0.025 -> 7 (above -0.0455)
    const { packed, absmax } = quantizeNf4(x);
    expect(Array.from(absmax)).toEqual([2]);
    expect(Array.from(packed.subarray(0, 5))).toEqual([0xf0, 0x7c, 0x18, 0xe7, 0x77]);
    // exactly on a threshold (f32): the lower level, one ulp above: the upper (dQuantizeNF4 compares with >)
    const t = f(0.03979014977812767);
    expect(quantizeNf4Value(t)).toBe(7);
    expect(quantizeNf4Value(t + 2 ** -28)).toBe(8);
    expect(quantizeNf4Value(f(0.8614784181118011))).toBe(14);
    expect(quantizeNf4Value(NaN)).toBe(0); // an all-zero block: 0 * (1 / 0)
    const y = dequantizeNf4(packed, absmax);
    expect(Array.from(y.subarray(0, 8))).toEqual([2, -2, 0, f(f(0.44070982933044434) * 2), f(f(-0.6961928009986877) * 2), f(f(0.07958029955625534) * 2), f(f(0.7229568362236023) * 2), 0]);
  });

  test('an all-zero block codes -1.0 (bitsandbytes\' NaN path) and dequantises to zeros', () => {
    const { packed, absmax } = quantizeNf4(new Float32Array(64));
    expect(absmax[0]).toBe(0);
    expect(packed.every((b) => b === 0)).toBe(true);
    expect(dequantizeNf4(packed, absmax).every((v) => v === 0)).toBe(true);
  });

  test('random rows: the comparison tree equals the tests\' argmin quantiser, and the round trip is within half a level gap', () => {
    const [R, K] = [12, 192];
    const rng = new Rng(3);
    const x = new Float32Array(R * K);
    for (let r = 0; r < R; r++) for (let i = 0; i < K; i++) x[r * K + i] = [1e-3, 0.05, 1, 30][r % 4] * rng.normal();
    x.fill(0, 64, 128); // a zero block
    x[5] = 400; // an outlier
    const words = nf4Words(x, R, K, false);
    expect(words.length * 4).toBe(quantGpuBytes(ggmlType('NF4'), R, K));
    expect(words.length * 4).toBe(nf4BnbBytes(R * K, false)); // 4 bits a value and an f32 absmax per 64: bitsandbytes' bytes
    const ref = quantNf4Ref(x);
    expect(new Uint8Array(words.buffer)).toEqual(ref.bytes);
    const y = dequantWords(words, 'NF4', R, K);
    expect(y).toEqual(ref.values);
    const { absmax } = quantizeNf4(x);
    let maxGap = 0;
    for (let q = 1; q < 16; q++) maxGap = Math.max(maxGap, NF4_CODE[q] - NF4_CODE[q - 1]);
    for (let i = 0; i < x.length; i++) {
      const a = absmax[i >> 6];
      expect(Math.abs(y[i] - x[i]), `value ${i}`).toBeLessThanOrEqual((maxGap / 2) * a * (1 + 1e-6));
    }
    // nearest level: no other level is nearer than the chosen one (argmin, independently)
    for (let i = 0; i < 256; i++) {
      const a = absmax[i >> 6];
      if (a) expect(NF4_CODE[nf4Argmin(x[i] / a)] * a).toBeCloseTo(y[i], 6);
    }
  });

  test('rows that are not whole 64-value blocks are refused', () => {
    expect(() => nf4Words(new Float32Array(96), 1, 96, false)).toThrow(/not whole 64-value blocks/);
  });
});

describe('NF4 double quantisation (bnb_4bit_use_double_quant)', () => {
  test('the dynamic map: 256 sorted levels, 0 and 1 present, the largest below 1 is 0.99296875, no -1', () => {
    const code = createDynamicMap();
    expect(code.length).toBe(256);
    for (let i = 1; i < 256; i++) expect(code[i]).toBeGreaterThan(code[i - 1]);
    expect(code[255]).toBe(1);
    expect(code[254]).toBe(f(0.99296875));
    expect(code[0]).toBe(f(-0.99296875));
    expect(Array.from(code).filter((v) => v === 0).length).toBe(1);
    // the smallest exponent's two levels: 1e-6 * (0.1 + 1) / 2 (linspace(0.1, 1, 2): one mean)
    expect(code[128]).toBe(f(f(1e-6) * f(0.55)));
    expect(code[126]).toBe(f(f(-1e-6) * f(0.55)));
    // 2^i means at exponent 1e(i-6): 1, 2, 4, ..., 64 levels per sign
    expect(Array.from(code).filter((v) => v > 0.1 && v < 1).length).toBe(64);
  });

  test('dQuantize\'s binary search and midpoint choice give the nearest of the 256 levels (1.0 codes 255)', () => {
    const code = createDynamicMap();
    const rng = new Rng(8);
    const nearest = (x: number) => {
      let b = 0;
      for (let i = 1; i < 256; i++) if (Math.abs(x - code[i]) < Math.abs(x - code[b])) b = i;
      return b;
    };
    for (let n = 0; n < 2000; n++) {
      const x = f((rng.uniform() * 2 - 1) * 10 ** -(rng.int(7)));
      expect(quantizeDynamicValue(code, x), `x = ${x}`).toBe(nearest(x));
    }
    expect(quantizeDynamicValue(code, 1)).toBe(255);
    expect(quantizeDynamicValue(code, -1)).toBe(0);
    expect(quantizeDynamicValue(code, 0)).toBe(127);
    expect(code[127]).toBe(0);
    // exactly on the f32 midpoint of two levels: the upper one above the last pivot's, the pivot below (dQuantize's > and <)
    const mid = f(f(code[200] + code[201]) * 0.5);
    expect([199, 200, 201]).toContain(quantizeDynamicValue(code, mid));
  });

  test('nested blocks of 256 with the mean subtracted: rebuilt absmax close to the original, bytes as bitsandbytes keeps them', () => {
    const rng = new Rng(12);
    const absmax = Float32Array.from({ length: 600 }, () => f(0.5 + rng.uniform())); // 3 nested blocks, the last partial
    const dq = doubleQuantizeAbsmax(absmax);
    expect(dq.qabsmax.length).toBe(600);
    expect(dq.absmax2.length).toBe(3);
    expect(dq.offset).toBeCloseTo(absmax.reduce((a, v) => a + v, 0) / 600, 6);
    // each nested block's absmax is max |absmax - offset| over its (up to) 256 values
    for (let b = 0; b < 3; b++) {
      let m = 0;
      for (let i = b * 256; i < Math.min(600, (b + 1) * 256); i++) m = Math.max(m, Math.abs(f(absmax[i] - dq.offset)));
      expect(dq.absmax2[b]).toBe(m);
    }
    const back = dequantizeAbsmax(dq);
    for (let i = 0; i < 600; i++) {
      // the dynamic map's steps in [0.1, 1] are 0.014: the rebuilt value is within 0.75% of absmax2 of the original
      expect(Math.abs(back[i] - absmax[i]), `absmax ${i}`).toBeLessThanOrEqual(0.0075 * dq.absmax2[i >> 8]);
      expect(back[i]).toBe(f(f(createDynamicMap()[dq.qabsmax[i]] * dq.absmax2[i >> 8]) + dq.offset));
    }
    // bitsandbytes' bytes for 600 * 64 values: 4 bits each, a byte per 64, an f32 per 256 blocks, the f32 offset
    expect(nf4BnbBytes(600 * 64, true)).toBe(600 * 32 + 600 + 3 * 4 + 4);
  });

  test('quantize_blockwise: the block\'s absmax codes 1.0 (255), its negative the lowest level -0.99296875 (0)', () => {
    const { q, absmax } = quantizeBlockwise8(new Float32Array([3, 3, -3, 0]), 256);
    expect(absmax[0]).toBe(3);
    expect(Array.from(q)).toEqual([255, 255, 0, 127]);
  });

  test('nf4Words with double quantisation: NF4_DQ holds bitsandbytes\' bytes (codes, 8-bit absmax codes, absmax2 per 256 blocks across rows, offset)', () => {
    const [R, K] = [200, 192]; // 3 blocks a row, 600 blocks: the second nested block starts inside row 85, the third is partial
    const x = randn(R * K, new Rng(21), 0.3);
    const plain = nf4Words(x, R, K, false);
    const dqw = nf4Words(x, R, K, true);
    const { packed, absmax } = quantizeNf4(x);
    const dq = doubleQuantizeAbsmax(absmax);
    const rebuilt = dequantizeAbsmax(dq);
    // bitsandbytes' bytes exactly (600 blocks: the absmax codes fill whole words)
    expect(dqw.length * 4).toBe(nf4BnbBytes(R * K, true));
    expect(dqw.length * 4).toBe(quantGpuBytes(ggmlType('NF4_DQ'), R, K));
    expect(nf4BnbBytes(R * K, true) / (R * K / 64)).toBeCloseTo(33 + (3 * 4 + 4) / 600, 10); // bytes per 64 values: codes, absmax code, 3 absmax2 and the offset shared
    const bytes = new Uint8Array(dqw.buffer);
    for (let b = 0; b < 600; b++) for (let w = 1; w < 9; w++) expect(dqw[b * 8 + w - 1]).toBe(plain[b * 9 + w]); // NF4's codes
    expect(Array.from(bytes.subarray(600 * 32, 600 * 33))).toEqual(Array.from(dq.qabsmax));
    const fw = new Float32Array(dqw.buffer);
    expect(Array.from(fw.subarray(600 * 8 + 150, 600 * 8 + 153))).toEqual(Array.from(dq.absmax2));
    expect(fw[dqw.length - 1]).toBe(dq.offset);
    let differs = 0;
    for (let b = 0; b < 600; b++) if (rebuilt[b] !== absmax[b]) differs++;
    expect(differs).toBeGreaterThan(300); // the double quantisation changed the scales
    const y = dequantWords(dqw, 'NF4_DQ', R, K);
    expect(y).toEqual(dequantizeNf4(packed, rebuilt));
    // a block count that leaves a partial word of absmax codes: padded to a word
    const x2 = randn(5 * 64, new Rng(2), 1);
    const w2 = nf4Words(x2, 5, 64, true);
    expect(w2.length).toBe(5 * 8 + 2 + 1 + 1);
    expect(dequantWords(w2, 'NF4_DQ', 5, 64)).toEqual(dequantizeNf4(quantizeNf4(x2).packed, dequantizeAbsmax(doubleQuantizeAbsmax(quantizeNf4(x2).absmax))));
  });
});
