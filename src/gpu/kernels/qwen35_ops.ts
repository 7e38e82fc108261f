// Host wrappers of Qwen3.5's linear-layer ops around the gated delta rule (gated_delta.ts): the causal
// depthwise conv1d + SiLU (causal_conv1d_*.wgsl), the per-head l2norm of the conv output's q and k
// (l2norm_*.wgsl), the Gated DeltaNet gates (gdn_gates_*.wgsl) and the gated output RMSNorm (gated_rmsnorm_*.wgsl);
// and the full layers' partial RoPE (partial_rope_*.wgsl) and gated q_proj (output_gate_*.wgsl).
// CPU references: src/reference/{causal_conv1d,l2norm,gdn_gates,gated_rmsnorm}.ts.
import convForwardCode from '../../../shaders/causal_conv1d_forward.wgsl?raw';
import convBackwardCode from '../../../shaders/causal_conv1d_backward.wgsl?raw';
import l2ForwardCode from '../../../shaders/l2norm_forward.wgsl?raw';
import l2BackwardCode from '../../../shaders/l2norm_backward.wgsl?raw';
import gatesForwardCode from '../../../shaders/gdn_gates_forward.wgsl?raw';
import gatesBackwardCode from '../../../shaders/gdn_gates_backward.wgsl?raw';
import grnForwardCode from '../../../shaders/gated_rmsnorm_forward.wgsl?raw';
import grnBackwardCode from '../../../shaders/gated_rmsnorm_backward.wgsl?raw';
import partialRopeForwardCode from '../../../shaders/partial_rope_forward.wgsl?raw';
import partialRopeBackwardCode from '../../../shaders/partial_rope_backward.wgsl?raw';
import gateForwardCode from '../../../shaders/output_gate_forward.wgsl?raw';
import gateBackwardCode from '../../../shaders/output_gate_backward.wgsl?raw';
import { defineKernel } from '../kernel';
import { grid, type GpuRuntime } from '../runtime';
import { expectShape, type Tensor } from '../tensor';

export const CAUSAL_CONV1D_FORWARD = defineKernel({
  name: 'causal_conv1d_forward', source: convForwardCode,
  params: { B: 'u32', T: 'u32', D: 'u32', K: 'u32', has_state: 'u32', has_new_state: 'u32', has_lens: 'u32' },
  buffers: { x: 'read', weight: 'read', state: 'read', lens: 'read', out: 'read_write', new_state: 'read_write' },
});
export const CAUSAL_CONV1D_BACKWARD = defineKernel({
  name: 'causal_conv1d_backward', source: convBackwardCode,
  params: { B: 'u32', T: 'u32', D: 'u32', K: 'u32', has_dweight: 'u32' },
  buffers: { dout: 'read', x: 'read', weight: 'read', dx: 'read_write', dweight: 'read_write' },
});
export const L2NORM_FORWARD = defineKernel({
  name: 'l2norm_forward', source: l2ForwardCode,
  params: { N: 'u32', W: 'u32', heads: 'u32', HS: 'u32', eps: 'f32' },
  buffers: { x: 'read', out: 'read_write', rstd: 'read_write' },
});
export const L2NORM_BACKWARD = defineKernel({
  name: 'l2norm_backward', source: l2BackwardCode,
  params: { N: 'u32', W: 'u32', heads: 'u32', HS: 'u32' },
  buffers: { dout: 'read', x: 'read', rstd: 'read', dx: 'read_write' },
});
export const GDN_GATES_FORWARD = defineKernel({
  name: 'gdn_gates_forward', source: gatesForwardCode,
  params: { N: 'u32', NV: 'u32', T: 'u32', has_lens: 'u32' },
  buffers: { b: 'read', a: 'read', a_log: 'read', dt_bias: 'read', lens: 'read', gb: 'read_write' },
});
export const GDN_GATES_BACKWARD = defineKernel({
  name: 'gdn_gates_backward', source: gatesBackwardCode,
  params: { N: 'u32', NV: 'u32', has_dparams: 'u32' },
  buffers: { dgb: 'read', b: 'read', a: 'read', a_log: 'read', dt_bias: 'read', db: 'read_write', da: 'read_write', dparams: 'read_write' },
});
export const GATED_RMSNORM_FORWARD = defineKernel({
  name: 'gated_rmsnorm_forward', source: grnForwardCode,
  params: { N: 'u32', C: 'u32', eps: 'f32' },
  buffers: { x: 'read', z: 'read', weight: 'read', out: 'read_write', rstd: 'read_write' },
});
export const GATED_RMSNORM_BACKWARD = defineKernel({
  name: 'gated_rmsnorm_backward', source: grnBackwardCode,
  params: { N: 'u32', C: 'u32', has_dweight: 'u32' },
  buffers: { dout: 'read', x: 'read', z: 'read', weight: 'read', rstd: 'read', dx: 'read_write', dz: 'read_write', dweight: 'read_write' },
});

