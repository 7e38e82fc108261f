// Host wrapper for rope_kv_cache_write.wgsl (f32 caches) and rope_kv_cache_write_packed16.wgsl (caches in
// 16 bits): one decode step's RoPE of q and k and both KV-cache writes in one dispatch, reading the fused
// q/k/v projection's output.
import code from '../../../shaders/rope_kv_cache_write.wgsl?raw';
import packed16Code from '../../../shaders/rope_kv_cache_write_packed16.wgsl?raw';
import splitCode from '../../../shaders/rope_kv_cache_write_split.wgsl?raw';
import splitPacked16Code from '../../../shaders/rope_kv_cache_write_split_packed16.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, expectSize, type Tensor } from '../tensor';
import type { RopeConvention } from './rope';
import { elementwiseWorkgroupSize } from './elementwise';
import type { KvFormat } from '../../ops/attention';

export const ROPE_KV_CACHE_WRITE = defineKernel({
  name: 'rope_kv_cache_write',
  source: code,
  params: { n_items: 'u32', row_pairs: 'u32', q_pairs: 'u32', k_pairs: 'u32', head_dim: 'u32', convention: 'u32', TMAX: 'u32' },
  buffers: { qkv: 'read', positions: 'read', inv_freq: 'read', qr: 'read_write', k_cache: 'read_write', v_cache: 'read_write' },
});
export const ROPE_KV_CACHE_WRITE_PACKED16 = defineKernel({
  name: 'rope_kv_cache_write_packed16',
  source: packed16Code,
  params: ROPE_KV_CACHE_WRITE.params,
  buffers: ROPE_KV_CACHE_WRITE.buffers,
});

/** q (B, NH*HS), k and v (B, NKV*HS) as three tensors: what a decode step without stacked q/k/v has. */
export interface SplitQkv {
  q: Tensor;
  k: Tensor;
  v: Tensor;
}

/** The _split kernels (rope_kv_cache_write_split*.wgsl) read q, k and v from three tensors (B, QD), (B, KVD),
 * (B, KVD) instead of the stacked (B, QD + 2*KVD) projection: for models whose decode step does not stack q/k/v
 * (a 16-bit base). Each is its stacked twin's body (shaders/lib/rope_kv_cache_write*_body.wgsl) with another
 * reader of the input (lib/rope_kv_split_qkv.wgsl), so the arithmetic is that kernel's. q_in keeps binding 1;
 * k_in and v_in are 7, 8. */
const SPLIT_BUFFERS = {
  q_in: 'read', positions: 'read', inv_freq: 'read', qr: 'read_write', k_cache: 'read_write', v_cache: 'read_write', k_in: 'read', v_in: 'read',
} as const;
export const ROPE_KV_CACHE_WRITE_SPLIT = defineKernel({
  name: 'rope_kv_cache_write_split',
  source: splitCode,
  params: ROPE_KV_CACHE_WRITE.params,
  buffers: SPLIT_BUFFERS,
});
export const ROPE_KV_CACHE_WRITE_SPLIT_PACKED16 = defineKernel({
  name: 'rope_kv_cache_write_split_packed16',
  source: splitPacked16Code,
  params: ROPE_KV_CACHE_WRITE.params,
  buffers: SPLIT_BUFFERS,
});

/** B rows (one token each), NH query heads, NKV kv heads of HS channels, caches of TMAX positions. */
export interface RopeKvDims {
  B: number;
  NH: number;
  NKV: number;
  HS: number;
  TMAX: number;
  /** the caches' storage (default f32; 16 bits: u32 caches of (B, TMAX, NKV*HS / 2) words) */
  kvFormat?: KvFormat;
  /** the shared-prefix layout (decode_state.ts; override SLOTS): positions holds 2B values, the rows' positions
   * then their cache slots, and row b's k/v go to row positions[B + b] of caches of (TMAX, NKV*HS) (TMAX then
   * counts every slot of the layout), skipped when that slot is >= TMAX; RoPE still at positions[b] */
  slots?: boolean;
}

/** qkv (B, NH*HS + 2*NKV*HS), rows [q | k | v] (or the three as a SplitQkv: the _split kernels): qr (B, NH*HS) = rope(q); kCache[b, positions[b]] = rope(k);
 * vCache[b, positions[b]] = v (caches (B, TMAX, NKV*HS) in dims.kvFormat, 16 bits rounded to nearest even;
 * writes at positions >= TMAX are skipped; with dims.slots row b writes slot positions[B + b] of caches of
 * (TMAX, NKV*HS) instead). positions (B, or 2B with dims.slots) u32; invFreq (HS/2). The same values as two ropeForward and two kvCacheWrite calls. */
