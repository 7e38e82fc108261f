// Host wrappers for decoding from a KV cache: attention of one new query per row against the cache
// (attention_decode.wgsl; attention_decode_packed16.wgsl for caches stored in 16 bits) and the cache
// writes (kv_cache_write.wgsl; kv_cache_write_packed16.wgsl). Either may treat the cache as a ring of TMAX
// slots (sliding-window layers: a cache as long as the window). The f32, full-length pipelines are the
// ones that ran before 16-bit and ring caches existed (the new cases are override values or other shaders).
import decodeCode from '../../../shaders/attention_decode.wgsl?raw';
import decodePacked16Code from '../../../shaders/attention_decode_packed16.wgsl?raw';
import splitCode from '../../../shaders/attention_decode_split.wgsl?raw';
import splitPacked16Code from '../../../shaders/attention_decode_split_packed16.wgsl?raw';
import kvCacheWriteCode from '../../../shaders/kv_cache_write.wgsl?raw';
import kvCacheWritePacked16Code from '../../../shaders/kv_cache_write_packed16.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { atEntryPoint, defineKernel } from '../kernel';
import { expectSize, type Tensor } from '../tensor';
import { PREFIX_ROW_WORDS, type DecodeDims, type KvCacheDims, type KvFormat } from '../../ops/attention';
import { checkDims, expectDistinct, expectU32, scoreScale, windowOverride } from './attention_common';

const DECODE_PARAMS = { NH: 'u32', NKV: 'u32', HS4: 'u32', TMAX: 'u32', G: 'u32', scale: 'f32', B: 'u32' } as const;
const DECODE_BUFFERS = { q: 'read', kCache: 'read', vCache: 'read', lengths: 'read', probs: 'read_write', out: 'read_write', prefix_rows: 'read' } as const;
export const ATTENTION_DECODE_SCORES = defineKernel({
  name: 'attention_decode',
  source: decodeCode,
  entryPoint: 'scores',
  params: DECODE_PARAMS,
  buffers: DECODE_BUFFERS,
});
export const ATTENTION_DECODE_SOFTMAX = atEntryPoint(ATTENTION_DECODE_SCORES, 'softmax');
export const ATTENTION_DECODE_WEIGHTED_SUM = atEntryPoint(ATTENTION_DECODE_SCORES, 'weighted_sum');
export const ATTENTION_DECODE_SINGLE_PASS = atEntryPoint(ATTENTION_DECODE_SCORES, 'single_pass');
export const ATTENTION_DECODE_PACKED16_SCORES = defineKernel({
  name: 'attention_decode_packed16',
  source: decodePacked16Code,
  entryPoint: 'scores',
  params: DECODE_PARAMS,
  buffers: DECODE_BUFFERS,
});
export const ATTENTION_DECODE_PACKED16_SOFTMAX = atEntryPoint(ATTENTION_DECODE_PACKED16_SCORES, 'softmax');
export const ATTENTION_DECODE_PACKED16_WEIGHTED_SUM = atEntryPoint(ATTENTION_DECODE_PACKED16_SCORES, 'weighted_sum');
export const ATTENTION_DECODE_PACKED16_SINGLE_PASS = atEntryPoint(ATTENTION_DECODE_PACKED16_SCORES, 'single_pass');

const SPLIT_PARAMS = { ...DECODE_PARAMS, CH: 'u32', S: 'u32' } as const;
const SPLIT_BUFFERS = { q: 'read', kCache: 'read', vCache: 'read', lengths: 'read', partial: 'read_write', out: 'read_write', prefix_rows: 'read' } as const;
export const ATTENTION_DECODE_SPLIT = defineKernel({
  name: 'attention_decode_split',
  source: splitCode,
  entryPoint: 'partial_pass',
  params: SPLIT_PARAMS,
  buffers: SPLIT_BUFFERS,
});
export const ATTENTION_DECODE_SPLIT_COMBINE = atEntryPoint(ATTENTION_DECODE_SPLIT, 'combine');
export const ATTENTION_DECODE_SPLIT_PACKED16 = defineKernel({
  name: 'attention_decode_split_packed16',
  source: splitPacked16Code,
  entryPoint: 'partial_pass',
  params: SPLIT_PARAMS,
  buffers: SPLIT_BUFFERS,
});
export const ATTENTION_DECODE_SPLIT_PACKED16_COMBINE = atEntryPoint(ATTENTION_DECODE_SPLIT_PACKED16, 'combine');
/** positions per split of the split variant (the shaders' CH_MAX) */
export const SPLIT_CHUNK = 256;
/** 'auto' picks the split variant on hardware adapters from caches of SPLIT_MIN_TMAX positions when at most
 * SPLIT_MAX_ROW_HEADS (row, head) pairs decode: three_pass's softmax and weighted sum then run one serial loop
 * over the cache per (row, head), too few to fill a GPU. Not yet measured on a GPU (no hardware adapter here):
 * the thresholds are a first guess for the benchmark to tune. */
