// Attention's dimensions, shared by the GPU wrappers (src/gpu/kernels/attention.ts) and the CPU reference
// (src/reference/attention.ts).

/** B batch rows, T positions, NH query heads, NKV kv heads (NH % NKV == 0), HS head size (a multiple of 4).
 * scale: the score scale (default 1 / sqrt(HS); Gemma: query_pre_attn_scalar^-1/2). window: sliding-window
 * attention, position t sees keys j with t - j < window (absent or 0: full causal attention). */
export interface AttentionDims {
  B: number;
  T: number;
  NH: number;
  NKV: number;
  HS: number;
  scale?: number;
  window?: number;
}

/** attentionDecode's dims: TMAX is the cache capacity (positions per batch row). */
export interface DecodeDims {
  B: number;
  NH: number;
  NKV: number;
  HS: number;
  TMAX: number;
  /** as in AttentionDims: the query at length len sees positions len - window .. len - 1 */
  scale?: number;
  window?: number;
}

/** kvCacheWrite's dims: T rows of x per batch row, written into a cache of TMAX positions. */
export interface KvCacheDims {
  B: number;
  T: number;
  NKV: number;
  HS: number;
  TMAX: number;
}
