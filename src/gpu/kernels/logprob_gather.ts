// Host wrappers for logprob_gather_forward.wgsl / logprob_gather_backward.wgsl: per-token log-probabilities
// of the targets and the entropy of each row at a sampling temperature, and the gradient of the log-probs.
// Logits may have any leading dimensions: N is the product of all but the last (V).
import forwardCode from '../../../shaders/logprob_gather_forward.wgsl?raw';
import backwardCode from '../../../shaders/logprob_gather_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { atEntryPoint, defineKernel } from '../kernel';
import { shapeString, type Tensor } from '../tensor';

export const LOGPROB_GATHER_FORWARD = defineKernel({
  name: 'logprob_gather_forward',
  source: forwardCode,
  params: { n: 'u32', v: 'u32', temperature: 'f32' },
  buffers: { logits: 'read', targets: 'read', logp: 'read_write', entropy: 'read_write', lse: 'read_write' },
});
export const LOGPROB_GATHER_FORWARD_SERIAL = atEntryPoint(LOGPROB_GATHER_FORWARD, 'main_serial');
export const LOGPROB_GATHER_BACKWARD = defineKernel({
  name: 'logprob_gather_backward',
  source: backwardCode,
  params: { total: 'u32', v: 'u32', temperature: 'f32' },
  buffers: { dlogp: 'read', logits: 'read', targets: 'read', lse: 'read', dlogits: 'read_write' },
});

/** Where the forward gives each row one invocation on software adapters (main_serial): from two workgroups of 64
 * rows, of short rows (the built-in models' vocabularies), where the workgroup's barriers cost more than the row
 * (measured in Node on SwiftShader: N 1024 x V 48 12.3 against 21.9 ms; V 1000 a tie; 128 x 49152 452 against 391). */
export const SERIAL_MIN_ROWS = 128;
export const SERIAL_MAX_V = 1024;
/** The most slices a main_serial row folds (logsumexp_stats.wgsl SERIAL_LANES; software adapters' rowWorkgroupSize). */
const SERIAL_MAX_LANES = 4;

/** For each row n: z = logits[n] / temperature; lse[n] = logsumexp(z) (saved); logp[n] = z[targets[n]] - lse[n]
 *  (0 where targets[n] >= V); entropy[n] = -sum_j p_j log p_j, p = softmax(z). Overwrites all three. */
export function logprobGatherForward(
  gpu: GpuRuntime,
  logp: Tensor,
  entropy: Tensor,
  lse: Tensor,
  logits: Tensor,
  targets: Tensor,
  temperature: number,
  /** a row per invocation (main_serial) or per workgroup (main); default: serial on software adapters from
   * SERIAL_MIN_ROWS rows of at most SERIAL_MAX_V logits. The same bits either way (kernel self-test). */
  serial?: boolean,
): void {
  const { n, v } = rowsOfLogits(logits);
  expectTemperature(temperature);
  expectTargets(targets, n);
  expectCount(logp, n, 'logp');
  expectCount(entropy, n, 'entropy');
  expectCount(lse, n, 'lse');
  const wg = rowWorkgroupSize(v, gpu);
  // software adapters run barriers slowly: a row per invocation, folding the WG slices and combining them by the
  // workgroup's tree itself (the same bits), where there are rows enough for whole workgroups of 64
  serial ??= gpu.adapter.isSoftware && n >= SERIAL_MIN_ROWS && v <= SERIAL_MAX_V;
  if (serial && wg > SERIAL_MAX_LANES) serial = false; // its lanes would not fit main_serial's registers
  const kernel = serial ? LOGPROB_GATHER_FORWARD_SERIAL : LOGPROB_GATHER_FORWARD;
  gpu.run(kernel, { logits, targets, logp, entropy, lse }, { n, v, temperature }, serial ? grid(Math.ceil(n / 64)) : grid(n), { WG: wg });
}

/** dlogits[n, j] = dlogp[n] * (1[j == target] - p_j) / temperature  (overwrites dlogits; entropy has no gradient) */
export function logprobGatherBackward(
  gpu: GpuRuntime,
  dlogits: Tensor,
  dlogp: Tensor,
  logits: Tensor,
  targets: Tensor,
  lse: Tensor,
  temperature: number,
): void {
  const { n, v } = rowsOfLogits(logits);
  expectTemperature(temperature);
  expectTargets(targets, n);
  expectCount(dlogp, n, 'dlogp');
  expectCount(lse, n, 'lse');
  if (dlogits.size !== logits.size || dlogits.shape[dlogits.shape.length - 1] !== v) {
    throw new Error(`dlogits: expected the shape of logits ${shapeString(logits)}, got ${shapeString(dlogits)}`);
  }
  const total = n * v;
  gpu.run(
    LOGPROB_GATHER_BACKWARD,
    { dlogp, logits, targets, lse, dlogits },
    { total, v, temperature },
    grid(Math.ceil(total / 256)),
  );
}

/** Invocations per row for the row-reduction kernels: a power of two, about V / 8, at most 256 on a GPU
 * and at most 4 on a software adapter, where every workgroup barrier costs about a microsecond per
 * invocation (measured on SwiftShader: 512 rows of V=512 took 47 ms with 64 invocations per row, 5 ms
 * with 4; 128 rows of V=49152 took 256 ms with 256, 89 ms with 4). */
export function rowWorkgroupSize(v: number, gpu: GpuRuntime): number {
  const cap = gpu.adapter.isSoftware ? 4 : 256;
  return Math.min(cap, 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(v / 8)))));
}

/** N and V of a logits tensor (..., V). */
export function rowsOfLogits(logits: Tensor): { n: number; v: number } {
  const v = logits.shape[logits.shape.length - 1];
  if (logits.shape.length < 1 || !(v > 0)) throw new Error(`logits: expected shape [..., V] with V > 0, got ${shapeString(logits)}`);
  if (logits.size > 0xffffffff) throw new Error(`logits: ${logits.size} elements exceed 32-bit indexing`);
  return { n: logits.size / v, v };
}

export function expectTargets(targets: Tensor, n: number): void {
  if (targets.dtype !== 'u32') throw new Error(`targets: expected u32 token ids, got ${targets.dtype}`);
  expectCount(targets, n, 'targets');
}

export function expectCount(t: Tensor, n: number, what: string): void {
  if (t.size !== n) throw new Error(`${what}: expected ${n} elements (one per row of logits), got ${shapeString(t)}`);
}

function expectTemperature(temperature: number): void {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new Error(`temperature must be a positive finite number, got ${temperature}`);
  }
}
