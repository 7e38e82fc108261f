// The chunked (WY / UT-transform) CPU reference of the gated delta rule against the recurrent one (forward, final
// state, every gradient) and against central finite differences, at T that are and are not multiples of C, with
// grouped heads and an incoming state.
import { describe, expect, test } from 'vitest';
import type { GatedDeltaDims } from '../../src/ops/gated_delta';
import { gatedDeltaBackward, gatedDeltaForward } from '../../src/reference/gated_delta';
import { gatedDeltaChunkBackward, gatedDeltaChunkForward } from '../../src/reference/gated_delta_chunk';
import { Rng, randn } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

const f64 = (n: number, rng: Rng, scale = 1) => Float64Array.from(randn(n, rng, scale));

function inputs(d: GatedDeltaDims, seed: number) {
  const rng = new Rng(seed);
  const nq = d.B * d.T * d.NK * d.DK;
  const nv = d.B * d.T * d.NV * d.DV;
  const ng = d.B * d.T * d.NV;
  return {
    q: f64(nq, rng), k: f64(nq, rng, 0.5), v: f64(nv, rng),
    g: f64(ng, rng, 0.3).map((x) => -Math.abs(x)),
    beta: f64(ng, rng).map((x) => 1 / (1 + Math.exp(-x))),
    S0: f64(d.B * d.NV * d.DK * d.DV, rng, 0.5),
    G: f64(nv, rng),
  };
}

describe('gated delta rule, chunked reference', () => {
  const cases: [GatedDeltaDims, number][] = [
    [{ B: 2, T: 7, NK: 1, NV: 2, DK: 3, DV: 4, scale: 3 ** -0.5 }, 3], // T = 2C + 1
    [{ B: 1, T: 13, NK: 2, NV: 4, DK: 5, DV: 3, scale: 0.4 }, 4], // last chunk of 1
    [{ B: 1, T: 8, NK: 1, NV: 1, DK: 4, DV: 2, scale: 0.5 }, 8], // one full chunk
    [{ B: 1, T: 10, NK: 1, NV: 1, DK: 2, DV: 3, scale: 0.5 }, 64], // one partial chunk (default C)
    [{ B: 1, T: 9, NK: 1, NV: 1, DK: 3, DV: 2, scale: 0.5 }, 1], // C = 1: the recurrence itself
  ];
  for (const [d, C] of cases) {
    const name = `B=${d.B} T=${d.T} NK=${d.NK} NV=${d.NV} DK=${d.DK} DV=${d.DV} C=${C}`;
    test(`${name}: forward and final state equal the recurrent form, with and without an initial state`, () => {
      const x = inputs(d, 900 + d.T);
      for (const S0 of [null, x.S0]) {
        const nv = d.B * d.T * d.NV * d.DV;
        const [o1, o2] = [new Float64Array(nv), new Float64Array(nv)];
        const [s1, s2] = [new Float64Array(x.S0.length), new Float64Array(x.S0.length)];
        gatedDeltaForward(o1, s1, x.q, x.k, x.v, x.g, x.beta, S0, d);
        gatedDeltaChunkForward(o2, s2, x.q, x.k, x.v, x.g, x.beta, S0, d, C);
        expect(mismatches(o2, o1, 1e-12, 1e-10, 'out')).toBe('');
        expect(mismatches(s2, s1, 1e-12, 1e-10, 'final state')).toBe('');
      }
    });
    test(`${name}: backward equals the recurrent backward and central finite differences`, () => {
      const x = inputs(d, 700 + d.T);
      const n = [x.q.length, x.k.length, x.v.length, x.g.length, x.beta.length, x.S0.length];
      const want = n.map((m) => new Float64Array(m));
      const got = n.map((m) => new Float64Array(m).fill(7)); // overwritten
      gatedDeltaBackward(want[0], want[1], want[2], want[3], want[4], want[5], x.G, x.q, x.k, x.v, x.g, x.beta, x.S0, d);
      gatedDeltaChunkBackward(got[0], got[1], got[2], got[3], got[4], got[5], x.G, x.q, x.k, x.v, x.g, x.beta, x.S0, d, C);
      const names = ['dq', 'dk', 'dv', 'dg', 'dbeta', 'dS0'];
      for (let i = 0; i < 6; i++) expect(mismatches(got[i], want[i], 1e-11, 1e-9, names[i])).toBe('');
      const out = new Float64Array(x.v.length);
      const loss = () => {
        gatedDeltaChunkForward(out, null, x.q, x.k, x.v, x.g, x.beta, x.S0, d, C);
        return dotLoss(out, x.G);
      };
      const inputsOf = [x.q, x.k, x.v, x.g, x.beta, x.S0];
      for (let i = 0; i < 6; i++) {
        expect(mismatches(got[i], centralDiff(loss, inputsOf[i], 1e-5), 1e-6, 1e-5, names[i])).toBe('');
      }
    });
  }
  test('rejects a chunk length that is not a positive integer', () => {
    const d: GatedDeltaDims = { B: 1, T: 2, NK: 1, NV: 1, DK: 1, DV: 1, scale: 1 };
    const a = new Float64Array(2);
    expect(() => gatedDeltaChunkForward(a, null, a, a, a, a, a, null, d, 0)).toThrow(/chunk length C = 0/);
  });
});