export function ropeKvCacheWrite(
  gpu: GpuRuntime,
  qr: Tensor,
  kCache: Tensor,
  vCache: Tensor,
  qkv: Tensor | SplitQkv,
  positions: Tensor,
  invFreq: Tensor,
  dims: RopeKvDims,
  convention: RopeConvention,
): void {
  const { B, NH, NKV, HS, TMAX } = dims;
  for (const [name, v] of Object.entries({ B, NH, NKV, HS, TMAX })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`rope_kv_cache_write: ${name} = ${v} must be a positive integer`);
  }
  if (HS % 2 !== 0) throw new Error(`rope_kv_cache_write: head size HS = ${HS} must be even`);
  if (convention !== 'interleaved' && convention !== 'half') {
    throw new Error(`rope_kv_cache_write: unknown convention '${String(convention)}' (expected 'interleaved' or 'half')`);
  }
  const QD = NH * HS;
  const KVD = NKV * HS;
  const split = 'buffer' in qkv ? null : qkv;
  if (split) {
    expectShape(split.q, [B, QD], `rope_kv_cache_write: q (B, NH*HS) ${split.q.label}`);
    expectShape(split.k, [B, KVD], `rope_kv_cache_write: k (B, NKV*HS) ${split.k.label}`);
    expectShape(split.v, [B, KVD], `rope_kv_cache_write: v (B, NKV*HS) ${split.v.label}`);
  } else expectShape(qkv as Tensor, [B, QD + 2 * KVD], `rope_kv_cache_write: qkv (B, QD + 2*KVD) ${(qkv as Tensor).label}`);
  const inputsOf = split ? [split.q, split.k, split.v] : [qkv as Tensor];
  expectShape(qr, [B, QD], `rope_kv_cache_write: qr (B, NH*HS) ${qr.label}`);
  const format = dims.kvFormat ?? 'f32';
  if (format !== 'f32' && format !== 'bf16' && format !== 'f16') throw new Error(`rope_kv_cache_write: unknown KV cache format '${String(format)}'`);
  const slots = dims.slots ?? false;
  const rows = slots ? 1 : B;
  const words = format === 'f32' ? rows * TMAX * KVD : (rows * TMAX * KVD) / 2;
  for (const [name, t] of [['kCache', kCache], ['vCache', vCache]] as const) {
    const dtype = format === 'f32' ? 'f32' : 'u32';
    if (t.dtype !== dtype) throw new Error(`rope_kv_cache_write: ${name} (${t.label}) is ${t.dtype} but a ${format} cache is a ${dtype} tensor`);
    expectSize(t, words, `rope_kv_cache_write: ${name} ${slots ? '(TMAX, NKV*HS)' : '(B, TMAX, NKV*HS)'} ${t.label} (${format})`);
  }
  const nPos = slots ? 2 * B : B;
  if (positions.dtype !== 'u32' || positions.size !== nPos) {
    throw new Error(`rope_kv_cache_write: positions (${positions.label}) must be ${nPos} u32 values${slots ? ' (positions, then cache slots)' : ''}, got ${positions.size} ${positions.dtype}`);
  }
  expectShape(invFreq, [HS / 2], `rope_kv_cache_write: invFreq ${invFreq.label}`);
  const outputs = [qr, kCache, vCache];
  for (const o of outputs) {
    for (const other of [...inputsOf, positions, invFreq, ...outputs.filter((x) => x !== o)]) {
      if (o.buffer === other.buffer) throw new Error(`rope_kv_cache_write: ${o.label} is also ${other.label}; outputs need their own tensors`);
    }
  }
  const rowPairs = (QD + 2 * KVD) / 2;
  const n = B * rowPairs;
  const wg = elementwiseWorkgroupSize(gpu);
  const params = { n_items: n, row_pairs: rowPairs, q_pairs: QD / 2, k_pairs: KVD / 2, head_dim: HS, convention: convention === 'interleaved' ? 0 : 1, TMAX };
  const overrides: Record<string, number> = { ...(format === 'f32' ? { WG: wg } : { WG: wg, FORMAT: format === 'f16' ? 1 : 0 }), ...(slots ? { SLOTS: 1 } : {}) };
  const common = { positions, inv_freq: invFreq, qr, k_cache: kCache, v_cache: vCache };
  if (split) {
    gpu.run(format === 'f32' ? ROPE_KV_CACHE_WRITE_SPLIT : ROPE_KV_CACHE_WRITE_SPLIT_PACKED16,
      { q_in: split.q, k_in: split.k, v_in: split.v, ...common }, params, grid(Math.ceil(n / wg)), overrides);
    return;
  }
  gpu.run(format === 'f32' ? ROPE_KV_CACHE_WRITE : ROPE_KV_CACHE_WRITE_PACKED16, { qkv: qkv as Tensor, ...common }, params, grid(Math.ceil(n / wg)), overrides);
}

