// CPU reference of decoding from KV caches in any storage (attention_decode.wgsl,
// attention_decode_packed16.wgsl, kv_cache_write.wgsl, kv_cache_write_packed16.wgsl), same argument order as
// src/gpu/kernels/attention_decode.ts: caches in f32, or 16 bits (bf16 / f16, rounded to nearest even) packed
// two per u32, full-length or rings (position j in slot j % TMAX). Sums in float64. The one decode reference:
// src/reference/attention.ts holds the training forward and backward only.

import type { DecodeDims, KvCacheDims, KvFormat } from '../ops/attention';
import { prefixCacheSlot, RING_SKIP } from '../ops/attention';
import { bf16Bits, f16Bits, from16 } from './packed16';

export type Floats = Float32Array | Float64Array;
/** a cache: f32 values, or u32 words of two 16-bit values */
export type CacheData = Floats | Uint32Array;

/** Value i (in f32 units) of a cache stored in `format`. */
export function cacheValue(cache: CacheData, i: number, format: KvFormat): number {
  if (format === 'f32') return cache[i];
  const w = cache[i >> 1];
  return from16(i & 1 ? w >>> 16 : w & 0xffff, format);
}

/** Stores value i of a cache in `format` (16 bits: rounded to nearest even into its half of the word). */
function setCacheValue(cache: CacheData, i: number, x: number, format: KvFormat): void {
  if (format === 'f32') {
    cache[i] = x;
    return;
  }
  const bits = format === 'bf16' ? bf16Bits(x) : f16Bits(x);
  const w = cache[i >> 1];
  cache[i >> 1] = (i & 1 ? (w & 0xffff) | (bits << 16) : (w & 0xffff0000) | bits) >>> 0;
}

/** out, q (B, NH, HS); kCache, vCache (B, TMAX, NKV, HS) in dims.kvFormat; row b attends to positions
 * 0 .. len - 1 (len = min(lengths[b], TMAX), or lengths[b] for a ring), the last dims.window of them with a
 * sliding window; a length of 0 gives zeros. With dims.prefixSlots (shared prompt prefix) the caches are
 * (prefixSlots, NKV, HS) and prefixRows (B, 3) says where each row's positions live (prefixCacheSlot). */
export function attentionDecode(out: Floats, q: Floats, kCache: CacheData, vCache: CacheData, lengths: Uint32Array, dims: DecodeDims, prefixRows?: Uint32Array): void {
  const { B, NH, NKV, HS, TMAX } = dims;
  const format = dims.kvFormat ?? 'f32';
  const ring = dims.ring ?? false;
  const G = NH / NKV;
  const scale = dims.scale ?? 1 / Math.sqrt(HS);
  const W = dims.window ?? 0;
  const acc = new Float64Array(HS);
  const pre = dims.prefixSlots !== undefined;
  if (pre && !prefixRows) throw new Error('attentionDecode: a shared-prefix layout needs its rows table');
  const cacheSlot = (b: number, j: number): number => (pre ? prefixCacheSlot(prefixRows!, b, j) : b * TMAX + (ring ? j % TMAX : j));
  for (let b = 0; b < B; b++) {
    const len = ring ? lengths[b] : Math.min(lengths[b], TMAX);
    const j0 = W > 0 ? Math.max(0, len - W) : 0;
    const s = new Float64Array(Math.max(len, 1));
    for (let h = 0; h < NH; h++) {
      const g = Math.floor(h / G);
      const qo = (b * NH + h) * HS;
      const at = (j: number) => (cacheSlot(b, j) * NKV + g) * HS;
      let m = -Number.MAX_VALUE;
      for (let j = j0; j < len; j++) {
        let dot = 0;
        for (let d = 0; d < HS; d++) dot += q[qo + d] * cacheValue(kCache, at(j) + d, format);
        s[j] = dot * scale;
        m = Math.max(m, s[j]);
      }
      let sum = 0;
      acc.fill(0);
      for (let j = j0; j < len; j++) {
        const p = Math.exp(s[j] - m);
        sum += p;
        for (let d = 0; d < HS; d++) acc[d] += p * cacheValue(vCache, at(j) + d, format);
      }
      for (let d = 0; d < HS; d++) out[qo + d] = len > 0 ? acc[d] / sum : 0;
    }
  }
}

/** cache (B, TMAX, NKV*HS)[b, positions[b*T + t], :] = x (B, T, NKV*HS)[b, t, :] stored in dims.kvFormat;
 * positions >= TMAX are skipped, or with dims.ring position pos goes to slot pos % TMAX and RING_SKIP is skipped. */
export function kvCacheWrite(cache: CacheData, x: Floats, positions: Uint32Array, dims: KvCacheDims): void {
  const { B, T, NKV, HS, TMAX } = dims;
  const format = dims.kvFormat ?? 'f32';
  const C = NKV * HS;
  for (let row = 0; row < B * T; row++) {
    let pos = positions[row];
    if (dims.ring) {
      if (pos === RING_SKIP) continue;
      pos %= TMAX;
    } else if (pos >= TMAX) continue;
    const b = Math.floor(row / T);
    for (let c = 0; c < C; c++) setCacheValue(cache, (b * TMAX + pos) * C + c, x[row * C + c], format);
  }
}