/** A one-element tensor bound where a buffer is unused (the flags say it is never touched); released by the caller. */
function spare(gpu: GpuRuntime): Tensor {
  return gpu.tensor([1], 'qwen35 spare binding');
}

/** out = silu(causal depthwise conv(x)), x, out (B, T, D), weight (D, K) (the checkpoint's (D, 1, K)). With
 * `state` (B, D, K-1) the inputs before t = 0 (else zeros); with `newState` (another tensor) the last K-1 inputs
 * are written there (decoding), those before lens[b] (B) u32 when given (a right-padded prefill). Overwrites out
 * and newState. */
export function causalConv1dForward(
  gpu: GpuRuntime, out: Tensor, newState: Tensor | null, x: Tensor, weight: Tensor, state: Tensor | null, lens: Tensor | null = null,
): void {
  const [B, T, D] = x.shape;
  const K = weight.size / D;
  if (!Number.isInteger(K) || K < 1) throw new Error(`${weight.label}: ${weight.size} values do not make (D = ${D}, K) taps`);
  expectShape(out, x.shape);
  if (state) expectShape(state, [B, D, K - 1]);
  if (newState) expectShape(newState, [B, D, K - 1]);
  if (state && newState && state.buffer === newState.buffer) throw new Error('causal conv1d: state and newState must be different tensors');
  // distinct spares: a read and a written binding may not share a buffer
  const s1 = state ? null : spare(gpu);
  const s2 = newState ? null : spare(gpu);
  const s3 = lens ? null : spare(gpu);
  if (lens) expectShape(lens, [B]);
  gpu.run(
    CAUSAL_CONV1D_FORWARD, { x, weight, state: state ?? s1!, lens: lens ?? s3!, out, new_state: newState ?? s2! },
    { B, T, D, K, has_state: state ? 1 : 0, has_new_state: newState ? 1 : 0, has_lens: lens ? 1 : 0 }, grid(Math.ceil(B * T * D / 256)),
  );
  gpu.release(s1, s2, s3);
}

/** dx (B, T, D) (overwrites) and dweight (D, K) (accumulates, when given) from dout, from a zero state. */
export function causalConv1dBackward(gpu: GpuRuntime, dx: Tensor, dweight: Tensor | null, dout: Tensor, x: Tensor, weight: Tensor): void {
  const [B, T, D] = x.shape;
  const K = weight.size / D;
  expectShape(dout, x.shape);
  expectShape(dx, x.shape);
  if (dweight && dweight.size !== weight.size) throw new Error(`${dweight.label}: expected ${weight.size} values like ${weight.label}`);
  const s = dweight ? null : spare(gpu);
  gpu.run(
    CAUSAL_CONV1D_BACKWARD, { dout, x, weight, dx, dweight: dweight ?? s! },
    { B, T, D, K, has_dweight: dweight ? 1 : 0 }, grid(Math.ceil(Math.max(B * T * D, D * K) / 256)),
  );
  if (s) gpu.release(s);
}

/** out (N, W): the first `heads` heads of HS of each row l2-normalised (x * rsqrt(sum x^2 + eps)), the rest
 * copied; rstd (N, heads). Overwrites both. */
export function l2normForward(gpu: GpuRuntime, out: Tensor, rstd: Tensor, x: Tensor, heads: number, HS: number, eps: number): void {
  const [N, W] = x.shape;
  if (heads * HS > W) throw new Error(`l2norm: ${heads} heads of ${HS} exceed the row width ${W}`);
  expectShape(out, x.shape);
  expectShape(rstd, [N, heads]);
  gpu.run(L2NORM_FORWARD, { x, out, rstd }, { N, W, heads, HS, eps }, grid(Math.ceil(N * (heads + 1) / 64)));
}

