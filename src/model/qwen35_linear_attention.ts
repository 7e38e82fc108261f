// Qwen3.5's linear-attention (Gated DeltaNet) token mixer on the GPU, forward and backward: the GPU twin of
// src/reference/qwen35.ts (same steps, same shapes; N = B*T rows; NK, DK, NV, DV, K, CD as in config_qwen35.ts):
//   qkv = a Wqkv^T                       (B, T, CD)        z = a Wz^T (N, NV*DV); b, a' = a Wb^T, a Wa^T (N, NV)
//   c   = silu(causal_conv1d(qkv))       (B, T, CD)        causal_conv1d_forward
//   cn  = l2norm of c's q and k heads    (N, CD)           l2norm_forward (v copied)
//   gb  = (g, beta)                      (N, NV, 2)        gdn_gates_forward
//   o   = gated delta rule (cn, gb)      (B, T, NV, DV)    gated_delta_chunk_forward (chunked WY form, checkpoints
//                                                          per chunk) or gated_delta_forward (recurrent, checkpoints
//                                                          every CH tokens): chooseGdnForm; decoding: recurrent
//   y   = rms(o) * w_norm * silu(z)      (N*NV, DV)        gated_rmsnorm_forward
//   out = y Wout^T                       (N, C)
// The projections go through the caller's `linear` / `linearBackward` (base weight, 16-bit or f32, plus LoRA),
// so LoRA on in_proj_* / out_proj is the transformer's business, as on every other projection.

import { gatedDeltaBackward, gatedDeltaForward } from '../gpu/kernels/gated_delta';
import { GATED_DELTA_CHUNK_DEFAULT, gatedDeltaChunkBackward, gatedDeltaChunkFits, gatedDeltaChunkForward, gatedDeltaChunks } from '../gpu/kernels/gated_delta_chunk';
import {
  causalConv1dBackward, causalConv1dForward, gatedRmsnormBackward, gatedRmsnormForward, gdnGatesBackward, gdnGatesForward, l2normBackward,
  l2normForward,
} from '../gpu/kernels/qwen35_ops';
import { matmul } from '../gpu/kernels/matmul';
import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import type { GatedDeltaDims } from '../ops/gated_delta';
import type { ModelConfig } from './config';
import { convChannels, type LinearAttnModule } from './weights_qwen35';

/** transformers' l2norm epsilon (fixed, not rms_norm_eps) */
const L2NORM_EPS = 1e-6;
/** the delta rule's checkpoint interval in training (state memory: ceil(T / CH) + CH + 3 states per row and head) */
export const GDN_CHECKPOINT_INTERVAL = 16;
/** The chunked form's chunk length (its checkpoints: one state per chunk). */
export const GDN_CHUNK = GATED_DELTA_CHUNK_DEFAULT;
/** Sequences of at least this many tokens run the chunked form in training and prefill (see chooseGdnForm). */
export const GDN_CHUNKED_MIN_T = GDN_CHUNK;

/** Which kernels run the delta rule over a sequence: the chunked WY / UT-transform form or the recurrent one. */
export type GdnForm = 'chunked' | 'recurrent';

/** The form for a sequence of d.T tokens (training forward/backward and prefill; a decode step is always
 * recurrent): chunked from GDN_CHUNKED_MIN_T tokens (one chunk or more) while a row's chunk scratch fits one
 * binding (gatedDeltaChunkFits), recurrent otherwise. A function of the shapes only, so the memory plan's dry run
 * makes the same choice. */
export function chooseGdnForm(d: GatedDeltaDims): GdnForm {
  return d.T >= GDN_CHUNKED_MIN_T && gatedDeltaChunkFits(d, GDN_CHUNK) ? 'chunked' : 'recurrent';
}

