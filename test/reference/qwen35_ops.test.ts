// The CPU references of Qwen3.5's new ops: hand-computed forwards, every backward against central finite
// differences, and the carried states (conv inputs, delta-rule state) continuing a split sequence exactly.
import { describe, expect, test } from 'vitest';
import type { GatedDeltaDims } from '../../src/ops/gated_delta';
import { causalConv1dBackward, causalConv1dForward } from '../../src/reference/causal_conv1d';
import { gatedDeltaBackward, gatedDeltaForward } from '../../src/reference/gated_delta';
import { gatedRmsnormBackward, gatedRmsnormForward } from '../../src/reference/gated_rmsnorm';
import { gdnGatesBackward, gdnGatesForward } from '../../src/reference/gdn_gates';
import { l2normBackward, l2normForward } from '../../src/reference/l2norm';
import { outputGateBackward, outputGateForward } from '../../src/reference/output_gate';
import { ropeBackward, ropeForward } from '../../src/reference/rope';
import { Rng, randn } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

const F = (a: number[]) => Float64Array.from(a);
const f64 = (n: number, rng: Rng, scale = 1) => Float64Array.from(randn(n, rng, scale));

/** Checks `got` against finite differences of `loss` with respect to x. */
function expectGrad(loss: () => number, x: Float64Array, got: ArrayLike<number>, what: string, tol = 1e-6): void {
  const fd = centralDiff(loss, x, 1e-5);
  expect(mismatches(got, fd, tol, tol * 10, what)).toBe('');
}

describe('gated delta rule reference', () => {
  const d: GatedDeltaDims = { B: 2, T: 5, NK: 1, NV: 2, DK: 3, DV: 4, scale: 3 ** -0.5 };
  const rng = new Rng(501);
  const nq = d.B * d.T * d.NK * d.DK;
  const nv = d.B * d.T * d.NV * d.DV;
  const ng = d.B * d.T * d.NV;
  const q = f64(nq, rng);
  const k = f64(nq, rng, 0.5);
  const v = f64(nv, rng);
  const g = f64(ng, rng, 0.3).map((x) => -Math.abs(x));
  const beta = f64(ng, rng).map((x) => 1 / (1 + Math.exp(-x)));
  const S0 = f64(d.B * d.NV * d.DK * d.DV, rng, 0.5);

  test('one token from a zero state: o = scale (k . q) beta v, final state k (beta v)^T', () => {
    const one: GatedDeltaDims = { B: 1, T: 1, NK: 1, NV: 1, DK: 2, DV: 2, scale: 0.5 };
    const out = new Float64Array(2);
    const S = new Float64Array(4);
    gatedDeltaForward(out, S, F([1, 2]), F([3, -1]), F([4, 5]), F([-0.7]), F([0.25]), null, one);
    // k . q = 1, beta v = (1, 1.25)
    expect(Array.from(out)).toEqual([0.5, 0.625]);
    expect(Array.from(S)).toEqual([3, 3.75, -1, -1.25]);
  });

  test('a state carried across a split sequence continues it exactly (decode = prefill)', () => {
    const out = new Float64Array(nv);
    const S = new Float64Array(S0.length);
    gatedDeltaForward(out, S, q, k, v, g, beta, S0, d);
    // row 0 only, tokens 0..2 then 3..4
    const row = (a: Float64Array, w: number, from: number, to: number) => a.slice(from * w, to * w);
    const d1 = { ...d, B: 1, T: 3 };
    const d2 = { ...d, B: 1, T: 2 };
    const o1 = new Float64Array(3 * d.NV * d.DV);
    const S1 = new Float64Array(d.NV * d.DK * d.DV);
    const kw = d.NK * d.DK;
    gatedDeltaForward(o1, S1, row(q, kw, 0, 3), row(k, kw, 0, 3), row(v, d.NV * d.DV, 0, 3), row(g, d.NV, 0, 3), row(beta, d.NV, 0, 3), S0.slice(0, S1.length), d1);
    const o2 = new Float64Array(2 * d.NV * d.DV);
    const S2 = new Float64Array(S1.length);
    gatedDeltaForward(o2, S2, row(q, kw, 3, 5), row(k, kw, 3, 5), row(v, d.NV * d.DV, 3, 5), row(g, d.NV, 3, 5), row(beta, d.NV, 3, 5), S1, d2);
    expect(mismatches([...o1, ...o2], out.slice(0, 5 * d.NV * d.DV), 1e-12, 1e-12, 'out')).toBe('');
    expect(mismatches(S2, S.slice(0, S2.length), 1e-12, 1e-12, 'state')).toBe('');
  });

  test('backward matches finite differences for q, k, v, g, beta and the initial state (grouped heads)', () => {
    const G = f64(nv, rng);
    const out = new Float64Array(nv);
    const loss = () => {
      gatedDeltaForward(out, null, q, k, v, g, beta, S0, d);
      return dotLoss(out, G);
    };
    const [dq, dk, dv, dg, db, dS0] = [nq, nq, nv, ng, ng, S0.length].map((n) => new Float64Array(n));
    gatedDeltaBackward(dq, dk, dv, dg, db, dS0, G, q, k, v, g, beta, S0, d);
    expectGrad(loss, q, dq, 'dq');
    expectGrad(loss, k, dk, 'dk');
    expectGrad(loss, v, dv, 'dv');
    expectGrad(loss, g, dg, 'dg');
    expectGrad(loss, beta, db, 'dbeta');
    expectGrad(loss, S0, dS0, 'dS0');
  });
});

