// The fused q/k RoPE reference: forward equals rope on each, backward against finite differences.
import { describe, expect, test } from 'vitest';
import { ropeQkBackward, ropeQkForward } from '../../src/reference/rope_qk';
import { ropeInvFreq } from '../../src/gpu/kernels/rope';
import { Rng, randn, randInts } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

describe('rope_qk reference', () => {
  for (const convention of ['interleaved', 'half'] as const) {
    test(`backward matches finite differences (${convention})`, () => {
      const rng = new Rng(53);
      const [N, NH, NKV, HS] = [3, 4, 2, 6];
      const dims = { NH, NKV, HS };
      const inv = Float64Array.from(ropeInvFreq(HS, 10000));
      const positions = randInts(N, rng, 50);
      const q = Float64Array.from(randn(N * NH * HS, rng));
      const k = Float64Array.from(randn(N * NKV * HS, rng));
      const Gq = Float64Array.from(randn(N * NH * HS, rng));
      const Gk = Float64Array.from(randn(N * NKV * HS, rng));
      const qr = new Float64Array(q.length);
      const kr = new Float64Array(k.length);
      const loss = () => {
        ropeQkForward(qr, kr, q, k, positions, inv, N, dims, convention);
        return dotLoss(qr, Gq) + dotLoss(kr, Gk);
      };
      const fdQ = centralDiff(loss, q, 1e-4);
      const fdK = centralDiff(loss, k, 1e-4);
      const dq = new Float64Array(q.length);
      const dk = new Float64Array(k.length);
      ropeQkBackward(dq, dk, Gq, Gk, positions, inv, N, dims, convention);
      expect(mismatches(dq, fdQ, 1e-7, 1e-6, 'dq')).toBe('');
      expect(mismatches(dk, fdK, 1e-7, 1e-6, 'dk')).toBe('');
    });
  }
});
