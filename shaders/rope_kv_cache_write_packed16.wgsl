// rope_kv_cache_write.wgsl for KV caches stored in 16 bits: RoPE of q and k plus both KV-cache writes of one
// decode step in one dispatch, the cache rows rounded to FORMAT (0 bfloat16, 1 IEEE half; nearest even,
// shaders/lib/pack16.wgsl) and packed two values per u32 (low 16 bits the first).
//   qkv: (B, QD + 2*KVD), each row [q (NH*HS) | k (NKV*HS) | v (NKV*HS)], QD = NH*HS, KVD = NKV*HS
//   qr[b, :]                      = rope(q[b], positions[b])                 qr: (B, QD) f32
//   k_cache[b, positions[b], :]   = round16(rope(k[b], positions[b]))        k_cache, v_cache: (B, TMAX, KVD / 2) u32
//   v_cache[b, positions[b], :]   = round16(v[b])       (cache writes skipped for positions[b] >= TMAX)
// With the override SLOTS = 1 row b writes row positions[B + b] of caches (TMAX, KVD / 2) instead (the
// shared-prefix layout; shaders/lib/rope_kv_cache_slot.wgsl), positions then holding 2B values.
// RoPE exactly as rope_kv_cache_write.wgsl (same cos_sin, same products and sums), so a cache value is the
// f32 kernel's value rounded. Convention 0 'interleaved' pairs (2i, 2i+1), 1 'half' pairs (i, i + HS/2).
// Since a word holds two neighbouring values, an invocation of the k part computes the two neighbouring
// outputs 2m and 2m+1 (with 'half' they belong to two different rotated pairs; each reads its partner).
// Inference only: no backward. Overwrites qr and the addressed cache rows; leaves every other row as it was.
// Bindings: 0 params {n_items, row_pairs, q_pairs, k_pairs, head_dim, convention, TMAX}; 1 qkv (read),
// 2 positions (read, u32; SLOTS: 2B), 3 inv_freq (read), 4 qr (write), 5 k_cache (read_write), 6 v_cache (read_write).
// Dispatch: ceil(B * row_pairs / WG) workgroups, split over x and y by grid(); one invocation per rotated
// pair of q, per two neighbouring outputs of k, or per two neighbouring values of v (row_pairs = (QD + 2*KVD) / 2).
// Overrides: FORMAT, WG, SLOTS.

//#include rope_cos_sin
//#include pack16
//#include rope_kv_cache_slot

struct Params { n_items: u32, row_pairs: u32, q_pairs: u32, k_pairs: u32, head_dim: u32, convention: u32, TMAX: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<storage, read> inv_freq: array<f32>;
@group(0) @binding(4) var<storage, read_write> qr: array<f32>;
@group(0) @binding(5) var<storage, read_write> k_cache: array<u32>;
@group(0) @binding(6) var<storage, read_write> v_cache: array<u32>;

override WG: u32 = 256u; // invocations per workgroup (the host picks 64 on software adapters)
override FORMAT: u32 = 0u;

// offsets of pair i's two channels within a head
fn pair_offsets(i: u32) -> vec2u {
  if (p.convention == 0u) { return vec2u(2u * i, 2u * i + 1u); }
  return vec2u(i, i + p.head_dim / 2u);
}

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
  let xa = qkv[in_base + off.x];
  let xb = qkv[in_base + off.y];
  if (second) { return xa * s + xb * c; }
  return xa * c - xb * s;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = (wid.x + wid.y * nwg.x) * WG + lid;
  if (item >= p.n_items) { return; }
  let b = item / p.row_pairs;
  let j = item % p.row_pairs;
  let QD = 2u * p.q_pairs;
  let KVD = 2u * p.k_pairs;
  let src = b * 2u * p.row_pairs; // start of row b of qkv
  let pos = positions[b];
  let slot = write_slot(b, pos);
  let cache_word = slot * p.k_pairs; // first word of the cache row
  if (j >= p.q_pairs + p.k_pairs) {
    // v: two neighbouring values into one word
    if (slot == NO_SLOT) { return; }
    let m = j - p.q_pairs - p.k_pairs;
    let e = src + QD + KVD + 2u * m;
    v_cache[cache_word + m] = pack16x2(vec2f(qkv[e], qkv[e + 1u]));
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
  let xa = qkv[in_base + off.x];
  let xb = qkv[in_base + off.y];
  qr[b * QD + head_base + off.x] = xa * c - xb * s;
  qr[b * QD + head_base + off.y] = xa * s + xb * c;
}