describe('causal depthwise conv1d + SiLU reference', () => {
  test('by hand: K = 2, one channel', () => {
    const out = new Float64Array(3);
    const st = new Float64Array(1);
    causalConv1dForward(out, st, F([1, 2, 3]), F([0.5, 1]), null, 1, 3, 1, 2);
    const silu = (x: number) => x / (1 + Math.exp(-x));
    expect(Array.from(out)).toEqual([silu(1), silu(0.5 + 2), silu(1 + 3)]);
    expect(Array.from(st)).toEqual([3]);
  });

  test('backward matches finite differences (x and weight, with a state); the state continues a split sequence', () => {
    const rng = new Rng(502);
    const [B, T, D, K] = [2, 5, 3, 4];
    const x = f64(B * T * D, rng);
    const w = f64(D * K, rng);
    const state = f64(B * D * (K - 1), rng);
    const G = f64(B * T * D, rng);
    const out = new Float64Array(B * T * D);
    const loss = () => {
      causalConv1dForward(out, null, x, w, state, B, T, D, K);
      return dotLoss(out, G);
    };
    const dx = new Float64Array(x.length);
    const dw = new Float64Array(w.length).fill(0.5);
    causalConv1dBackward(dx, dw, G, x, w, state, B, T, D, K);
    expectGrad(loss, x, dx, 'dx');
    expectGrad(loss, w, dw.map((v) => v - 0.5), 'dweight');
    // split: tokens 0..1 then 2..4 of row 1 (T1 = 2 < K - 1: the new state mixes the old state and x)
    loss();
    const rowX = x.slice(T * D, 2 * T * D);
    const rowS = state.slice(D * (K - 1));
    const o1 = new Float64Array(2 * D);
    const s1 = new Float64Array(D * (K - 1));
    causalConv1dForward(o1, s1, rowX.slice(0, 2 * D), w, rowS, 1, 2, D, K);
    const o2 = new Float64Array(3 * D);
    causalConv1dForward(o2, null, rowX.slice(2 * D), w, s1, 1, 3, D, K);
    expect(mismatches([...o1, ...o2], out.slice(T * D), 1e-12, 1e-12, 'split')).toBe('');
  });
});