export interface GdnSaved {
  qkv: Tensor; // (B, T, CD) conv input
  conv: Tensor; // (B, T, CD) conv output, before l2norm
  rstdL2: Tensor; // (N, 2*NK)
  qkvn: Tensor; // (B, T, CD) the delta rule's input
  z: Tensor; // (N, NV*DV)
  b: Tensor; // (N, NV)
  a: Tensor; // (N, NV)
  gb: Tensor; // (B, T, NV, 2)
  ckpt: Tensor; // (B, NV, NC, DK, DV): NC = ceil(T / GDN_CHUNK) (chunked) or ceil(T / CH) (recurrent)
  form: GdnForm;
  o: Tensor; // (B, T, NV, DV)
  rstdO: Tensor; // (N*NV)
  y: Tensor; // (N, NV*DV) out_proj's input
}

export function gdnDims(c: ModelConfig, B: number, T: number): GatedDeltaDims {
  const s = c.linearAttention!;
  return { B, T, NK: s.numKeyHeads, NV: s.numValueHeads, DK: s.keyHeadDim, DV: s.valueHeadDim, scale: s.keyHeadDim ** -0.5 };
}

function view(t: Tensor, shape: number[]): Tensor {
  return { ...t, shape };
}

export type GdnLinear = (y: Tensor, x: Tensor, m: LinearAttnModule) => void;
export type GdnLinearBackward = (dx: Tensor, dy: Tensor, x: Tensor, m: LinearAttnModule, accumulate: boolean) => void;

/** A linear layer's decoding state: the conv's last K-1 inputs (B, CD, K-1) and the delta rule's state
 * (B, NV, DK, DV); constant in the sequence length (it replaces a KV cache). */
export interface GdnDecodeState {
  convState: Tensor;
  /** where a decode step's conv writes its new state before it is copied into convState */
  convNext: Tensor;
  state: Tensor;
}

/** Allocates a linear layer's decoding state for B rows (`alloc` records the tensors for release). */
export function allocGdnDecodeState(c: ModelConfig, B: number, alloc: (shape: number[], label: string) => Tensor, label: string): GdnDecodeState {
  const s = c.linearAttention!;
  const CD = convChannels(s);
  return {
    convState: alloc([B, CD, s.convKernel - 1], `${label}.conv_state`),
    convNext: alloc([B, CD, s.convKernel - 1], `${label}.conv_state (next)`),
    state: alloc([B, s.numValueHeads, s.keyHeadDim, s.valueHeadDim], `${label}.recurrent_state`),
  };
}

/** Bytes of every linear layer's decoding state for B rows (f32): what replaces their KV caches in a memory plan. */
export function gdnDecodeStateBytes(c: ModelConfig, B: number): number {
  const s = c.linearAttention;
  if (!s) return 0;
  const layers = (c.layerTypes ?? []).filter((t) => t === 'linear_attention').length;
  const per = 2 * convChannels(s) * (s.convKernel - 1) + s.numValueHeads * s.keyHeadDim * s.valueHeadDim;
  return layers * B * per * 4;
}

/** The token mixer of linear layer `p` ('model.layers.3') on the normed input a (N, C): out (N, C) (the caller
 * releases it) and what backward needs. With `prefill` (a right-padded prompt batch, row lengths lens (B) u32),
 * the layer's decoding state is written as each row's last real token leaves it, and no checkpoints are kept.
 * `form` picks the delta rule's kernels (default chooseGdnForm); the backward follows the forward's. */
