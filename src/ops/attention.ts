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

/** How a KV cache stores its values: f32, or 16 bits (bfloat16 / IEEE half) packed two per u32, the cache
 * then being a u32 tensor of half as many elements. */
export type KvFormat = 'f32' | 'bf16' | 'f16';

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
  /** the caches' storage (default f32) */
  kvFormat?: KvFormat;
  /** the caches are rings of TMAX slots (position j in slot j % TMAX; lengths may exceed TMAX); needs
   * 0 < window <= TMAX, so that a ring holds every position a query sees */
  ring?: boolean;
  /** shared prompt prefix (not with ring): the caches are one block of prefixSlots slots, (prefixSlots, NKV, HS),
   * holding each group's prompt once and each row's own positions, and a (B, 3) u32 table (attentionDecode's
   * prefixRows, PREFIX_ROW_WORDS a row) says where row b's positions live (prefixCacheSlot). TMAX is then the
   * positions a query may see at most (the scratch's length; lengths above it are clamped). */
  prefixSlots?: number;
}

/** u32 words per row of the shared-prefix table: the row's prompt length P, the first slot of its group's prompt
 * block, the first slot of its own block. */
export const PREFIX_ROW_WORDS = 3;

/** The cache slot of position j of row b in the shared-prefix layout: j < P in its group's prompt block, the rest
 * in its own block (table: (B, PREFIX_ROW_WORDS) u32, DecodeDims.prefixSlots). */
export function prefixCacheSlot(table: ArrayLike<number>, b: number, j: number): number {
  const P = table[PREFIX_ROW_WORDS * b];
  return j < P ? table[PREFIX_ROW_WORDS * b + 1] + j : table[PREFIX_ROW_WORDS * b + 2] + (j - P);
}

/** kvCacheWrite's dims: T rows of x per batch row, written into a cache of TMAX positions. */
export interface KvCacheDims {
  B: number;
  T: number;
  NKV: number;
  HS: number;
  TMAX: number;
  /** the cache's storage (default f32) */
  kvFormat?: KvFormat;
  /** the cache is a ring of TMAX slots: position pos goes to slot pos % TMAX; positions RING_SKIP are skipped */
  ring?: boolean;
}

/** A position kvCacheWrite skips in a ring cache (padding, or older than the ring's last TMAX positions). */
export const RING_SKIP = 0xffffffff;
