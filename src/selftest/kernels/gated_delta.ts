// gated_delta_forward and gated_delta_backward (recurrent form) against the CPU reference: grouped heads
// (NV = 2 NK), checkpoint intervals that do and do not divide T, DV over one workgroup of columns, and decoding
// token by token with the state carried in place.
import * as gpuK from '../../gpu/kernels/gated_delta';
import type { GatedDeltaDims } from '../../ops/gated_delta';
import * as ref from '../../reference/gated_delta';
import { Rng, randn } from '../../util/random';
import { compare, merge, type CaseResult, type KernelCheck } from '../check';

// f32 recurrences of up to 9 steps over DK <= 16 terms against float64: errors seen below 1e-5
const TOL = { atol: 5e-5, rtol: 5e-5 };

export interface Unpacked { q: Float32Array; k: Float32Array; v: Float32Array; g: Float32Array; beta: Float32Array }

export function inputs(d: GatedDeltaDims, rng: Rng): Unpacked {
  const nq = d.B * d.T * d.NK * d.DK;
  const unit = (x: Float32Array) => {
    for (let r = 0; r < x.length / d.DK; r++) {
      let s = 0;
      for (let i = 0; i < d.DK; i++) s += x[r * d.DK + i] ** 2;
      for (let i = 0; i < d.DK; i++) x[r * d.DK + i] /= Math.sqrt(s);
    }
    return x;
  };
  return {
    q: unit(randn(nq, rng)),
    k: unit(randn(nq, rng)),
    v: randn(d.B * d.T * d.NV * d.DV, rng),
    g: randn(d.B * d.T * d.NV, rng, 0.5).map((x) => -Math.abs(x)),
    beta: randn(d.B * d.T * d.NV, rng).map((x) => 1 / (1 + Math.exp(-x))),
  };
}

/** q, k, v -> (rows, CD); g, beta -> (rows, NV, 2): the kernels' packed layout. */
export function pack(x: Unpacked, d: GatedDeltaDims, rows: number): { qkv: Float32Array; gb: Float32Array } {
  const KD = d.NK * d.DK;
  const VD = d.NV * d.DV;
  const CD = 2 * KD + VD;
  const qkv = new Float32Array(rows * CD);
  const gb = new Float32Array(rows * d.NV * 2);
  for (let n = 0; n < rows; n++) {
    qkv.set(x.q.subarray(n * KD, (n + 1) * KD), n * CD);
    qkv.set(x.k.subarray(n * KD, (n + 1) * KD), n * CD + KD);
    qkv.set(x.v.subarray(n * VD, (n + 1) * VD), n * CD + 2 * KD);
    for (let h = 0; h < d.NV; h++) {
      gb[(n * d.NV + h) * 2] = x.g[n * d.NV + h];
      gb[(n * d.NV + h) * 2 + 1] = x.beta[n * d.NV + h];
    }
  }
  return { qkv, gb };
}

/** Row t of every batch row of a (B, T, W) array. */
function step(a: Float32Array, d: GatedDeltaDims, W: number, t: number): Float32Array {
  const o = new Float32Array(d.B * W);
  for (let b = 0; b < d.B; b++) o.set(a.subarray((b * d.T + t) * W, (b * d.T + t + 1) * W), b * W);
  return o;
}

