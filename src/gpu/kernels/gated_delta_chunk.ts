// Host wrappers of the gated delta rule's chunked (WY / UT-transform) form for training and prefill:
// gated_delta_chunk_forward.wgsl (entry points prep_main: the intra-chunk UT transform, chunks in parallel; main:
// the state pass over chunks and the outputs) and gated_delta_chunk_backward.wgsl (state_pass: chunks in reverse;
// main: the per-chunk gradients, chunks in parallel). Same packed inputs as the recurrent form
// (src/gpu/kernels/gated_delta.ts, which decoding keeps): qkv (B, T, CD), gb (B, T, NV, 2). Dims:
// src/ops/gated_delta.ts; CPU reference src/reference/gated_delta_chunk.ts.
// Scratch (prep, and work in the backward) is per batch row; the wrappers run the rows in passes of at most
// GATED_DELTA_CHUNK_SCRATCH_BYTES of scratch, allocated and released inside the call.
import forwardCode from '../../../shaders/gated_delta_chunk_forward.wgsl?raw';
import backwardCode from '../../../shaders/gated_delta_chunk_backward.wgsl?raw';
import { checkGatedDeltaDims, type GatedDeltaDims } from '../../ops/gated_delta';
import { atEntryPoint, defineKernel } from '../kernel';
import type { GpuRuntime } from '../runtime';
import { expectShape, type Tensor } from '../tensor';
import { GATED_DELTA_MAX_DK, gatedDeltaChannels } from './gated_delta';

const PARAMS = {
  B: 'u32', T: 'u32', NK: 'u32', NV: 'u32', DK: 'u32', DV: 'u32', C: 'u32', b0: 'u32', nb: 'u32',
  has_init: 'u32', has_final: 'u32', has_ckpt: 'u32', scale: 'f32',
} as const;

export const GATED_DELTA_CHUNK_FORWARD = defineKernel({
  name: 'gated_delta_chunk_forward',
  source: forwardCode,
  params: PARAMS,
  buffers: { qkv: 'read', gb: 'read', prep: 'read_write', out: 'read_write', ckpt: 'read_write', state: 'read_write' },
});
export const GATED_DELTA_CHUNK_PREP = atEntryPoint(GATED_DELTA_CHUNK_FORWARD, 'prep_main');

export const GATED_DELTA_CHUNK_BACKWARD = defineKernel({
  name: 'gated_delta_chunk_backward',
  source: backwardCode,
  params: PARAMS,
  buffers: { dout: 'read', qkv: 'read', gb: 'read', ckpt: 'read', prep: 'read', dqkv: 'read_write', dgb: 'read_write', work: 'read_write' },
});
export const GATED_DELTA_CHUNK_STATE_PASS = atEntryPoint(GATED_DELTA_CHUNK_BACKWARD, 'state_pass');

/** The largest chunk length (the kernels' workgroup arrays). */
export const GATED_DELTA_CHUNK_MAX = 64;
/** The chunk length used (transformers' and flash-linear-attention's chunk_size). */
export const GATED_DELTA_CHUNK_DEFAULT = 64;
/** Scratch per pass over batch rows (a row that needs more runs alone). */
export const GATED_DELTA_CHUNK_SCRATCH_BYTES = 64 * 2 ** 20;

function checkDims(d: GatedDeltaDims, C: number): void {
  checkGatedDeltaDims(d);
  if (d.DK > GATED_DELTA_MAX_DK) throw new Error(`gated delta rule (chunked): key head size DK = ${d.DK} exceeds ${GATED_DELTA_MAX_DK}`);
  if (!Number.isInteger(C) || C < 1 || C > GATED_DELTA_CHUNK_MAX) {
    throw new Error(`gated delta rule (chunked): chunk length C = ${C} must be an integer in 1..${GATED_DELTA_CHUNK_MAX}`);
  }
}

export function gatedDeltaChunks(T: number, C: number): number {
  return Math.ceil(T / C);
}

