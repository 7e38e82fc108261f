// gated_delta_chunk_forward and gated_delta_chunk_backward (chunked WY / UT-transform form) against the CPU
// reference of the chunked form (itself checked against the recurrent form and finite differences in
// test/reference/gated_delta_chunk.test.ts): T not a multiple of C, grouped heads (NV = 2 NK), several batch rows,
// a prefill with an incoming state and its final state continued by the recurrent decoding step, and DV over one
// workgroup of columns.
import * as rec from '../../gpu/kernels/gated_delta';
import * as gpuK from '../../gpu/kernels/gated_delta_chunk';
import type { GatedDeltaDims } from '../../ops/gated_delta';
import * as ref from '../../reference/gated_delta_chunk';
import { Rng, randn } from '../../util/random';
import { compare, merge, type CaseResult, type KernelCheck } from '../check';
import { inputs, pack, type Unpacked } from './gated_delta';

// f32 chunk algebra (substitutions over up to C rows, sums over DK, DV <= 70) against float64: errors seen below 1e-5
const TOL = { atol: 1e-4, rtol: 1e-4 };

export const check: KernelCheck = {
  kernel: 'gated_delta_chunk',
  async run(gpu) {
    const rng = new Rng(73);
    const results: CaseResult[] = [];
    const cases: [GatedDeltaDims, number][] = [
      [{ B: 2, T: 11, NK: 1, NV: 2, DK: 4, DV: 3, scale: 0.5 }, 4],
      [{ B: 1, T: 21, NK: 2, NV: 4, DK: 16, DV: 5, scale: 0.25 }, 8],
      [{ B: 1, T: 70, NK: 1, NV: 1, DK: 8, DV: 70, scale: 0.35 }, 64],
    ];
    for (const [d, C] of cases) {
      const name = `B=${d.B} T=${d.T} NK=${d.NK} NV=${d.NV} DK=${d.DK} DV=${d.DV} C=${C}`;
      const N = d.B * d.T;
      const CD = rec.gatedDeltaChannels(d);
      const x = inputs(d, rng);
      const packed = pack(x, d, N);
      const SS = d.B * d.NV * d.DK * d.DV;
      const S0 = randn(SS, rng, 0.5);
      const qkv = gpu.upload(packed.qkv, [d.B, d.T, CD], 'qkv');
      const gb = gpu.upload(packed.gb, [d.B, d.T, d.NV, 2], 'gb');
      const out = gpu.upload(randn(N * d.NV * d.DV, rng), [d.B, d.T, d.NV, d.DV], 'out');
      const ckpt = gpu.tensor([d.B, d.NV, gpuK.gatedDeltaChunks(d.T, C), d.DK, d.DV], 'ckpt');
      gpuK.gatedDeltaChunkForward(gpu, out, qkv, gb, d, { C, ckpt, state: null, initial: false, final: false });
      const want = new Float32Array(out.size);
      ref.gatedDeltaChunkForward(want, null, x.q, x.k, x.v, x.g, x.beta, null, d, C);
      results.push(compare('gated_delta_chunk_forward', `${name} (overwrites)`, 'out', await gpu.read(out), want, TOL));

      const dout = randn(out.size, rng);
      const tDout = gpu.upload(dout, out.shape, 'dout');
      const dqkv = gpu.upload(randn(qkv.size, rng), qkv.shape, 'dqkv');
      const dgb = gpu.upload(randn(gb.size, rng), gb.shape, 'dgb');
      gpuK.gatedDeltaChunkBackward(gpu, dqkv, dgb, tDout, qkv, gb, ckpt, d, C);
      const r: Unpacked = {
        q: new Float32Array(x.q.length), k: new Float32Array(x.k.length), v: new Float32Array(x.v.length),
        g: new Float32Array(x.g.length), beta: new Float32Array(x.beta.length),
      };
      ref.gatedDeltaChunkBackward(r.q, r.k, r.v, r.g, r.beta, null, dout, x.q, x.k, x.v, x.g, x.beta, null, d, C);
      const rp = pack(r, d, N);
      results.push(merge([
        compare('gated_delta_chunk_backward', `${name} (overwrites)`, 'dq, dk, dv', await gpu.read(dqkv), rp.qkv, TOL),
        compare('gated_delta_chunk_backward', name, 'dg, dbeta', await gpu.read(dgb), rp.gb, TOL),
      ]));

      // prefill from an incoming state, keeping the final state; then one recurrent decoding step continues it
      const state = gpu.upload(S0, [d.B, d.NV, d.DK, d.DV], 'state');
      gpuK.gatedDeltaChunkForward(gpu, out, qkv, gb, d, { C, ckpt: null, state, initial: true, final: true });
      const finalWant = new Float32Array(SS);
      ref.gatedDeltaChunkForward(want, finalWant, x.q, x.k, x.v, x.g, x.beta, S0, d, C);
      const one: GatedDeltaDims = { ...d, T: 1 };
      const x1 = inputs(one, rng);
      const p1 = pack(x1, one, d.B);
      const sq = gpu.upload(p1.qkv, [d.B, 1, CD], 'qkv step');
      const sg = gpu.upload(p1.gb, [d.B, 1, d.NV, 2], 'gb step');
      const o1 = gpu.tensor([d.B, 1, d.NV, d.DV], 'out step');
      const gotFinal = await gpu.read(state);
      rec.gatedDeltaForward(gpu, o1, sq, sg, one, { ckpt: null, state, initial: true, final: true });
      const want1 = new Float32Array(o1.size);
      const final1 = new Float32Array(SS);
      ref.gatedDeltaChunkForward(want1, final1, x1.q, x1.k, x1.v, x1.g, x1.beta, finalWant, one, C);
      results.push(merge([
        compare('gated_delta_chunk_forward', `${name} prefill from a state`, 'out', await gpu.read(out), want, TOL),
        compare('gated_delta_chunk_forward', `${name} prefill from a state`, 'final state', gotFinal, finalWant, TOL),
        compare('gated_delta_chunk_forward', `${name} then a recurrent decoding step`, 'out', await gpu.read(o1), want1, TOL),
        compare('gated_delta_chunk_forward', `${name} then a recurrent decoding step`, 'state', await gpu.read(state), final1, TOL),
      ]));
      gpu.release(qkv, gb, out, ckpt, tDout, dqkv, dgb, state, sq, sg, o1);
    }
    return results;
  },
};