export function gdnForward(
  gpu: GpuRuntime, c: ModelConfig, w: (name: string) => Tensor, linear: GdnLinear, p: string, a: Tensor, B: number, T: number,
  prefill: (GdnDecodeState & { lens: Tensor }) | null = null, form: GdnForm = chooseGdnForm(gdnDims(c, B, T)),
): { out: Tensor; saved: GdnSaved } {
  const d = gdnDims(c, B, T);
  const N = B * T;
  const CD = convChannels(c.linearAttention!);
  const VD = d.NV * d.DV;
  const qkv0 = gpu.tensor([B, T, CD], `${p}.linear_attn.qkv`);
  const z0 = gpu.tensor([N, VD], `${p}.linear_attn.z`);
  const b0 = gpu.tensor([N, d.NV], `${p}.linear_attn.b`);
  const aa0 = gpu.tensor([N, d.NV], `${p}.linear_attn.a`);
  linear(view(qkv0, [N, CD]), a, 'in_proj_qkv');
  linear(z0, a, 'in_proj_z');
  linear(b0, a, 'in_proj_b');
  linear(aa0, a, 'in_proj_a');
  // a prefill keeps nothing for backward: each intermediate is released as soon as it is read, and the pool hands
  // its buffer to the next one (of the (B, T, CD) trio only two are ever held, and none is held into the MLP)
  const done = (t: Tensor): Tensor => {
    if (!prefill) return t;
    gpu.release(t);
    return gpu.tensor([1], `${t.label} (prefill: released)`);
  };
  const conv0 = gpu.tensor([B, T, CD], `${p}.linear_attn.conv`);
  causalConv1dForward(gpu, conv0, prefill?.convState ?? null, qkv0, w(`${p}.linear_attn.conv1d.weight`), null, prefill?.lens ?? null);
  const qkv = done(qkv0);
  const qkvn0 = gpu.tensor([B, T, CD], `${p}.linear_attn.qkv_normed`);
  const rstdL2 = gpu.tensor([N, 2 * d.NK], `${p}.linear_attn.rstd_l2`);
  l2normForward(gpu, view(qkvn0, [N, CD]), rstdL2, view(conv0, [N, CD]), 2 * d.NK, d.DK, L2NORM_EPS);
  const conv = done(conv0);
  const gb0 = gpu.tensor([B, T, d.NV, 2], `${p}.linear_attn.gb`);
  gdnGatesForward(gpu, view(gb0, [N, d.NV, 2]), b0, aa0, w(`${p}.linear_attn.A_log`), w(`${p}.linear_attn.dt_bias`),
    prefill ? { T, lens: prefill.lens } : null);
  const b = done(b0);
  const aa = done(aa0);
  const CH = Math.min(GDN_CHECKPOINT_INTERVAL, T);
  const NC = form === 'chunked' ? gatedDeltaChunks(T, GDN_CHUNK) : Math.ceil(T / CH);
  const ckpt = prefill
    ? gpu.tensor([1], `${p}.linear_attn.ckpt (prefill: none)`)
    : gpu.tensor([B, d.NV, NC, d.DK, d.DV], `${p}.linear_attn.ckpt`);
  const o0 = gpu.tensor([B, T, d.NV, d.DV], `${p}.linear_attn.o`);
  if (form === 'chunked') {
    gatedDeltaChunkForward(gpu, o0, qkvn0, gb0, d, prefill
      ? { C: GDN_CHUNK, ckpt: null, state: prefill.state, initial: false, final: true }
      : { C: GDN_CHUNK, ckpt, state: null, initial: false, final: false });
  } else {
    gatedDeltaForward(gpu, o0, qkvn0, gb0, d, prefill
      ? { ckpt: null, state: prefill.state, initial: false, final: true }
      : { ckpt: { tensor: ckpt, CH }, state: null, initial: false, final: false });
  }
  const qkvn = done(qkvn0);
  const gb = done(gb0);
  const y0 = gpu.tensor([N, VD], `${p}.linear_attn.y`);
  const rstdO = gpu.tensor([N * d.NV], `${p}.linear_attn.rstd_o`);
  gatedRmsnormForward(gpu, view(y0, [N * d.NV, d.DV]), rstdO, view(o0, [N * d.NV, d.DV]), view(z0, [N * d.NV, d.DV]),
    w(`${p}.linear_attn.norm.weight`), c.rmsNormEps);
  const o = done(o0);
  const z = done(z0);
  const out = gpu.tensor([N, c.hiddenSize], `${p}.linear_attn.out`);
  linear(out, y0, 'out_proj');
  const y = done(y0);
  return { out, saved: { qkv, conv, rstdL2, qkvn, z, b, a: aa, gb, ckpt, form, o, rstdO, y } };
}