export const SPLIT_MIN_TMAX = 512;
export const SPLIT_MAX_ROW_HEADS = 512;

/** How attentionDecode runs: 'three_pass' (scores, softmax, weighted sum), 'single_pass' (one dispatch that
 * recomputes the scores in every invocation, about 3 * HS/4 times their work; same results bit for bit),
 * 'split' (flash-decoding: the cache cut into splits of SPLIT_CHUNK positions, one workgroup each, then a
 * combine; the same result to rounding, summed in another order), or 'auto': single pass on software
 * adapters for heads of at most SINGLE_PASS_MAX_HS when the caches are small (B * NH * TMAX at most
 * SINGLE_PASS_MAX_WORK), split on hardware adapters for long caches and few rows (SPLIT_MIN_TMAX,
 * SPLIT_MAX_ROW_HEADS), three passes everywhere else (software adapters never split). Measured on SwiftShader with
 * stories260K (8 heads of 8), GPU time of the decode attention over a generation: 1 row, TMAX 64:
 * 228 -> 46 ms; 16 rows, TMAX 32: 242 -> 90 ms; but 32 rows, TMAX 80: 320 -> 436 ms (the recomputation
 * outweighs two dispatches), hence the bound on the work. */
export type DecodeVariant = 'auto' | 'three_pass' | 'single_pass' | 'split';
export const SINGLE_PASS_MAX_HS = 16;
export const SINGLE_PASS_MAX_WORK = 8192;
export const KV_CACHE_WRITE = defineKernel({
  name: 'kv_cache_write',
  source: kvCacheWriteCode,
  params: { n: 'u32', T: 'u32', C: 'u32', TMAX: 'u32' },
  buffers: { x: 'read', positions: 'read', cache: 'read_write' },
});
export const KV_CACHE_WRITE_PACKED16 = defineKernel({
  name: 'kv_cache_write_packed16',
  source: kvCacheWritePacked16Code,
  params: { n: 'u32', T: 'u32', C2: 'u32', TMAX: 'u32' },
  buffers: { x: 'read', positions: 'read', cache: 'read_write' },
});

/** Values per element of a cache tensor in a format: 1 for f32, 2 for 16 bits packed in a u32. */
export function kvValuesPerElement(format: KvFormat): number {
  return format === 'f32' ? 1 : 2;
}

/** A KV cache of B rows of TMAX positions of C values in `format` (f32, or u32 pairs of 16-bit values). */
export function allocKvCache(gpu: GpuRuntime, B: number, TMAX: number, C: number, format: KvFormat, label: string): Tensor {
  if (format === 'f32') return gpu.tensor([B, TMAX, C], label);
  if (C % 2 !== 0) throw new Error(`KV cache ${label}: ${C} values per position cannot be stored in pairs (${format})`);
  return gpu.tensor([B, TMAX, C / 2], label, 'u32');
}

function checkKvFormat(kernel: string, format: KvFormat | undefined): KvFormat {
  const f = format ?? 'f32';
  if (f !== 'f32' && f !== 'bf16' && f !== 'f16') throw new Error(`${kernel}: unknown KV cache format '${String(f)}' (expected f32, bf16 or f16)`);
  return f;
}

/** The cache tensor matches its format: f32 with `values` elements, or u32 with values / 2. */
function expectCache(kernel: string, cache: Tensor, values: number, format: KvFormat, what: string): void {
  const want = format === 'f32' ? 'f32' : 'u32';
  if (cache.dtype !== want) {
    throw new Error(`${kernel}: ${what} (${cache.label}) is ${cache.dtype} but a ${format} cache is a ${want} tensor`);
  }
  expectSize(cache, values / kvValuesPerElement(format), `${kernel}: ${what} ${cache.label} (${format})`);
}

/** Overrides of the 16-bit, ring and shared-prefix variants: none for an f32 full-length cache. */
function cacheOverrides(format: KvFormat, ring: boolean, prefix = false): Record<string, number> {
  return { ...(format === 'f32' ? {} : { FORMAT: format === 'f16' ? 1 : 0 }), ...(ring ? { RING: 1 } : {}), ...(prefix ? { PREFIX: 1 } : {}) };
}

