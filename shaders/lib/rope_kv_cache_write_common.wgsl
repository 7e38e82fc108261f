// Snippet (not a kernel): what the four RoPE + KV-cache-write kernels share (rope_kv_cache_write*.wgsl:
// f32 or 16-bit caches, q/k/v stacked or in three tensors): the params, the bindings other than the input
// and the caches, the workgroup size, where a rotated pair's two channels lie, and the entry point, which
// hands each invocation's item to the including body's fn write_item.
// Where a row's k and v go (its cache row, or none): write_slot of lib/rope_kv_cache_slot.wgsl (override SLOTS).
// The including kernel reads its input through fn qkv_at(e: u32) -> f32, element e of the row-major
// (B, QD + 2*KVD) rows [q | k | v]: binding 1 qkv when stacked, lib/rope_kv_split_qkv.wgsl when split.

//#include rope_cos_sin
//#include rope_kv_cache_slot

struct Params { n_items: u32, row_pairs: u32, q_pairs: u32, k_pairs: u32, head_dim: u32, convention: u32, TMAX: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<storage, read> inv_freq: array<f32>;
@group(0) @binding(4) var<storage, read_write> qr: array<f32>;

override WG: u32 = 256u; // invocations per workgroup (the host picks 64 on software adapters)

// offsets of pair i's two channels within a head
fn pair_offsets(i: u32) -> vec2u {
  if (p.convention == 0u) { return vec2u(2u * i, 2u * i + 1u); }
  return vec2u(i, i + p.head_dim / 2u);
}

// one invocation per item (row_pairs per row: a rotated pair of q or k, or two neighbouring values of v)
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = (wid.x + wid.y * nwg.x) * WG + lid;
  if (item >= p.n_items) { return; }
  let b = item / p.row_pairs;
  // item j of row b; the row starts at element b * 2 * row_pairs of the rows [q | k | v]
  write_item(b, item % p.row_pairs, b * 2u * p.row_pairs, positions[b]);
}
