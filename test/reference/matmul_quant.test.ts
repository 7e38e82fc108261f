// The quantised-weight reference: its input gradient against central finite differences (float64), and its
// dequantised matrix against the tests' own quantiser's values (test/model/gguf_fixtures.ts) after the
// word-aligned repacking the GPU storage uses.
import { describe, expect, test } from 'vitest';
import { ggmlType, repackBlocks, QUANT_KERNEL_TYPES, type GgmlTypeName } from '../../src/ops/ggml_types';
import { dequantWords, matmulQuantBackward, matmulQuantForward } from '../../src/reference/matmul_quant';
import { randomQuantWeight } from '../../src/selftest/kernels/matmul_quant';
import { Rng, randn } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';
import { QUANTISERS } from '../model/gguf_fixtures';
import { quantNf4Ref } from '../ops/nf4_fixture';

describe('quantised matmul reference', () => {
  for (const type of ['Q8_0', 'Q4_K', 'Q6_K', 'NF4', 'NF4_DQ'] as GgmlTypeName[]) {
    test(`dx matches finite differences (${type})`, () => {
      const rng = new Rng(3);
      const K = ggmlType(type).blockSize;
      const [M, N] = [2, 3];
      const w = randomQuantWeight(type, N, K, rng);
      const x = Float64Array.from({ length: M * K }, () => rng.normal());
      const bias = Float64Array.from({ length: N }, () => rng.normal());
      const g = Float64Array.from({ length: M * N }, () => rng.normal());
      const loss = () => {
        const y = new Float64Array(M * N);
        matmulQuantForward(y, x, w, type, bias, M, K, N, 0.7);
        return dotLoss(y, g);
      };
      const dx = new Float64Array(M * K).fill(5); // overwritten
      matmulQuantBackward(dx, g, w, type, M, K, N, 0.7);
      expect(mismatches(dx, centralDiff(loss, x, 1e-3), 1e-6, 1e-5, 'dx')).toBe('');
    });
  }

  test('repacked word-aligned blocks dequantise to the quantisers\' values, every type', () => {
    for (const type of QUANT_KERNEL_TYPES) {
      if (type === 'NF4_DQ') continue; // not blocks of one size (a side region after them): test/ops/nf4_quantize.test.ts
      const t = ggmlType(type);
      const x = randn(2 * t.blockSize * 2, new Rng(5), 0.5);
      const q = type === 'NF4' ? quantNf4Ref(x) : QUANTISERS[type as keyof typeof QUANTISERS].q(x);
      const words = repackBlocks(t, q.bytes, 0, x.length);
      expect(Array.from(dequantWords(words, type, 2, x.length / 2)), type).toEqual(Array.from(q.values));
    }
  });
});
