// Snippet (not a kernel): the f32-cache RoPE + KV-cache writes of rope_kv_cache_write.wgsl (stacked q/k/v)
// and rope_kv_cache_write_split.wgsl (three tensors), which differ only in their fn qkv_at (see
// lib/rope_kv_cache_write_common.wgsl); the arithmetic is documented in rope_kv_cache_write.wgsl.

//#include rope_kv_cache_write_common

@group(0) @binding(5) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding(6) var<storage, read_write> v_cache: array<f32>;

// item j of row b (whose rows [q | k | v] start at element src), at position pos
fn write_item(b: u32, j: u32, src: u32, pos: u32) {
  let QD = 2u * p.q_pairs;
  let KVD = 2u * p.k_pairs;
  let slot = write_slot(b, pos);
  let cache_row = slot * KVD;
  if (j >= p.q_pairs + p.k_pairs) {
    // v: a plain copy of two elements
    if (slot == NO_SLOT) { return; }
    let e = 2u * (j - p.q_pairs - p.k_pairs);
    v_cache[cache_row + e] = qkv_at(src + QD + KVD + e);
    v_cache[cache_row + e + 1u] = qkv_at(src + QD + KVD + e + 1u);
    return;
  }
  let is_k = j >= p.q_pairs;
  let jj = select(j, j - p.q_pairs, is_k);
  let half_hs = p.head_dim / 2u;
  let i = jj % half_hs;
  let head_base = (jj / half_hs) * p.head_dim;
  let off = pair_offsets(i);
  let in_base = src + select(0u, QD, is_k) + head_base;
  let cs = cos_sin(f32(pos) * inv_freq[i]);
  let c = cs.x;
  let s = cs.y;
  let xa = qkv_at(in_base + off.x);
  let xb = qkv_at(in_base + off.y);
  let ya = xa * c - xb * s;
  let yb = xa * s + xb * c;
  if (is_k) {
    if (slot == NO_SLOT) { return; }
    k_cache[cache_row + head_base + off.x] = ya;
    k_cache[cache_row + head_base + off.y] = yb;
  } else {
    qr[b * QD + head_base + off.x] = ya;
    qr[b * QD + head_base + off.y] = yb;
  }
}