export const check: KernelCheck = {
  kernel: 'gated_delta',
  async run(gpu) {
    const rng = new Rng(71);
    const results: CaseResult[] = [];
    const cases: [GatedDeltaDims, number][] = [
      [{ B: 2, T: 7, NK: 1, NV: 2, DK: 4, DV: 3, scale: 0.5 }, 3],
      [{ B: 1, T: 9, NK: 2, NV: 2, DK: 16, DV: 5, scale: 0.25 }, 9],
      [{ B: 1, T: 4, NK: 1, NV: 1, DK: 3, DV: 70, scale: 0.6 }, 2],
    ];
    for (const [d, CH] of cases) {
      const name = `B=${d.B} T=${d.T} NK=${d.NK} NV=${d.NV} DK=${d.DK} DV=${d.DV} CH=${CH}`;
      const N = d.B * d.T;
      const CD = gpuK.gatedDeltaChannels(d);
      const x = inputs(d, rng);
      const packed = pack(x, d, N);
      const qkv = gpu.upload(packed.qkv, [d.B, d.T, CD], 'qkv');
      const gb = gpu.upload(packed.gb, [d.B, d.T, d.NV, 2], 'gb');
      const out = gpu.tensor([d.B, d.T, d.NV, d.DV], 'out');
      const ckpt = gpu.tensor([d.B, d.NV, gpuK.gatedDeltaCheckpoints(d.T, CH), d.DK, d.DV], 'ckpt');
      gpuK.gatedDeltaForward(gpu, out, qkv, gb, d, { ckpt: { tensor: ckpt, CH }, state: null, initial: false, final: false });
      const want = new Float32Array(out.size);
      const finalWant = new Float32Array(d.B * d.NV * d.DK * d.DV);
      ref.gatedDeltaForward(want, finalWant, x.q, x.k, x.v, x.g, x.beta, null, d);
      results.push(compare('gated_delta_forward', name, 'out', await gpu.read(out), want, TOL));

      const dout = randn(out.size, rng);
      const tDout = gpu.upload(dout, out.shape, 'dout');
      const dqkv = gpu.upload(randn(qkv.size, rng), qkv.shape, 'dqkv');
      const dgb = gpu.upload(randn(gb.size, rng), gb.shape, 'dgb');
      gpuK.gatedDeltaBackward(gpu, dqkv, dgb, tDout, qkv, gb, ckpt, CH, d);
      const r: Unpacked = {
        q: new Float32Array(x.q.length), k: new Float32Array(x.k.length), v: new Float32Array(x.v.length),
        g: new Float32Array(x.g.length), beta: new Float32Array(x.beta.length),
      };
      ref.gatedDeltaBackward(r.q, r.k, r.v, r.g, r.beta, null, dout, x.q, x.k, x.v, x.g, x.beta, null, d);
      const rp = pack(r, d, N);
      results.push(merge([
        compare('gated_delta_backward', `${name} (overwrites)`, 'dq, dk, dv', await gpu.read(dqkv), rp.qkv, TOL),
        compare('gated_delta_backward', name, 'dg, dbeta', await gpu.read(dgb), rp.gb, TOL),
      ]));

      // decoding: token by token with the state carried in place equals the whole-sequence forward and its final state
      const state = gpu.tensor([d.B, d.NV, d.DK, d.DV], 'state');
      const one = { ...d, T: 1 };
      const got = new Float32Array(out.size);
      for (let t = 0; t < d.T; t++) {
        const sq = gpu.upload(step(packed.qkv, d, CD, t), [d.B, 1, CD], 'qkv step');
        const sg = gpu.upload(step(packed.gb, d, d.NV * 2, t), [d.B, 1, d.NV, 2], 'gb step');
        const o = gpu.tensor([d.B, 1, d.NV, d.DV], 'out step');
        gpuK.gatedDeltaForward(gpu, o, sq, sg, one, { ckpt: null, state, initial: t > 0, final: true });
        const row = await gpu.read(o);
        const W = d.NV * d.DV;
        for (let b = 0; b < d.B; b++) got.set(row.subarray(b * W, (b + 1) * W), (b * d.T + t) * W);
        gpu.release(sq, sg, o);
      }
      results.push(merge([
        compare('gated_delta_forward', `${name} decoding step by step`, 'out', got, want, TOL),
        compare('gated_delta_forward', `${name} decoding step by step`, 'final state', await gpu.read(state), finalWant, TOL),
      ]));
      gpu.release(qkv, gb, out, ckpt, tDout, dqkv, dgb, state);
    }
    return results;
  },
};