/** Backward of the token mixer from dout (N, C): da (N, C) gets the input's gradient (overwritten or added, as
 * `accumulate`); full-weight gradients (conv1d, norm, A_log, dt_bias) accumulate into `grad(name)` when given. */
export function gdnBackward(
  gpu: GpuRuntime, c: ModelConfig, w: (name: string) => Tensor, grad: (name: string) => Tensor | null, linearBackward: GdnLinearBackward,
  p: string, da: Tensor, accumulate: boolean, dout: Tensor, a: Tensor, s: GdnSaved, B: number, T: number,
): void {
  const d = gdnDims(c, B, T);
  const N = B * T;
  const CD = convChannels(c.linearAttention!);
  const VD = d.NV * d.DV;
  const dy = gpu.tensor([N, VD], `${p}.linear_attn.dy`);
  linearBackward(dy, dout, s.y, 'out_proj', false);
  const dO = gpu.tensor([B, T, d.NV, d.DV], `${p}.linear_attn.do`);
  const dz = gpu.tensor([N, VD], `${p}.linear_attn.dz`);
  const rows = (t: Tensor) => view(t, [N * d.NV, d.DV]);
  const normName = `${p}.linear_attn.norm.weight`;
  gatedRmsnormBackward(gpu, rows(dO), rows(dz), grad(normName), rows(dy), rows(s.o), rows(s.z), w(normName), s.rstdO);
  gpu.release(dy);
  const dqkvn = gpu.tensor([B, T, CD], `${p}.linear_attn.dqkv_normed`);
  const dgb = gpu.tensor([B, T, d.NV, 2], `${p}.linear_attn.dgb`);
  if (s.form === 'chunked') gatedDeltaChunkBackward(gpu, dqkvn, dgb, dO, s.qkvn, s.gb, s.ckpt, d, GDN_CHUNK);
  else gatedDeltaBackward(gpu, dqkvn, dgb, dO, s.qkvn, s.gb, s.ckpt, Math.min(GDN_CHECKPOINT_INTERVAL, T), d);
  gpu.release(dO);
  const db = gpu.tensor([N, d.NV], `${p}.linear_attn.db`);
  const dA = gpu.tensor([N, d.NV], `${p}.linear_attn.da`);
  const gALog = grad(`${p}.linear_attn.A_log`);
  const gDt = grad(`${p}.linear_attn.dt_bias`);
  const dparams = gALog || gDt ? gpu.zeros([2, d.NV], `${p}.linear_attn.dparams`) : null;
  gdnGatesBackward(gpu, db, dA, dparams, view(dgb, [N, d.NV, 2]), s.b, s.a, w(`${p}.linear_attn.A_log`), w(`${p}.linear_attn.dt_bias`));
  if (dparams) {
    // (2, NV) -> the two weights' gradients (+=), as a (1, 1) x (1, NV) matmul that accumulates
    const part = gpu.tensor([1, d.NV], `${p}.linear_attn.dparam`);
    const one = gpu.upload([1], [1, 1], `${p}.linear_attn.one`);
    for (const [i, g] of [gALog, gDt].entries()) {
      if (!g) continue;
      gpu.copy(dparams, part, d.NV, i * d.NV, 0);
      matmul(gpu, view(g, [1, d.NV]), one, part, { accumulate: true });
    }
    gpu.release(part, one, dparams);
  }
  gpu.release(dgb);
  const dconv = gpu.tensor([B, T, CD], `${p}.linear_attn.dconv`);
  l2normBackward(gpu, view(dconv, [N, CD]), view(dqkvn, [N, CD]), view(s.conv, [N, CD]), s.rstdL2, 2 * d.NK, d.DK);
  gpu.release(dqkvn);
  const dqkv = gpu.tensor([B, T, CD], `${p}.linear_attn.dqkv`);
  causalConv1dBackward(gpu, dqkv, grad(`${p}.linear_attn.conv1d.weight`), dconv, s.qkv, w(`${p}.linear_attn.conv1d.weight`));
  gpu.release(dconv);
  linearBackward(da, view(dqkv, [N, CD]), a, 'in_proj_qkv', accumulate);
  linearBackward(da, dz, a, 'in_proj_z', true);
  linearBackward(da, db, a, 'in_proj_b', true);
  linearBackward(da, dA, a, 'in_proj_a', true);
  gpu.release(dqkv, dz, db, dA);
}