/** Decoding: q (B, NH, HS) one query per batch row; kCache, vCache (B, TMAX, NKV, HS) in dims.kvFormat
 *  (f32, or u32 (B, TMAX, NKV, HS / 2) holding 16-bit pairs, unpacked to f32; f32 accumulation); row b
 *  attends to cache positions 0 .. lengths[b]-1 (lengths: (B) u32 tensor, each >= 1), the last dims.window
 *  of them with a sliding window. out (B, NH, HS). Three barrier-free passes: scores (parallel over the cache
 *  length), softmax per (b, h), weighted sum per (b, h, 4 dims); a (B, NH, TMAX) scratch holds the
 *  probabilities. Lengths above TMAX are treated as TMAX unless dims.ring (position j in slot j % TMAX, the
 *  window at most TMAX); a length of 0 gives zeros. With dims.prefixSlots (shared prompt prefix) the caches are
 *  (prefixSlots, NKV, HS) and prefixRows (B, 3) u32 gives each row's prompt length, its group's prompt block and
 *  its own block (prefixCacheSlot, override PREFIX); TMAX is then the longest length a row may reach. */
export function attentionDecode(
  gpu: GpuRuntime,
  out: Tensor,
  q: Tensor,
  kCache: Tensor,
  vCache: Tensor,
  lengths: Tensor,
  dims: DecodeDims,
  variant: DecodeVariant = 'auto',
  prefixRows?: Tensor,
): void {
  const { B, NH, NKV, HS, TMAX } = dims;
  checkDims('attention_decode', { B, NH, NKV, HS, TMAX });
  const format = checkKvFormat('attention_decode', dims.kvFormat);
  const ring = dims.ring ?? false;
  if (ring && !((dims.window ?? 0) > 0 && dims.window! <= TMAX)) {
    throw new Error(`attention_decode: a ring cache of ${TMAX} slots needs a sliding window of 1..${TMAX} positions, got window = ${dims.window ?? 0}`);
  }
  expectSize(q, B * NH * HS, `attention_decode: q (B, NH, HS) ${q.label}`);
  const prefix = dims.prefixSlots !== undefined;
  if (prefix) {
    const slots = dims.prefixSlots!;
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`attention_decode: prefixSlots = ${slots} must be a positive integer`);
    if (ring) throw new Error('attention_decode: a shared prompt prefix cannot be a ring cache (sliding-window layers keep one ring per row)');
    if (!prefixRows) throw new Error('attention_decode: a shared-prefix layout (prefixSlots) needs its prefixRows table (B, 3)');
    expectSize(prefixRows, PREFIX_ROW_WORDS * B, `attention_decode: prefixRows (B, 3) ${prefixRows.label}`);
    expectU32('attention_decode', 'prefixRows', prefixRows);
  }
  const cacheValues = (prefix ? dims.prefixSlots! : B * TMAX) * NKV * HS;
  const cacheShape = prefix ? '(prefixSlots, NKV, HS)' : '(B, TMAX, NKV, HS)';
  expectCache('attention_decode', kCache, cacheValues, format, `kCache ${cacheShape}`);
  expectCache('attention_decode', vCache, cacheValues, format, `vCache ${cacheShape}`);
  expectSize(lengths, B, `attention_decode: lengths (B) ${lengths.label}`);
  expectU32('attention_decode', 'lengths', lengths);
  expectSize(out, B * NH * HS, `attention_decode: out (B, NH, HS) ${out.label}`);
  const HS4 = HS / 4;
  // without the layout the shaders' prefix_rows binding holds lengths (read, never used)
  const prefix_rows = prefix ? prefixRows! : lengths;
  expectDistinct('attention_decode', { out }, { q, kCache, vCache, lengths, prefix_rows });
  const params = { NH, NKV, HS4, TMAX, G: NH / NKV, scale: scoreScale(dims), B };
  const overrides = { ...windowOverride(dims), ...cacheOverrides(format, ring, prefix) };
  const packed = format !== 'f32';
  const kernels: Record<'scores' | 'softmax' | 'sum' | 'single', typeof ATTENTION_DECODE_SCORES> = packed
    ? { scores: ATTENTION_DECODE_PACKED16_SCORES, softmax: ATTENTION_DECODE_PACKED16_SOFTMAX, sum: ATTENTION_DECODE_PACKED16_WEIGHTED_SUM, single: ATTENTION_DECODE_PACKED16_SINGLE_PASS }
    : { scores: ATTENTION_DECODE_SCORES, softmax: ATTENTION_DECODE_SOFTMAX, sum: ATTENTION_DECODE_WEIGHTED_SUM, single: ATTENTION_DECODE_SINGLE_PASS };
  const split = variant === 'split' ||
    (variant === 'auto' && !gpu.adapter.isSoftware && TMAX >= SPLIT_MIN_TMAX && B * NH <= SPLIT_MAX_ROW_HEADS);
  if (split) {
    const S = Math.ceil(TMAX / SPLIT_CHUNK);
    const partial = gpu.tensor([B, NH, S, HS + 4], 'attention_decode_split partial sums');
    const splitParams = { ...params, CH: SPLIT_CHUNK, S };
    const buffers = { q, kCache, vCache, lengths, partial, out, prefix_rows };
    gpu.run(packed ? ATTENTION_DECODE_SPLIT_PACKED16 : ATTENTION_DECODE_SPLIT, buffers, splitParams, [S, NH, B], overrides);
    gpu.run(packed ? ATTENTION_DECODE_SPLIT_PACKED16_COMBINE : ATTENTION_DECODE_SPLIT_COMBINE, buffers, splitParams, [Math.ceil((NH * HS4) / 64), B], overrides);
    gpu.release(partial);
    return;
  }
  const single = variant === 'single_pass' ||
    (variant === 'auto' && gpu.adapter.isSoftware && HS <= SINGLE_PASS_MAX_HS && B * NH * TMAX <= SINGLE_PASS_MAX_WORK);
  if (single) {
    const unused = gpu.tensor([1], 'attention_decode probabilities (unused by single_pass)');
    gpu.run(kernels.single, { q, kCache, vCache, lengths, probs: unused, out, prefix_rows }, params, [Math.ceil((B * NH * HS4) / 64)], overrides);
    gpu.release(unused);
    return;
  }
  const probs = gpu.tensor([B, NH, TMAX], 'attention_decode probabilities');
  const buffers = { q, kCache, vCache, lengths, probs, out, prefix_rows };
  // the scores pass does not read WINDOW (it scores every cached position)
  const { WINDOW: _w, ...scoreOverrides } = overrides;
  gpu.run(kernels.scores, buffers, params, [Math.ceil(TMAX / 256), NH, B], scoreOverrides);
  gpu.run(kernels.softmax, buffers, params, [Math.ceil(NH / 64), B], overrides);
  gpu.run(kernels.sum, buffers, params, [Math.ceil((NH * HS4) / 64), B], overrides);
  gpu.release(probs);
}

