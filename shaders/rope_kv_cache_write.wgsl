// RoPE of q and k plus both KV-cache writes of one decode step, in one dispatch (instead of two
// rope_forward.wgsl and two kv_cache_write.wgsl dispatches). Input is the fused q/k/v projection's output:
//   qkv: (B, QD + 2*KVD), each row [q (NH*HS) | k (NKV*HS) | v (NKV*HS)], QD = NH*HS, KVD = NKV*HS
//   qr[b, :]                      = rope(q[b], positions[b])                 qr: (B, QD)
//   k_cache[b, positions[b], :]   = rope(k[b], positions[b])                 k_cache, v_cache: (B, TMAX, KVD)
//   v_cache[b, positions[b], :]   = v[b]                (cache writes skipped for positions[b] >= TMAX)
// With the override SLOTS = 1 row b writes row positions[B + b] of caches (TMAX, KVD) instead (the shared-prefix
// layout; shaders/lib/rope_kv_cache_slot.wgsl), positions then holding 2B values.
// RoPE exactly as rope_forward.wgsl (same cos_sin, same arithmetic, so bit-for-bit equal); convention 0
// 'interleaved' pairs (2i, 2i+1), 1 'half' pairs (i, i + HS/2). Inference only: no backward.
// Overwrites qr and the addressed cache rows; leaves every other cache row as it was.
// Bindings: 0 params {n_items, row_pairs, q_pairs, k_pairs, head_dim, convention, TMAX}; 1 qkv (read),
// 2 positions (read, u32; SLOTS: 2B), 3 inv_freq (read), 4 qr (write), 5 k_cache (read_write), 6 v_cache (read_write).
// Dispatch: ceil(B * row_pairs / WG) workgroups, split over x and y by grid(); one invocation per rotated
// pair of q or k, or per two consecutive elements of v (row_pairs = (QD + 2*KVD) / 2).

//#include rope_cos_sin
//#include rope_kv_cache_slot

struct Params { n_items: u32, row_pairs: u32, q_pairs: u32, k_pairs: u32, head_dim: u32, convention: u32, TMAX: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<storage, read> inv_freq: array<f32>;
@group(0) @binding(4) var<storage, read_write> qr: array<f32>;
@group(0) @binding(5) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding(6) var<storage, read_write> v_cache: array<f32>;

override WG: u32 = 256u; // invocations per workgroup (the host picks 64 on software adapters)


// offsets of pair i's two channels within a head
fn pair_offsets(i: u32) -> vec2u {
  if (p.convention == 0u) { return vec2u(2u * i, 2u * i + 1u); }
  return vec2u(i, i + p.head_dim / 2u);
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
  let cache_row = slot * KVD;
  if (j >= p.q_pairs + p.k_pairs) {
    // v: a plain copy of two elements
    if (slot == NO_SLOT) { return; }
    let e = 2u * (j - p.q_pairs - p.k_pairs);
    v_cache[cache_row + e] = qkv[src + QD + KVD + e];
    v_cache[cache_row + e + 1u] = qkv[src + QD + KVD + e + 1u];
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
  let xa = qkv[in_base + off.x];
  let xb = qkv[in_base + off.y];
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
