// Qwen3.5's linear-layer ops around the delta rule against their CPU references: causal conv1d + SiLU (with
// and without a carried state, and decoding one token at a time), per-head l2norm of the q/k part of a row,
// the Gated DeltaNet gates, the gated output RMSNorm; the full layers' partial RoPE and gated q_proj.
import * as gpuK from '../../gpu/kernels/qwen35_ops';
import { causalConv1dBackward, causalConv1dForward } from '../../reference/causal_conv1d';
import { gatedRmsnormBackward, gatedRmsnormForward } from '../../reference/gated_rmsnorm';
import { gdnGatesBackward, gdnGatesForward } from '../../reference/gdn_gates';
import { l2normBackward, l2normForward } from '../../reference/l2norm';
import { outputGateBackward, outputGateForward } from '../../reference/output_gate';
import { ropeBackward, ropeForward } from '../../reference/rope';
import { Rng, randn } from '../../util/random';
import { compare, merge, type CaseResult, type KernelCheck } from '../check';

const TOL = { atol: 2e-5, rtol: 2e-5 };

const conv: KernelCheck = {
  kernel: 'causal_conv1d',
  async run(gpu) {
    const rng = new Rng(81);
    const results: CaseResult[] = [];
    for (const [B, T, D, K] of [[2, 5, 3, 4], [1, 2, 7, 4], [3, 6, 5, 2]] as const) {
      const name = `B=${B} T=${T} D=${D} K=${K}`;
      const x = randn(B * T * D, rng);
      const w = randn(D * K, rng, 0.6);
      const state = randn(B * D * (K - 1), rng);
      const tx = gpu.upload(x, [B, T, D], 'x');
      const tw = gpu.upload(w, [D, K], 'weight');
      const ts = gpu.upload(state, [B, D, K - 1], 'state');
      const out = gpu.tensor([B, T, D], 'out');
      const ns = gpu.tensor([B, D, K - 1], 'new state');
      // training: zero state, no new state
      gpuK.causalConv1dForward(gpu, out, null, tx, tw, null);
      const want = new Float32Array(B * T * D);
      causalConv1dForward(want, null, x, w, null, B, T, D, K);
      results.push(compare('causal_conv1d_forward', `${name} zero state`, 'out', await gpu.read(out), want, TOL));
      // with a state in and out
      gpuK.causalConv1dForward(gpu, out, ns, tx, tw, ts);
      const want2 = new Float32Array(B * T * D);
      const ns2 = new Float32Array(B * D * (K - 1));
      causalConv1dForward(want2, ns2, x, w, state, B, T, D, K);
      results.push(merge([
        compare('causal_conv1d_forward', `${name} with state`, 'out', await gpu.read(out), want2, TOL),
        compare('causal_conv1d_forward', `${name} with state`, 'new state', await gpu.read(ns), ns2, TOL),
      ]));
      // a right-padded prefill: row b's new state is that of its first lens[b] inputs
      const lens = Array.from({ length: B }, (_, b) => 1 + ((b * 3 + 1) % T));
      const tl = gpu.upload(Uint32Array.from(lens), [B], 'lens', 'u32');
      gpuK.causalConv1dForward(gpu, out, ns, tx, tw, ts, tl);
      const ns3 = new Float32Array(B * D * (K - 1));
      for (let b = 0; b < B; b++) {
        const row = new Float32Array(D * (K - 1));
        causalConv1dForward(new Float32Array(lens[b] * D), row, x.subarray(b * T * D, (b * T + lens[b]) * D), w,
          state.subarray(b * D * (K - 1), (b + 1) * D * (K - 1)), 1, lens[b], D, K);
        ns3.set(row, b * D * (K - 1));
      }
      results.push(compare('causal_conv1d_forward', `${name} lens ${lens.join(',')}`, 'new state', await gpu.read(ns), ns3, TOL));
      gpu.release(tl);
      // backward from a zero state; dweight accumulates onto non-zero values
      const dout = randn(B * T * D, rng);
      const dw0 = randn(D * K, rng);
      const tdout = gpu.upload(dout, [B, T, D], 'dout');
      const tdx = gpu.upload(randn(B * T * D, rng), [B, T, D], 'dx');
      const tdw = gpu.upload(dw0, [D, K], 'dweight');
      gpuK.causalConv1dBackward(gpu, tdx, tdw, tdout, tx, tw);
      const dx = new Float32Array(B * T * D);
      const dw = dw0.slice();
      causalConv1dBackward(dx, dw, dout, x, w, null, B, T, D, K);
      results.push(merge([
        compare('causal_conv1d_backward', `${name} (dx overwrites)`, 'dx', await gpu.read(tdx), dx, TOL),
        compare('causal_conv1d_backward', `${name} (dweight +=)`, 'dweight', await gpu.read(tdw), dw, TOL),
      ]));
      gpu.release(tx, tw, ts, out, ns, tdout, tdx, tdw);
    }
    return results;
  },
};