/** dx (N, W) (overwrites): the normalised heads' gradient, the rest of each row copied from dout. */
export function l2normBackward(gpu: GpuRuntime, dx: Tensor, dout: Tensor, x: Tensor, rstd: Tensor, heads: number, HS: number): void {
  const [N, W] = x.shape;
  expectShape(dout, x.shape);
  expectShape(dx, x.shape);
  expectShape(rstd, [N, heads]);
  gpu.run(L2NORM_BACKWARD, { dout, x, rstd, dx }, { N, W, heads, HS }, grid(Math.ceil(N * (heads + 1) / 64)));
}

/** gb (N, NV, 2) = (g, beta) = (-exp(A_log) softplus(a + dt_bias), sigmoid(b)); b, a (N, NV); aLog, dtBias (NV).
 * With `pad` (rows of T tokens, lens (B) u32), tokens past their row's length get g = beta = 0 (the state passes). */
export function gdnGatesForward(
  gpu: GpuRuntime, gb: Tensor, b: Tensor, a: Tensor, aLog: Tensor, dtBias: Tensor, pad: { T: number; lens: Tensor } | null = null,
): void {
  const [N, NV] = b.shape;
  expectShape(a, b.shape);
  expectShape(aLog, [NV]);
  expectShape(dtBias, [NV]);
  expectShape(gb, [N, NV, 2]);
  if (pad) expectShape(pad.lens, [N / pad.T]);
  const s = pad ? null : spare(gpu);
  gpu.run(GDN_GATES_FORWARD, { b, a, a_log: aLog, dt_bias: dtBias, lens: pad?.lens ?? s!, gb }, { N, NV, T: pad?.T ?? 1, has_lens: pad ? 1 : 0 },
    grid(Math.ceil(N * NV / 256)));
  gpu.release(s);
}

/** db, da (N, NV) (overwrite) from dgb (N, NV, 2); dparams (2, NV) = (dA_log, ddt_bias) accumulates when given. */
export function gdnGatesBackward(
  gpu: GpuRuntime, db: Tensor, da: Tensor, dparams: Tensor | null, dgb: Tensor, b: Tensor, a: Tensor, aLog: Tensor, dtBias: Tensor,
): void {
  const [N, NV] = b.shape;
  expectShape(dgb, [N, NV, 2]);
  expectShape(db, b.shape);
  expectShape(da, b.shape);
  if (dparams) expectShape(dparams, [2, NV]);
  const s = dparams ? null : spare(gpu);
  gpu.run(
    GDN_GATES_BACKWARD, { dgb, b, a, a_log: aLog, dt_bias: dtBias, db, da, dparams: dparams ?? s! },
    { N, NV, has_dparams: dparams ? 1 : 0 }, grid(Math.ceil(Math.max(N * NV, NV) / 256)),
  );
  if (s) gpu.release(s);
}

/** out = rms(x) * w * silu(z) per row; x, z, out (N, C); weight (C); rstd (N). Overwrites out and rstd. */
export function gatedRmsnormForward(gpu: GpuRuntime, out: Tensor, rstd: Tensor, x: Tensor, z: Tensor, weight: Tensor, eps: number): void {
  const [N, C] = x.shape;
  expectShape(z, x.shape);
  expectShape(out, x.shape);
  expectShape(weight, [C]);
  expectShape(rstd, [N]);
  gpu.run(GATED_RMSNORM_FORWARD, { x, z, weight, out, rstd }, { N, C, eps }, grid(Math.ceil(N / 64)));
}

/** dx, dz (N, C) (overwrite); dweight (C) accumulates when given. */
export function gatedRmsnormBackward(
  gpu: GpuRuntime, dx: Tensor, dz: Tensor, dweight: Tensor | null, dout: Tensor, x: Tensor, z: Tensor, weight: Tensor, rstd: Tensor,
): void {
  const [N, C] = x.shape;
  for (const t of [dout, z, dx, dz]) expectShape(t, x.shape);
  expectShape(rstd, [N]);
  if (dweight) expectShape(dweight, [C]);
  const s = dweight ? null : spare(gpu);
  gpu.run(
    GATED_RMSNORM_BACKWARD, { dout, x, z, weight, rstd, dx, dz, dweight: dweight ?? s! },
    { N, C, has_dweight: dweight ? 1 : 0 }, grid(Math.ceil(Math.max(N, C) / 64)),
  );
  if (s) gpu.release(s);
}

// ---- Qwen3.5's full-attention layers: partial RoPE and the gated q_proj ----

