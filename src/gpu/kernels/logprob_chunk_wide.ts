// The GPU-class variant of the LM head's log-prob chunk kernels (logprob_chunk.ts), for large vocabularies
// (49k..262k) and few rows: logprob_chunk_wide_forward.wgsl splits each row's chunk over SEG workgroups
// (vec4 reads) and finishes the rows in a second pass; logprob_chunk_wide_backward.wgsl writes four
// columns per invocation as vec4s. logprobChunkForward / logprobChunkBackward check the tensors and then
// ask chooseLogprobChunkVariant which kernels run; the dispatches of the wide ones are here.
//
// Which one runs (a fixed rule): software adapters always run the 'row' kernels (one workgroup per row), so
// results there stay bit for bit what they were; hardware adapters run 'wide' when the chunk is at least
// WIDE_MIN_COLUMNS wide and a multiple of 4 (every chunk lm_head.ts cuts from a vocabulary that is a
// multiple of 4: they are multiples of 64, and the last one the remainder). Checks and benchmarks force one.
import forwardCode from '../../../shaders/logprob_chunk_wide_forward.wgsl?raw';
import backwardCode from '../../../shaders/logprob_chunk_wide_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { atEntryPoint, defineKernel } from '../kernel';
import type { Tensor } from '../tensor';

export const LOGPROB_CHUNK_WIDE_PARTIALS = defineKernel({
  name: 'logprob_chunk_wide_forward',
  source: forwardCode,
  entryPoint: 'partials',
  params: { n: 'u32', vc: 'u32', v0: 'u32', v: 'u32', temperature: 'f32', last: 'u32', segs: 'u32', seg_len: 'u32' },
  buffers: {
    chunk: 'read', targets: 'read', part: 'read_write', state: 'read_write', logp: 'read_write', entropy: 'read_write', lse: 'read_write',
  },
});
export const LOGPROB_CHUNK_WIDE_FINISH = atEntryPoint(LOGPROB_CHUNK_WIDE_PARTIALS, 'finish');
export const LOGPROB_CHUNK_WIDE_BACKWARD = defineKernel({
  name: 'logprob_chunk_wide_backward',
  source: backwardCode,
  params: { total4: 'u32', vc: 'u32', v0: 'u32', v: 'u32', temperature: 'f32' },
  buffers: { dlogp: 'read', chunk: 'read', targets: 'read', lse: 'read', dchunk: 'read_write' },
});

/** 'row': logprob_chunk_forward/_backward.wgsl; 'wide': the kernels of this file. */
export type LogprobChunkVariant = 'row' | 'wide';
export const LOGPROB_CHUNK_VARIANTS: readonly LogprobChunkVariant[] = ['row', 'wide'];
/** Hardware adapters run 'wide' from this chunk width on (narrower rows fill a workgroup on their own). */
export const WIDE_MIN_COLUMNS = 4096;
/** Invocations per segment workgroup, and the vec4s each should fold at least. */
const WIDE_WG = 64;
const MIN_VEC4_PER_INVOCATION = 4;
/** Workgroups the segments of all rows aim to fill (a few per compute unit of a large GPU). */
const TARGET_WORKGROUPS = 1024;

/** Why 'wide' cannot run a chunk of vc columns (null: it can). */
export function wideUnavailable(vc: number): string | null {
  return vc % 4 === 0 ? null : `the chunk's ${vc} columns are not a multiple of 4 (the wide kernels read vec4s)`;
}

/** Which kernels logprobChunkForward / logprobChunkBackward run for an (n, vc) chunk (see the top of this file). */
export function chooseLogprobChunkVariant(gpu: GpuRuntime, vc: number): LogprobChunkVariant {
  return !gpu.adapter.isSoftware && vc >= WIDE_MIN_COLUMNS && wideUnavailable(vc) === null ? 'wide' : 'row';
}

/** Segments per row: enough workgroups for TARGET_WORKGROUPS over all rows, each invocation folding at
 * least MIN_VEC4_PER_INVOCATION vec4s. */
export function wideSegments(n: number, vc: number): { segs: number; segLen: number } {
  const vc4 = vc / 4;
  const most = Math.max(1, Math.floor(vc4 / (WIDE_WG * MIN_VEC4_PER_INVOCATION)));
  const segs = Math.min(most, Math.max(1, Math.ceil(TARGET_WORKGROUPS / Math.max(1, n))));
  return { segs, segLen: Math.ceil(vc4 / segs) };
}

function expectWide(vc: number): void {
  const why = wideUnavailable(vc);
  if (why) throw new Error(`logprob_chunk [wide]: ${why}`);
}

/** The wide forward on tensors logprobChunkForward has checked. */
export function runWideForward(
  gpu: GpuRuntime,
  t: { chunk: Tensor; targets: Tensor; state: Tensor; logp: Tensor; entropy: Tensor; lse: Tensor },
  params: { n: number; vc: number; v0: number; v: number; temperature: number; last: number },
): void {
  expectWide(params.vc);
  const { segs, segLen } = wideSegments(params.n, params.vc);
  const part = gpu.tensor([params.n, segs, 4], 'logprob_chunk_wide partials');
  const buffers = { ...t, part };
  const all = { ...params, segs, seg_len: segLen };
  gpu.run(LOGPROB_CHUNK_WIDE_PARTIALS, buffers, all, grid(params.n * segs), { WG: WIDE_WG });
  gpu.run(LOGPROB_CHUNK_WIDE_FINISH, buffers, all, [Math.ceil(params.n / 64)], { WG: WIDE_WG });
  // safe right after recording: the pool hands it out again only to work recorded (and so run) later
  gpu.release(part);
}

/** The wide backward on tensors logprobChunkBackward has checked. */
export function runWideBackward(
  gpu: GpuRuntime,
  t: { dlogp: Tensor; chunk: Tensor; targets: Tensor; lse: Tensor; dchunk: Tensor },
  params: { n: number; vc: number; v0: number; v: number; temperature: number },
): void {
  expectWide(params.vc);
  const total4 = (params.n * params.vc) / 4;
  gpu.run(
    LOGPROB_CHUNK_WIDE_BACKWARD,
    t,
    { total4, vc: params.vc, v0: params.v0, v: params.v, temperature: params.temperature },
    grid(Math.ceil(total4 / 256)),
  );
}