const l2: KernelCheck = {
  kernel: 'l2norm',
  async run(gpu) {
    const rng = new Rng(82);
    const results: CaseResult[] = [];
    // rows of q and k heads then v: heads * HS <= W
    for (const [N, heads, HS, W] of [[5, 2, 3, 10], [3, 4, 16, 64], [70, 1, 5, 5]] as const) {
      const name = `N=${N} heads=${heads} HS=${HS} W=${W}`;
      const x = randn(N * W, rng);
      const tx = gpu.upload(x, [N, W], 'x');
      const out = gpu.tensor([N, W], 'out');
      const rstd = gpu.tensor([N, heads], 'rstd');
      gpuK.l2normForward(gpu, out, rstd, tx, heads, HS, 1e-6);
      // reference on the normalised heads of each row; the rest copied
      const want = x.slice();
      const r = new Float32Array(N * heads);
      for (let n = 0; n < N; n++) {
        const seg = new Float32Array(heads * HS);
        l2normForward(seg, r.subarray(n * heads, (n + 1) * heads), x.subarray(n * W, n * W + heads * HS), heads, HS, 1e-6);
        want.set(seg, n * W);
      }
      results.push(merge([
        compare('l2norm_forward', name, 'out', await gpu.read(out), want, TOL),
        compare('l2norm_forward', name, 'rstd', await gpu.read(rstd), r, TOL),
      ]));
      const dout = randn(N * W, rng);
      const tdout = gpu.upload(dout, [N, W], 'dout');
      const tdx = gpu.upload(randn(N * W, rng), [N, W], 'dx');
      gpuK.l2normBackward(gpu, tdx, tdout, tx, rstd, heads, HS);
      const dx = dout.slice();
      for (let n = 0; n < N; n++) {
        const seg = new Float32Array(heads * HS);
        l2normBackward(seg, dout.subarray(n * W, n * W + heads * HS), x.subarray(n * W, n * W + heads * HS), r.subarray(n * heads, (n + 1) * heads), heads, HS);
        dx.set(seg, n * W);
      }
      results.push(compare('l2norm_backward', `${name} (overwrites)`, 'dx', await gpu.read(tdx), dx, TOL));
      gpu.release(tx, out, rstd, tdout, tdx);
    }
    return results;
  },
};

