// Host wrappers for logprob_chunk_forward.wgsl / logprob_chunk_backward.wgsl: the log-prob gather of
// logprob_gather.ts over one vocabulary chunk at a time, so that the LM head never writes an (N, V) buffer
// (src/model/lm_head.ts drives them: logits of columns [v0, v0 + vc) for every row, then this kernel).
// The variant for hardware adapters and large vocabularies is in logprob_chunk_wide.ts.
import forwardCode from '../../../shaders/logprob_chunk_forward.wgsl?raw';
import backwardCode from '../../../shaders/logprob_chunk_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { shapeString, type Tensor } from '../tensor';
import { expectCount, expectTargets, rowWorkgroupSize } from './logprob_gather';
import { chooseLogprobChunkVariant, runWideBackward, runWideForward, type LogprobChunkVariant } from './logprob_chunk_wide';

export const LOGPROB_CHUNK_FORWARD = defineKernel({
  name: 'logprob_chunk_forward',
  source: forwardCode,
  params: { n: 'u32', vc: 'u32', v0: 'u32', v: 'u32', temperature: 'f32', last: 'u32' },
  buffers: { chunk: 'read', targets: 'read', state: 'read_write', logp: 'read_write', entropy: 'read_write', lse: 'read_write' },
});
export const LOGPROB_CHUNK_BACKWARD = defineKernel({
  name: 'logprob_chunk_backward',
  source: backwardCode,
  params: { total: 'u32', vc: 'u32', v0: 'u32', v: 'u32', temperature: 'f32' },
  buffers: { dlogp: 'read', chunk: 'read', targets: 'read', lse: 'read', dchunk: 'read_write' },
});

/** Where a chunk sits in the vocabulary: columns [v0, v0 + vc) of v. */
export interface VocabChunk {
  v0: number;
  v: number;
}

function chunkDims(chunk: Tensor, at: VocabChunk): { n: number; vc: number } {
  if (chunk.shape.length !== 2) throw new Error(`logits chunk: expected (N, vc), got ${shapeString(chunk)}`);
  const [n, vc] = chunk.shape;
  if (!(vc > 0) || at.v0 < 0 || at.v0 + vc > at.v) {
    throw new Error(`logits chunk ${shapeString(chunk)} at column ${at.v0} does not fit a vocabulary of ${at.v}`);
  }
  return { n, vc };
}

function expectTemperature(temperature: number): void {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new Error(`temperature must be a positive finite number, got ${temperature}`);
  }
}

/** Folds chunk (N, vc) = logits[:, v0:v0+vc] into state (N, 4) (reset when v0 = 0). When the chunk is the
 * last one (v0 + vc = v) writes lse, entropy and logp of every row (logp 0 where targets[n] >= v).
 * variant: which kernels (logprob_chunk_wide.ts; default its fixed rule, checks and benchmarks force one). */
export function logprobChunkForward(
  gpu: GpuRuntime,
  logp: Tensor,
  entropy: Tensor,
  lse: Tensor,
  state: Tensor,
  chunk: Tensor,
  targets: Tensor,
  at: VocabChunk,
  temperature: number,
  variant: LogprobChunkVariant = chooseLogprobChunkVariant(gpu, chunk.shape[1]),
): void {
  const { n, vc } = chunkDims(chunk, at);
  expectTemperature(temperature);
  expectTargets(targets, n);
  expectCount(logp, n, 'logp');
  expectCount(entropy, n, 'entropy');
  expectCount(lse, n, 'lse');
  expectCount(state, 4 * n, 'logprob chunk state');
  const last = at.v0 + vc === at.v ? 1 : 0;
  const params = { n, vc, v0: at.v0, v: at.v, temperature, last };
  if (variant === 'wide') return runWideForward(gpu, { chunk, targets, state, logp, entropy, lse }, params);
  gpu.run(
    LOGPROB_CHUNK_FORWARD,
    { chunk, targets, state, logp, entropy, lse },
    params,
    grid(n),
    { WG: rowWorkgroupSize(vc, gpu) },
  );
}

/** dchunk[n, j] = dlogp[n] * (1[v0 + j == targets[n]] - p_j) / temperature, p_j = exp(chunk[n, j] / T - lse[n])
 * (overwrites dchunk; a zero row where targets[n] >= v). variant: as in logprobChunkForward. */
export function logprobChunkBackward(
  gpu: GpuRuntime,
  dchunk: Tensor,
  dlogp: Tensor,
  chunk: Tensor,
  targets: Tensor,
  lse: Tensor,
  at: VocabChunk,
  temperature: number,
  variant: LogprobChunkVariant = chooseLogprobChunkVariant(gpu, chunk.shape[1]),
): void {
  const { n, vc } = chunkDims(chunk, at);
  expectTemperature(temperature);
  expectTargets(targets, n);
  expectCount(dlogp, n, 'dlogp');
  expectCount(lse, n, 'lse');
  if (dchunk.size !== chunk.size) throw new Error(`dchunk: expected the shape of the chunk ${shapeString(chunk)}, got ${shapeString(dchunk)}`);
  if (variant === 'wide') return runWideBackward(gpu, { dlogp, chunk, targets, lse, dchunk }, { n, vc, v0: at.v0, v: at.v, temperature });
  const total = n * vc;
  gpu.run(
    LOGPROB_CHUNK_BACKWARD,
    { dlogp, chunk, targets, lse, dchunk },
    { total, vc, v0: at.v0, v: at.v, temperature },
    grid(Math.ceil(total / 256)),
  );
}