/** Elements of prep per (row, value head, chunk) (lib/gated_delta_chunk_common.wgsl gdc_prep_stride). */
function prepStride(d: GatedDeltaDims, C: number): number {
  return C + 2 * C * C + C * (d.DV + d.DK);
}

/** Elements of work per (row, value head, chunk) (gdc_work_stride). */
function workStride(d: GatedDeltaDims, C: number): number {
  return 2 * C * d.DV + d.DK * d.DV + 2 * C * C + 3 * C * d.DK;
}

/** Batch rows per pass so that one pass's scratch (f32 elements per row: `perRow`) stays within the budget. */
function rowsPerPass(d: GatedDeltaDims, perRow: number): number {
  return Math.max(1, Math.min(d.B, Math.floor(GATED_DELTA_CHUNK_SCRATCH_BYTES / (4 * perRow))));
}

/** The largest scratch binding the wrappers make (WebGPU's default maxStorageBufferBindingSize, which every adapter
 * offers): a sequence whose one row needs more (Qwen3.5-0.8B: past 2048 tokens) cannot run chunked. */
export const GATED_DELTA_CHUNK_MAX_BINDING_BYTES = 128 * 2 ** 20;

/** Whether one batch row's scratch (prep and the backward's work, each its own binding) fits
 * GATED_DELTA_CHUNK_MAX_BINDING_BYTES. */
export function gatedDeltaChunkFits(d: GatedDeltaDims, C: number): boolean {
  const per = d.NV * gatedDeltaChunks(d.T, C) * Math.max(prepStride(d, C), workStride(d, C));
  return 4 * per <= GATED_DELTA_CHUNK_MAX_BINDING_BYTES;
}

/** Scratch elements of one forward pass / one backward pass (prep + work) for `nb` rows: what the calls allocate. */
export function gatedDeltaChunkScratch(d: GatedDeltaDims, C: number, backward: boolean): { rows: number; elements: number } {
  const per = d.NV * gatedDeltaChunks(d.T, C) * (prepStride(d, C) + (backward ? workStride(d, C) : 0));
  const rows = rowsPerPass(d, per);
  return { rows, elements: rows * per };
}

function params(d: GatedDeltaDims, C: number, b0: number, nb: number, init: boolean, fin: boolean, ckpt: boolean) {
  return {
    B: d.B, T: d.T, NK: d.NK, NV: d.NV, DK: d.DK, DV: d.DV, C, b0, nb,
    has_init: init ? 1 : 0, has_final: fin ? 1 : 0, has_ckpt: ckpt ? 1 : 0, scale: d.scale,
  };
}

function expectInputs(qkv: Tensor, gb: Tensor, d: GatedDeltaDims): void {
  expectShape(qkv, [d.B, d.T, gatedDeltaChannels(d)]);
  expectShape(gb, [d.B, d.T, d.NV, 2]);
}

export interface GatedDeltaChunkForwardOptions {
  /** chunk length (default GATED_DELTA_CHUNK_DEFAULT) */
  C?: number;
  /** (B, NV, NC, DK, DV), NC = ceil(T / C): the state entering each chunk, for gatedDeltaChunkBackward; or null */
  ckpt: Tensor | null;
  /** (B, NV, DK, DV): read as the initial state when `initial`, overwritten by the final state when `final` */
  state: Tensor | null;
  initial: boolean;
  final: boolean;
}

/** out (B, T, NV, DV) = the gated delta rule over qkv and gb, by chunks (overwrites); checkpoints and the carried
 * state as `opts` says (as gatedDeltaForward of the recurrent form). */