const gates: KernelCheck = {
  kernel: 'gdn_gates',
  async run(gpu) {
    const rng = new Rng(83);
    const results: CaseResult[] = [];
    for (const [N, NV] of [[7, 3], [300, 2]] as const) {
      const name = `N=${N} NV=${NV}`;
      const b = randn(N * NV, rng, 2);
      const a = randn(N * NV, rng, 8); // some a + dt_bias above softplus's threshold of 20
      a[0] = 25;
      const aLog = randn(NV, rng);
      const dt = randn(NV, rng);
      const t = { b: gpu.upload(b, [N, NV], 'b'), a: gpu.upload(a, [N, NV], 'a'), aLog: gpu.upload(aLog, [NV], 'A_log'), dt: gpu.upload(dt, [NV], 'dt_bias') };
      const gb = gpu.tensor([N, NV, 2], 'gb');
      gpuK.gdnGatesForward(gpu, gb, t.b, t.a, t.aLog, t.dt);
      const beta = new Float32Array(N * NV);
      const g = new Float32Array(N * NV);
      gdnGatesForward(beta, g, b, a, aLog, dt, N, NV);
      const want = new Float32Array(N * NV * 2);
      for (let i = 0; i < N * NV; i++) [want[2 * i], want[2 * i + 1]] = [g[i], beta[i]];
      results.push(compare('gdn_gates_forward', name, 'gb', await gpu.read(gb), want, TOL));
      // padding: rows of T = N / B tokens, tokens past lens[b] get g = beta = 0
      const Bp = N === 7 ? 1 : 3;
      const T = N / Bp;
      if (Number.isInteger(T)) {
        const lens = Array.from({ length: Bp }, (_, r) => (r * 37 + 2) % T);
        const tl = gpu.upload(Uint32Array.from(lens), [Bp], 'lens', 'u32');
        gpuK.gdnGatesForward(gpu, gb, t.b, t.a, t.aLog, t.dt, { T, lens: tl });
        const padded = want.map((v, i) => (Math.floor(i / 2 / NV) % T >= lens[Math.floor(i / 2 / NV / T)] ? 0 : v));
        results.push(compare('gdn_gates_forward', `${name} padded rows ${lens.join(',')}`, 'gb', await gpu.read(gb), padded, TOL));
        gpu.release(tl);
      }
      const dgb = randn(N * NV * 2, rng);
      const dp0 = randn(2 * NV, rng);
      const tdgb = gpu.upload(dgb, [N, NV, 2], 'dgb');
      const db = gpu.tensor([N, NV], 'db');
      const da = gpu.tensor([N, NV], 'da');
      const dp = gpu.upload(dp0, [2, NV], 'dparams');
      gpuK.gdnGatesBackward(gpu, db, da, dp, tdgb, t.b, t.a, t.aLog, t.dt);
      const rdb = new Float32Array(N * NV);
      const rda = new Float32Array(N * NV);
      const dAlog = dp0.slice(0, NV);
      const ddt = dp0.slice(NV);
      const dgs = Float32Array.from({ length: N * NV }, (_, i) => dgb[2 * i]);
      const dbs = Float32Array.from({ length: N * NV }, (_, i) => dgb[2 * i + 1]);
      gdnGatesBackward(rdb, rda, dAlog, ddt, dbs, dgs, b, a, aLog, dt, N, NV);
      results.push(merge([
        compare('gdn_gates_backward', name, 'db', await gpu.read(db), rdb, TOL),
        compare('gdn_gates_backward', name, 'da', await gpu.read(da), rda, TOL),
        compare('gdn_gates_backward', `${name} (+=)`, 'dA_log, ddt_bias', await gpu.read(dp), Float32Array.from([...dAlog, ...ddt]), { atol: 1e-4, rtol: 1e-4 }),
      ]));
      gpu.release(t.b, t.a, t.aLog, t.dt, gb, tdgb, db, da, dp);
    }
    return results;
  },
};

const gatedNorm: KernelCheck = {
  kernel: 'gated_rmsnorm',
  async run(gpu) {
    const rng = new Rng(84);
    const results: CaseResult[] = [];
    for (const [N, C] of [[6, 4], [3, 128], [70, 2]] as const) {
      const name = `N=${N} C=${C}`;
      const x = randn(N * C, rng);
      const z = randn(N * C, rng);
      const w = randn(C, rng, 0.3).map((v) => v + 1);
      const t = { x: gpu.upload(x, [N, C], 'x'), z: gpu.upload(z, [N, C], 'z'), w: gpu.upload(w, [C], 'weight') };
      const out = gpu.tensor([N, C], 'out');
      const rstd = gpu.tensor([N], 'rstd');
      gpuK.gatedRmsnormForward(gpu, out, rstd, t.x, t.z, t.w, 1e-6);
      const want = new Float32Array(N * C);
      const r = new Float32Array(N);
      gatedRmsnormForward(want, r, x, z, w, N, C, 1e-6);
      results.push(merge([
        compare('gated_rmsnorm_forward', name, 'out', await gpu.read(out), want, TOL),
        compare('gated_rmsnorm_forward', name, 'rstd', await gpu.read(rstd), r, TOL),
      ]));
      const dout = randn(N * C, rng);
      const dw0 = randn(C, rng);
      const tdout = gpu.upload(dout, [N, C], 'dout');
      const dx = gpu.tensor([N, C], 'dx');
      const dz = gpu.tensor([N, C], 'dz');
      const dw = gpu.upload(dw0, [C], 'dweight');
      gpuK.gatedRmsnormBackward(gpu, dx, dz, dw, tdout, t.x, t.z, t.w, rstd);
      const rdx = new Float32Array(N * C);
      const rdz = new Float32Array(N * C);
      const rdw = dw0.slice();
      gatedRmsnormBackward(rdx, rdz, rdw, dout, x, z, w, r, N, C);
      results.push(merge([
        compare('gated_rmsnorm_backward', name, 'dx', await gpu.read(dx), rdx, TOL),
        compare('gated_rmsnorm_backward', name, 'dz', await gpu.read(dz), rdz, TOL),
        compare('gated_rmsnorm_backward', `${name} (+=)`, 'dweight', await gpu.read(dw), rdw, { atol: 1e-4, rtol: 1e-4 }),
      ]));
      gpu.release(t.x, t.z, t.w, out, rstd, tdout, dx, dz, dw);
    }
    return results;
  },
};


