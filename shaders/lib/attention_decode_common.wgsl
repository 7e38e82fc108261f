// Snippet (not a kernel): what every decode attention kernel shares (attention_decode*.wgsl,
// attention_decode_split*.wgsl): the overrides WINDOW (sliding window, 0: none) and RING (1: the caches are
// rings of TMAX slots, position j in slot j % TMAX, and lengths may exceed TMAX; the host sets it only with
// 0 < WINDOW <= TMAX), and the positions a query sees. Needs p.TMAX and lengths from the including shader.

override WINDOW: u32 = 0u;
override RING: u32 = 0u;

// positions a query at lengths[b] sees end at len (exclusive): the cache holds at most TMAX of them unless it is a ring
fn seq_len(b: u32) -> u32 {
  if (RING == 1u) { return lengths[b]; }
  return min(lengths[b], p.TMAX);
}

// the cache slot of position j
fn slot(j: u32) -> u32 {
  if (RING == 1u) { return j % p.TMAX; }
  return j;
}

// the first cache position a query at length len sees
fn window_start(len: u32) -> u32 {
  if (WINDOW > 0u && len > WINDOW) { return len - WINDOW; }
  return 0u;
}
