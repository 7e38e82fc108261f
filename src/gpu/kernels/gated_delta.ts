// Host wrappers of the gated delta rule's recurrent form: gated_delta_forward.wgsl (training forward with state
// checkpoints, prefill, and single-step decoding with the state carried in place) and gated_delta_backward.wgsl
// (reverse walk over T, recomputing each chunk's states from the checkpoints). Dims: src/ops/gated_delta.ts.
// The inputs are packed as Qwen3.5's linear layer holds them: qkv (B, T, CD), CD = 2*NK*DK + NV*DV, per token the
// (l2-normalised) q and k heads then the v heads; gb (B, T, NV, 2), per token and value head g then beta.
import forwardCode from '../../../shaders/gated_delta_forward.wgsl?raw';
import backwardCode from '../../../shaders/gated_delta_backward.wgsl?raw';
import { checkGatedDeltaDims, type GatedDeltaDims } from '../../ops/gated_delta';
import { defineKernel } from '../kernel';
import type { GpuRuntime } from '../runtime';
import { expectShape, type Tensor } from '../tensor';

export const GATED_DELTA_FORWARD = defineKernel({
  name: 'gated_delta_forward',
  source: forwardCode,
  params: {
    B: 'u32', T: 'u32', NK: 'u32', NV: 'u32', DK: 'u32', DV: 'u32', CH: 'u32', has_init: 'u32', has_final: 'u32', has_ckpt: 'u32', scale: 'f32',
  },
  buffers: { qkv: 'read', gb: 'read', out: 'read_write', ckpt: 'read_write', state: 'read_write' },
});

export const GATED_DELTA_BACKWARD = defineKernel({
  name: 'gated_delta_backward',
  source: backwardCode,
  params: { B: 'u32', T: 'u32', NK: 'u32', NV: 'u32', DK: 'u32', DV: 'u32', CH: 'u32', scale: 'f32' },
  buffers: { dout: 'read', qkv: 'read', gb: 'read', ckpt: 'read', dqkv: 'read_write', dgb: 'read_write', work: 'read_write' },
});

/** The largest key head size the kernels hold in private memory (Qwen3.5: 128). */
export const GATED_DELTA_MAX_DK = 128;
/** The largest value head size of the backward's workgroup arrays. */
export const GATED_DELTA_MAX_DV = 256;

function checkDims(d: GatedDeltaDims): void {
  checkGatedDeltaDims(d);
  if (d.DK > GATED_DELTA_MAX_DK) throw new Error(`gated delta rule: key head size DK = ${d.DK} exceeds ${GATED_DELTA_MAX_DK}`);
  if (d.DV > GATED_DELTA_MAX_DV) throw new Error(`gated delta rule: value head size DV = ${d.DV} exceeds ${GATED_DELTA_MAX_DV}`);
}

/** Number of checkpoints the forward keeps for a backward with checkpoint interval CH. */
export function gatedDeltaCheckpoints(T: number, CH: number): number {
  return Math.ceil(T / CH);
}

/** CD: per token, q and k (NK*DK each) then v (NV*DV). */
export function gatedDeltaChannels(d: Pick<GatedDeltaDims, 'NK' | 'NV' | 'DK' | 'DV'>): number {
  return 2 * d.NK * d.DK + d.NV * d.DV;
}

function expectInputs(qkv: Tensor, gb: Tensor, d: GatedDeltaDims): void {
  expectShape(qkv, [d.B, d.T, gatedDeltaChannels(d)]);
  expectShape(gb, [d.B, d.T, d.NV, 2]);
}

export interface GatedDeltaForwardOptions {
  /** (B, NV, NC, DK, DV) checkpoints for gatedDeltaBackward with this interval CH (training), or null */
  ckpt: { tensor: Tensor; CH: number } | null;
  /** (B, NV, DK, DV): read as the initial state when `initial`, overwritten by the final state when `final` */
  state: Tensor | null;
  initial: boolean;
  final: boolean;
}

/** out (B, T, NV, DV) = the gated delta rule over qkv (B, T, CD) and gb (B, T, NV, 2) (overwrites); checkpoints
 * and the carried state as `opts` says. */
export function gatedDeltaForward(gpu: GpuRuntime, out: Tensor, qkv: Tensor, gb: Tensor, d: GatedDeltaDims, opts: GatedDeltaForwardOptions): void {
  checkDims(d);
  expectInputs(qkv, gb, d);
  expectShape(out, [d.B, d.T, d.NV, d.DV]);
  const CH = opts.ckpt?.CH ?? d.T;
  if (opts.ckpt) expectShape(opts.ckpt.tensor, [d.B, d.NV, gatedDeltaCheckpoints(d.T, CH), d.DK, d.DV]);
  if ((opts.initial || opts.final) && !opts.state) throw new Error('gated delta rule: an initial or final state needs a state tensor');
  if (opts.state) expectShape(opts.state, [d.B, d.NV, d.DK, d.DV]);
  // a binding for each unused buffer (never read or written then)
  const spareC = opts.ckpt ? null : gpu.tensor([1], 'gated_delta spare (ckpt)');
  const spareS = opts.state ? null : gpu.tensor([1], 'gated_delta spare (state)');
  gpu.run(
    GATED_DELTA_FORWARD,
    { qkv, gb, out, ckpt: opts.ckpt?.tensor ?? spareC!, state: opts.state ?? spareS! },
    {
      B: d.B, T: d.T, NK: d.NK, NV: d.NV, DK: d.DK, DV: d.DV, CH, has_init: opts.initial ? 1 : 0, has_final: opts.final ? 1 : 0,
      has_ckpt: opts.ckpt ? 1 : 0, scale: d.scale,
    },
    [Math.ceil(d.DV / 64), d.B * d.NV],
  );
  gpu.release(spareC, spareS);
}

/** Elements of the backward's work buffer: per (b, kh), CH chunk states, dS and two partial-sum planes. */
export function gatedDeltaWorkSize(d: GatedDeltaDims, CH: number): number {
  return d.B * d.NK * (CH + 3) * d.DK * d.DV;
}

/** Gradients of the gated delta rule from a zero initial state: dqkv (B, T, CD) (q, k and v parts) and dgb
 * (B, T, NV, 2) (dg, dbeta), both overwritten. ckpt and CH as the forward wrote them. Allocates (and releases)
 * its work buffer, gatedDeltaWorkSize elements. */
export function gatedDeltaBackward(
  gpu: GpuRuntime, dqkv: Tensor, dgb: Tensor, dout: Tensor, qkv: Tensor, gb: Tensor, ckpt: Tensor, CH: number, d: GatedDeltaDims,
): void {
  checkDims(d);
  expectInputs(qkv, gb, d);
  expectShape(dout, [d.B, d.T, d.NV, d.DV]);
  expectShape(dqkv, qkv.shape);
  expectShape(dgb, gb.shape);
  expectShape(ckpt, [d.B, d.NV, gatedDeltaCheckpoints(d.T, CH), d.DK, d.DV]);
  const work = gpu.tensor([gatedDeltaWorkSize(d, CH)], 'gated_delta work');
  gpu.run(
    GATED_DELTA_BACKWARD,
    { dout, qkv, gb, ckpt, dqkv, dgb, work },
    { B: d.B, T: d.T, NK: d.NK, NV: d.NV, DK: d.DK, DV: d.DV, CH, scale: d.scale },
    [d.B * d.NK],
  );
  gpu.release(work);
}