describe('l2norm, gated RMSNorm, output gate, GDN gates, partial RoPE references', () => {
  const rng = new Rng(503);

  test('l2norm: by hand and backward (+=) against finite differences', () => {
    const out = new Float64Array(2);
    const r = new Float64Array(1);
    l2normForward(out, r, F([3, 4]), 1, 2, 0);
    expect(out[0]).toBeCloseTo(0.6, 14);
    expect(out[1]).toBeCloseTo(0.8, 14);
    const [N, W] = [3, 5];
    const x = f64(N * W, rng);
    const G = f64(N * W, rng);
    const o = new Float64Array(N * W);
    const rs = new Float64Array(N);
    const loss = () => {
      l2normForward(o, rs, x, N, W, 1e-6);
      return dotLoss(o, G);
    };
    loss();
    const dx = new Float64Array(N * W).fill(1);
    l2normBackward(dx, G, x, rs, N, W);
    expectGrad(loss, x, dx.map((v) => v - 1), 'dx');
  });

  test('gated RMSNorm rms(x) w silu(z): by hand and backward against finite differences', () => {
    const out = new Float64Array(2);
    const r = new Float64Array(1);
    gatedRmsnormForward(out, r, F([3, 4]), F([0, 2]), F([1, 2]), 1, 2, 0);
    const rr = 1 / Math.sqrt(12.5);
    expect(out[0]).toBe(0); // silu(0) = 0
    expect(out[1]).toBeCloseTo(8 * rr * (2 / (1 + Math.exp(-2))), 14);
    const [N, C] = [3, 4];
    const x = f64(N * C, rng);
    const z = f64(N * C, rng);
    const w = f64(C, rng).map((v) => 1 + 0.3 * v);
    const G = f64(N * C, rng);
    const o = new Float64Array(N * C);
    const rs = new Float64Array(N);
    const loss = () => {
      gatedRmsnormForward(o, rs, x, z, w, N, C, 1e-6);
      return dotLoss(o, G);
    };
    loss();
    const [dx, dz, dw] = [N * C, N * C, C].map((n) => new Float64Array(n));
    gatedRmsnormBackward(dx, dz, dw, G, x, z, w, rs, N, C);
    expectGrad(loss, x, dx, 'dx');
    expectGrad(loss, z, dz, 'dz');
    expectGrad(loss, w, dw, 'dweight');
  });

  test('output gate: reads the second half of each head of q_proj; backward against finite differences', () => {
    const out = new Float64Array(2);
    outputGateForward(out, F([2, 3]), F([9, 9, 0, 100]), 1, 1, 2);
    expect(out[0]).toBe(1);
    expect(out[1]).toBeCloseTo(3, 12);
    const [N, NH, HS] = [2, 3, 2];
    const att = f64(N * NH * HS, rng);
    const qg = f64(N * NH * 2 * HS, rng);
    const G = f64(N * NH * HS, rng);
    const o = new Float64Array(att.length);
    const loss = () => {
      outputGateForward(o, att, qg, N, NH, HS);
      return dotLoss(o, G);
    };
    const datt = new Float64Array(att.length);
    const dqg = new Float64Array(qg.length).fill(7);
    outputGateBackward(datt, dqg, G, att, qg, N, NH, HS);
    expectGrad(loss, att, datt, 'datt');
    // the query halves are untouched (7), and have no gradient here (fd 0)
    const fd = centralDiff(loss, qg, 1e-5);
    for (let i = 0; i < qg.length; i++) {
      const isGate = i % (2 * HS) >= HS;
      if (!isGate) expect(dqg[i]).toBe(7);
      else expect(Math.abs(dqg[i] - fd[i])).toBeLessThan(1e-7);
    }
  });

  test('GDN gates beta = sigmoid(b), g = -exp(A_log) softplus(a + dt_bias): by hand and backward', () => {
    const beta = new Float64Array(1);
    const g = new Float64Array(1);
    gdnGatesForward(beta, g, F([0]), F([0.5]), F([Math.log(2)]), F([0.5]), 1, 1);
    expect(beta[0]).toBe(0.5);
    expect(g[0]).toBeCloseTo(-2 * Math.log1p(Math.E), 14);
    const [N, NV] = [3, 2];
    const b = f64(N * NV, rng);
    const a = f64(N * NV, rng);
    const aLog = f64(NV, rng);
    const dt = f64(NV, rng);
    const Gb = f64(N * NV, rng);
    const Gg = f64(N * NV, rng);
    const ob = new Float64Array(N * NV);
    const og = new Float64Array(N * NV);
    const loss = () => {
      gdnGatesForward(ob, og, b, a, aLog, dt, N, NV);
      return dotLoss(ob, Gb) + dotLoss(og, Gg);
    };
    const [db, da, dA, ddt] = [N * NV, N * NV, NV, NV].map((n) => new Float64Array(n));
    gdnGatesBackward(db, da, dA, ddt, Gb, Gg, b, a, aLog, dt, N, NV);
    expectGrad(loss, b, db, 'db');
    expectGrad(loss, a, da, 'da');
    expectGrad(loss, aLog, dA, 'dA_log');
    expectGrad(loss, dt, ddt, 'ddt_bias');
  });

  test('partial RoPE: rotates the first rotaryDim of each head (rotate-half within it), passes the rest; backward is its transpose', () => {
    const out = new Float64Array(6);
    // one head of 6, rotaryDim 2: pair (0, 1) rotated by pi/2, channels 2..5 unchanged
    ropeForward(out, Float64Array.from([1, 0, 5, 6, 7, 8]), Uint32Array.from([1]), Float64Array.from([Math.PI / 2]), 1, 1, 6, 'half', 2);
    expect(out[0]).toBeCloseTo(0, 6);
    expect(out[1]).toBeCloseTo(1, 6);
    expect(Array.from(out.slice(2))).toEqual([5, 6, 7, 8]);
    const [N, NH, HS, R] = [3, 2, 8, 4];
    const x = f64(N * NH * HS, rng);
    const pos = Uint32Array.from([0, 3, 7]);
    const inv = Float64Array.from([1, 0.1]);
    const G = f64(x.length, rng);
    const o = new Float64Array(x.length);
    const loss = () => {
      ropeForward(o, x, pos, inv, N, NH, HS, 'half', R);
      return dotLoss(o, G);
    };
    const dx = new Float64Array(x.length);
    ropeBackward(dx, G, pos, inv, N, NH, HS, 'half', R);
    expectGrad(loss, x, dx, 'dx');
  });
});
