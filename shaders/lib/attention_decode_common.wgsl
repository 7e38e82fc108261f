// Snippet (not a kernel): what every decode attention kernel shares (attention_decode*.wgsl,
// attention_decode_split*.wgsl): the overrides WINDOW (sliding window, 0: none) and RING (1: the caches are
// rings of TMAX slots, position j in slot j % TMAX, and lengths may exceed TMAX; the host sets it only with
// 0 < WINDOW <= TMAX), and the positions a query sees. Needs p.TMAX and lengths from the including shader.
// Shared prompt prefix (override PREFIX = 1, never with RING; needs prefix_rows from the including shader): the
// caches are one block of slots, (SLOTS, NKV, HS), holding each group's prompt once and each row's own positions;
// prefix_rows (B, 3) u32 says where row b's are: (P, pre, own) = its prompt length, the first slot of its group's
// prompt block and the first slot of its own block. Position j < P is slot pre + j, position j >= P slot
// own + (j - P). A row's entry is all that ties it to its blocks, so rows may move (DecodeState.compact) by
// rewriting the table alone.

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

// ---- shared prompt prefix (PREFIX = 1; see the header) ----
override PREFIX: u32 = 0u;

// where row b's positions live: its prompt length, its prompt block's first slot and its own block's first slot
// minus the prompt length (u32 arithmetic wraps: own + j is right for j >= plen); without PREFIX, pre = b * TMAX
struct RowSlots { plen: u32, pre: u32, own: u32 }

fn row_slots(b: u32) -> RowSlots {
  if (PREFIX == 1u) {
    let plen = prefix_rows[3u * b];
    return RowSlots(plen, prefix_rows[3u * b + 1u], prefix_rows[3u * b + 2u] - plen);
  }
  return RowSlots(0u, b * p.TMAX, 0u);
}

// the cache slot of position j of the row whose row_slots are r (its own full-length block or ring, or the
// prefix layout)
fn cache_slot(r: RowSlots, j: u32) -> u32 {
  if (PREFIX == 1u) { return select(r.own + j, r.pre + j, j < r.plen); }
  return r.pre + slot(j);
}

// loops over positions a..b split where the blocks change, so that a position costs no select: positions a..mid
// are slot r.pre + slot(j) (the prompt's under PREFIX, every one otherwise), mid..b slot r.own + j (PREFIX only)
fn first_block_end(r: RowSlots, a: u32, b: u32) -> u32 {
  if (PREFIX == 1u) { return clamp(r.plen, a, b); }
  return b;
}
