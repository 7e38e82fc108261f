// Snippet (not a kernel): where a rope_kv_cache_write*.wgsl row writes its k and v (the including shader
// declares p {n_items, row_pairs, TMAX} and positions). Without SLOTS, row b's position pos goes to row
// b * TMAX + pos of caches (B, TMAX, KVD), skipped when pos >= TMAX. With the override SLOTS = 1 (the decode
// step's shared-prefix layout, decode_state.ts) positions holds 2B values, the B rows' positions (their RoPE
// angles) then their cache slots: row b goes to row positions[B + b] of caches (TMAX, KVD), skipped when that
// slot is >= TMAX (B = n_items / row_pairs).

override SLOTS: u32 = 0u;
const NO_SLOT: u32 = 0xffffffffu;

// the cache row that row b (at position pos) writes, or NO_SLOT when the write is skipped
fn write_slot(b: u32, pos: u32) -> u32 {
  if (SLOTS == 1u) {
    let s = positions[p.n_items / p.row_pairs + b];
    return select(NO_SLOT, s, s < p.TMAX);
  }
  return select(NO_SLOT, b * p.TMAX + pos, pos < p.TMAX);
}