export function gatedDeltaChunkForward(gpu: GpuRuntime, out: Tensor, qkv: Tensor, gb: Tensor, d: GatedDeltaDims, opts: GatedDeltaChunkForwardOptions): void {
  const C = opts.C ?? GATED_DELTA_CHUNK_DEFAULT;
  checkDims(d, C);
  expectInputs(qkv, gb, d);
  expectShape(out, [d.B, d.T, d.NV, d.DV]);
  const NC = gatedDeltaChunks(d.T, C);
  if (!gatedDeltaChunkFits(d, C)) throw new Error(`gated delta rule (chunked): T = ${d.T} needs more scratch per row than one binding holds; use the recurrent form`);
  if (opts.ckpt) expectShape(opts.ckpt, [d.B, d.NV, NC, d.DK, d.DV]);
  if ((opts.initial || opts.final) && !opts.state) throw new Error('gated delta rule (chunked): an initial or final state needs a state tensor');
  if (opts.state) expectShape(opts.state, [d.B, d.NV, d.DK, d.DV]);
  const { rows } = gatedDeltaChunkScratch(d, C, false);
  const prep = gpu.tensor([rows * d.NV * NC * prepStride(d, C)], 'gated_delta_chunk prep');
  const spareC = opts.ckpt ? null : gpu.tensor([1], 'gated_delta_chunk spare (ckpt)');
  const spareS = opts.state ? null : gpu.tensor([1], 'gated_delta_chunk spare (state)');
  const bufs = { qkv, gb, prep, out, ckpt: opts.ckpt ?? spareC!, state: opts.state ?? spareS! };
  for (let b0 = 0; b0 < d.B; b0 += rows) {
    const nb = Math.min(rows, d.B - b0);
    const pr = params(d, C, b0, nb, opts.initial, opts.final, opts.ckpt !== null);
    gpu.run(GATED_DELTA_CHUNK_PREP, bufs, pr, [NC, nb * d.NV]);
    gpu.run(GATED_DELTA_CHUNK_FORWARD, bufs, pr, [Math.ceil(d.DV / 64), nb * d.NV]);
  }
  gpu.release(prep, spareC, spareS);
}

/** Gradients of the gated delta rule (as gatedDeltaBackward of the recurrent form: dqkv (B, T, CD) and dgb
 * (B, T, NV, 2), both overwritten; no gradient to an initial state), from the chunked forward's ckpt. */
export function gatedDeltaChunkBackward(
  gpu: GpuRuntime, dqkv: Tensor, dgb: Tensor, dout: Tensor, qkv: Tensor, gb: Tensor, ckpt: Tensor, d: GatedDeltaDims, C = GATED_DELTA_CHUNK_DEFAULT,
): void {
  checkDims(d, C);
  expectInputs(qkv, gb, d);
  expectShape(dout, [d.B, d.T, d.NV, d.DV]);
  expectShape(dqkv, qkv.shape);
  expectShape(dgb, gb.shape);
  const NC = gatedDeltaChunks(d.T, C);
  if (!gatedDeltaChunkFits(d, C)) throw new Error(`gated delta rule (chunked): T = ${d.T} needs more scratch per row than one binding holds; use the recurrent form`);
  expectShape(ckpt, [d.B, d.NV, NC, d.DK, d.DV]);
  const { rows } = gatedDeltaChunkScratch(d, C, true);
  const prep = gpu.tensor([rows * d.NV * NC * prepStride(d, C)], 'gated_delta_chunk prep');
  const work = gpu.tensor([rows * d.NV * NC * workStride(d, C)], 'gated_delta_chunk work');
  const spares = [0, 1, 2].map((i) => gpu.tensor([1], `gated_delta_chunk spare ${i}`));
  for (let b0 = 0; b0 < d.B; b0 += rows) {
    const nb = Math.min(rows, d.B - b0);
    const pr = params(d, C, b0, nb, false, false, false);
    gpu.run(GATED_DELTA_CHUNK_PREP, { qkv, gb, prep, out: spares[0], ckpt: spares[1], state: spares[2] }, pr, [NC, nb * d.NV]);
    const bufs = { dout, qkv, gb, ckpt, prep, dqkv, dgb, work };
    gpu.run(GATED_DELTA_CHUNK_STATE_PASS, bufs, pr, [Math.ceil(d.DV / 64), nb * d.NV]);
    gpu.run(GATED_DELTA_CHUNK_BACKWARD, bufs, pr, [NC, nb * d.NK]);
  }
  gpu.release(prep, work, ...spares);
}