const PARTIAL_ROPE_LAYOUT = {
  params: { N: 'u32', heads: 'u32', HS: 'u32', R: 'u32' },
  buffers: { x: 'read', positions: 'read', inv_freq: 'read', out: 'read_write' },
} as const;
export const PARTIAL_ROPE_FORWARD = defineKernel({ name: 'partial_rope_forward', source: partialRopeForwardCode, ...PARTIAL_ROPE_LAYOUT });
export const PARTIAL_ROPE_BACKWARD = defineKernel({ name: 'partial_rope_backward', source: partialRopeBackwardCode, ...PARTIAL_ROPE_LAYOUT });
export const OUTPUT_GATE_FORWARD = defineKernel({
  name: 'output_gate_forward', source: gateForwardCode,
  params: { N: 'u32', NH: 'u32', HS: 'u32', mode: 'u32' },
  buffers: { qg: 'read', att: 'read', out: 'read_write' },
});
export const OUTPUT_GATE_BACKWARD = defineKernel({
  name: 'output_gate_backward', source: gateBackwardCode,
  params: { N: 'u32', NH: 'u32', HS: 'u32' },
  buffers: { dout: 'read', att: 'read', qg: 'read', dq: 'read', datt: 'read_write', dqg: 'read_write' },
});

/** out = partial RoPE of x (forward) or its transpose (backward): x, out (N, heads*HS), the first R channels of
 * each head rotated (rotate-half within them) by positions (N) u32 and invFreq (R/2), the rest copied. */
export function partialRope(
  gpu: GpuRuntime, dir: 'forward' | 'backward', out: Tensor, x: Tensor, positions: Tensor, invFreq: Tensor, heads: number, HS: number, R: number,
): void {
  const N = x.shape[0];
  if (R < 2 || R % 2 !== 0 || R > HS) throw new Error(`partial rope: rotary dim ${R} must be even, >= 2 and <= HS = ${HS}`);
  expectShape(x, [N, heads * HS]);
  expectShape(out, x.shape);
  expectShape(positions, [N]);
  expectShape(invFreq, [R / 2]);
  if (out.buffer === x.buffer) throw new Error('partial rope: out needs its own tensor');
  gpu.run(dir === 'forward' ? PARTIAL_ROPE_FORWARD : PARTIAL_ROPE_BACKWARD, { x, positions, inv_freq: invFreq, out }, { N, heads, HS, R },
    grid(Math.ceil(N * heads * HS / 256)));
}

/** out (N, NH*HS) = att * sigmoid(gate halves of qg (N, NH*2*HS)). Overwrites out. */
export function outputGateForward(gpu: GpuRuntime, out: Tensor, att: Tensor, qg: Tensor, NH: number, HS: number): void {
  const N = qg.shape[0];
  expectShape(qg, [N, NH * 2 * HS]);
  expectShape(att, [N, NH * HS]);
  expectShape(out, att.shape);
  gpu.run(OUTPUT_GATE_FORWARD, { qg, att, out }, { N, NH, HS, mode: 0 }, grid(Math.ceil(N * NH * HS / 256)));
}

/** q (N, NH*HS) = the query halves of qg (N, NH*2*HS). Overwrites q. */
export function splitQuery(gpu: GpuRuntime, q: Tensor, qg: Tensor, NH: number, HS: number): void {
  const N = qg.shape[0];
  expectShape(qg, [N, NH * 2 * HS]);
  expectShape(q, [N, NH * HS]);
  gpu.run(OUTPUT_GATE_FORWARD, { qg, att: qg, out: q }, { N, NH, HS, mode: 1 }, grid(Math.ceil(N * NH * HS / 256)));
}

/** datt (N, NH*HS) and dqg (N, NH*2*HS) (gate halves from dout, query halves = dq); both overwritten. */
export function outputGateBackward(
  gpu: GpuRuntime, datt: Tensor, dqg: Tensor, dout: Tensor, att: Tensor, qg: Tensor, dq: Tensor, NH: number, HS: number,
): void {
  const N = qg.shape[0];
  expectShape(qg, [N, NH * 2 * HS]);
  expectShape(dqg, qg.shape);
  for (const t of [dout, att, dq, datt]) expectShape(t, [N, NH * HS]);
  gpu.run(OUTPUT_GATE_BACKWARD, { dout, att, qg, dq, datt, dqg }, { N, NH, HS }, grid(Math.ceil(N * NH * HS / 256)));
}
