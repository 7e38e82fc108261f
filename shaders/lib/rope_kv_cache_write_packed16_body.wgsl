// Snippet (not a kernel): the 16-bit-cache RoPE + KV-cache writes of rope_kv_cache_write_packed16.wgsl
// (stacked q/k/v) and rope_kv_cache_write_split_packed16.wgsl (three tensors), which differ only in their
// fn qkv_at (see lib/rope_kv_cache_write_common.wgsl); the arithmetic is documented in
// rope_kv_cache_write_packed16.wgsl.

//#include rope_kv_cache_write_common
//#include pack16

@group(0) @binding(5) var<storage, read_write> k_cache: array<u32>;
@group(0) @binding(6) var<storage, read_write> v_cache: array<u32>;

override FORMAT: u32 = 0u;

// channel d of the rotated head whose input starts at in_base: the first (ya) or second (yb) output of its pair
fn rotated(in_base: u32, d: u32, pos: u32) -> f32 {
  var i: u32;
  var second: bool;
  if (p.convention == 0u) {
    i = d / 2u;
    second = (d & 1u) == 1u;
  } else {
    let half_hs = p.head_dim / 2u;
    i = d % half_hs;
    second = d >= half_hs;
  }
  let off = pair_offsets(i);
  let cs = cos_sin(f32(pos) * inv_freq[i]);
  let c = cs.x;
  let s = cs.y;
  let xa = qkv_at(in_base + off.x);
  let xb = qkv_at(in_base + off.y);
  if (second) { return xa * s + xb * c; }
  return xa * c - xb * s;
}

// item j of row b (whose rows [q | k | v] start at element src), at position pos
fn write_item(b: u32, j: u32, src: u32, pos: u32) {
  let QD = 2u * p.q_pairs;
  let KVD = 2u * p.k_pairs;
  let slot = write_slot(b, pos);
  let cache_word = slot * p.k_pairs; // first word of the cache row
  if (j >= p.q_pairs + p.k_pairs) {
    // v: two neighbouring values into one word
    if (slot == NO_SLOT) { return; }
    let m = j - p.q_pairs - p.k_pairs;
    let e = src + QD + KVD + 2u * m;
    v_cache[cache_word + m] = pack16x2(vec2f(qkv_at(e), qkv_at(e + 1u)));
    return;
  }
  if (j >= p.q_pairs) {
    // k: outputs 2m and 2m + 1 of the row (the same head: HS is even)
    if (slot == NO_SLOT) { return; }
    let m = j - p.q_pairs;
    let d0 = (2u * m) % p.head_dim;
    let head_in = src + QD + (2u * m - d0);
    k_cache[cache_word + m] = pack16x2(vec2f(rotated(head_in, d0, pos), rotated(head_in, d0 + 1u, pos)));
    return;
  }
  // q: one rotated pair, as rope_kv_cache_write.wgsl
  let half_hs = p.head_dim / 2u;
  let i = j % half_hs;
  let head_base = (j / half_hs) * p.head_dim;
  let off = pair_offsets(i);
  let in_base = src + head_base;
  let cs = cos_sin(f32(pos) * inv_freq[i]);
  let c = cs.x;
  let s = cs.y;
  let xa = qkv_at(in_base + off.x);
  let xb = qkv_at(in_base + off.y);
  qr[b * QD + head_base + off.x] = xa * c - xb * s;
  qr[b * QD + head_base + off.y] = xa * s + xb * c;
}