const partialRope: KernelCheck = {
  kernel: 'partial_rope',
  async run(gpu) {
    const rng = new Rng(85);
    const results: CaseResult[] = [];
    for (const [N, heads, HS, R] of [[3, 2, 8, 4], [5, 1, 6, 6], [4, 3, 16, 2]] as const) {
      const name = `N=${N} heads=${heads} HS=${HS} R=${R}`;
      const x = randn(N * heads * HS, rng);
      const pos = Uint32Array.from({ length: N }, () => rng.int(300));
      const inv = Float32Array.from({ length: R / 2 }, (_, i) => 1 / Math.pow(10000, (2 * i) / R));
      const tx = gpu.upload(x, [N, heads * HS], 'x');
      const tp = gpu.upload(pos, [N], 'positions', 'u32');
      const ti = gpu.upload(inv, [R / 2], 'inv_freq');
      const out = gpu.tensor([N, heads * HS], 'out');
      for (const dir of ['forward', 'backward'] as const) {
        gpuK.partialRope(gpu, dir, out, tx, tp, ti, heads, HS, R);
        const want = new Float32Array(x.length);
        (dir === 'forward' ? ropeForward : ropeBackward)(want, x, pos, inv, N, heads, HS, 'half', R);
        results.push(compare(`partial_rope_${dir}`, name, 'out', await gpu.read(out), want, { atol: 1e-5, rtol: 1e-5 }));
      }
      gpu.release(tx, tp, ti, out);
    }
    return results;
  },
};

const outputGate: KernelCheck = {
  kernel: 'output_gate',
  async run(gpu) {
    const rng = new Rng(86);
    const results: CaseResult[] = [];
    for (const [N, NH, HS] of [[3, 2, 4], [7, 3, 5]] as const) {
      const name = `N=${N} NH=${NH} HS=${HS}`;
      const qg = randn(N * NH * 2 * HS, rng, 2);
      const att = randn(N * NH * HS, rng);
      const tqg = gpu.upload(qg, [N, NH * 2 * HS], 'qg');
      const tatt = gpu.upload(att, [N, NH * HS], 'att');
      const out = gpu.tensor([N, NH * HS], 'out');
      gpuK.outputGateForward(gpu, out, tatt, tqg, NH, HS);
      const want = new Float32Array(att.length);
      outputGateForward(want, att, qg, N, NH, HS);
      results.push(compare('output_gate_forward', name, 'out', await gpu.read(out), want, TOL));
      gpuK.splitQuery(gpu, out, tqg, NH, HS);
      const q = Float32Array.from({ length: att.length }, (_, o) => qg[Math.floor(o / HS) * 2 * HS + (o % HS)]);
      results.push(compare('output_gate_forward', `${name} query split`, 'q', await gpu.read(out), q, { atol: 0, rtol: 0 }));
      const dout = randn(att.length, rng);
      const dq = randn(att.length, rng);
      const t = { dout: gpu.upload(dout, [N, NH * HS], 'dout'), dq: gpu.upload(dq, [N, NH * HS], 'dq') };
      const datt = gpu.tensor([N, NH * HS], 'datt');
      const dqg = gpu.tensor([N, NH * 2 * HS], 'dqg');
      gpuK.outputGateBackward(gpu, datt, dqg, t.dout, tatt, tqg, t.dq, NH, HS);
      const rdatt = new Float32Array(att.length);
      const rdqg = new Float32Array(qg.length);
      outputGateBackward(rdatt, rdqg, dout, att, qg, N, NH, HS);
      for (let o = 0; o < att.length; o++) rdqg[Math.floor(o / HS) * 2 * HS + (o % HS)] = dq[o];
      results.push(merge([
        compare('output_gate_backward', name, 'datt', await gpu.read(datt), rdatt, TOL),
        compare('output_gate_backward', `${name} (query halves = dq)`, 'dqg', await gpu.read(dqg), rdqg, TOL),
      ]));
      gpu.release(tqg, tatt, out, t.dout, t.dq, datt, dqg);
    }
    return results;
  },
};

export const checks: KernelCheck[] = [conv, l2, gates, gatedNorm, partialRope, outputGate];