/** One decode step of linear layer `p` for B rows: a (B, C) -> out (B, C), the conv and delta-rule states carried. */
export function gdnDecodeStep(
  gpu: GpuRuntime, c: ModelConfig, w: (name: string) => Tensor, linear: GdnLinear, p: string, out: Tensor, a: Tensor, st: GdnDecodeState,
): void {
  const B = a.shape[0];
  const d = gdnDims(c, B, 1);
  const CD = convChannels(c.linearAttention!);
  const VD = d.NV * d.DV;
  const qkv = gpu.tensor([B, 1, CD], `${p}.decode.qkv`);
  const z = gpu.tensor([B, VD], `${p}.decode.z`);
  const b = gpu.tensor([B, d.NV], `${p}.decode.b`);
  const aa = gpu.tensor([B, d.NV], `${p}.decode.a`);
  linear(view(qkv, [B, CD]), a, 'in_proj_qkv');
  linear(z, a, 'in_proj_z');
  linear(b, a, 'in_proj_b');
  linear(aa, a, 'in_proj_a');
  const conv = gpu.tensor([B, 1, CD], `${p}.decode.conv`);
  causalConv1dForward(gpu, conv, st.convNext, qkv, w(`${p}.linear_attn.conv1d.weight`), st.convState);
  gpu.copy(st.convNext, st.convState);
  const qkvn = gpu.tensor([B, 1, CD], `${p}.decode.qkv_normed`);
  const rstd = gpu.tensor([B, 2 * d.NK], `${p}.decode.rstd_l2`);
  l2normForward(gpu, view(qkvn, [B, CD]), rstd, view(conv, [B, CD]), 2 * d.NK, d.DK, L2NORM_EPS);
  const gb = gpu.tensor([B, 1, d.NV, 2], `${p}.decode.gb`);
  gdnGatesForward(gpu, view(gb, [B, d.NV, 2]), b, aa, w(`${p}.linear_attn.A_log`), w(`${p}.linear_attn.dt_bias`));
  const o = gpu.tensor([B, 1, d.NV, d.DV], `${p}.decode.o`);
  gatedDeltaForward(gpu, o, qkvn, gb, d, { ckpt: null, state: st.state, initial: true, final: true });
  const y = gpu.tensor([B, VD], `${p}.decode.y`);
  const rstdO = gpu.tensor([B * d.NV], `${p}.decode.rstd_o`);
  gatedRmsnormForward(gpu, view(y, [B * d.NV, d.DV]), rstdO, view(o, [B * d.NV, d.DV]), view(z, [B * d.NV, d.DV]),
    w(`${p}.linear_attn.norm.weight`), c.rmsNormEps);
  linear(out, y, 'out_proj');
  gpu.release(qkv, z, b, aa, conv, qkvn, rstd, gb, o, y, rstdO);
}

export function releaseGdn(gpu: GpuRuntime, s: GdnSaved): void {
  gpu.release(s.qkv, s.conv, s.rstdL2, s.qkvn, s.z, s.b, s.a, s.gb, s.ckpt, s.o, s.rstdO, s.y);
}