/** Writes x's rows into the cache: x (B, T, NKV*HS); row (b, t) goes to cache[b, positions[b*T + t]] (positions: (B*T) u32),
 *  stored in dims.kvFormat (16 bits: rounded to nearest even, pairs packed in u32).
 *  Used both after prefill (T = prompt length, positions 0..T-1) and per decode step (T = 1, positions = current lengths).
 *  Positions at or past TMAX are skipped; with dims.ring a position goes to slot pos % TMAX and only RING_SKIP is skipped. */
export function kvCacheWrite(
  gpu: GpuRuntime,
  cache: Tensor,
  x: Tensor,
  positions: Tensor,
  dims: KvCacheDims,
): void {
  const { B, T, NKV, HS, TMAX } = dims;
  checkDims('kv_cache_write', { B, T, NKV, HS, TMAX }, false);
  const format = checkKvFormat('kv_cache_write', dims.kvFormat);
  const C = NKV * HS;
  const n = B * T * C;
  expectSize(x, n, `kv_cache_write: x (B, T, NKV*HS) ${x.label}`);
  expectSize(positions, B * T, `kv_cache_write: positions (B*T) ${positions.label}`);
  expectU32('kv_cache_write', 'positions', positions);
  expectCache('kv_cache_write', cache, B * TMAX * C, format, 'cache (B, TMAX, NKV, HS)');
  expectDistinct('kv_cache_write', { cache }, { x, positions });
  const overrides = cacheOverrides(format, dims.ring ?? false);
  if (format === 'f32') {
    gpu.run(KV_CACHE_WRITE, { x, positions, cache }, { n, T, C, TMAX }, grid(Math.ceil(n / 256)), overrides);
    return;
  }
  gpu.run(KV_CACHE_WRITE_PACKED16, { x, positions, cache }, { n: n / 2, T, C2: C / 2, TMAX }, grid(Math.ceil(n / 2 / 256)), overrides);
}
