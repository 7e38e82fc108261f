// Snippet (not a kernel): the input of the _split RoPE + KV-cache-write kernels (rope_kv_cache_write_split*.wgsl):
// q, k and v as three tensors (B, QD), (B, KVD), (B, KVD), for decode steps that do not stack q/k/v (a 16-bit
// base). q_in takes binding 1 (the stacked kernels' qkv); k_in and v_in are 7 and 8.

@group(0) @binding(1) var<storage, read> q_in: array<f32>;
@group(0) @binding(7) var<storage, read> k_in: array<f32>;
@group(0) @binding(8) var<storage, read> v_in: array<f32>;

// element e of the row-major (B, QD + 2*KVD) rows [q | k | v] the stacked kernel reads, from q_in, k_in, v_in
fn qkv_at(e: u32) -> f32 {
  let QD = 2u * p.q_pairs;
  let KVD = 2u * p.k_pairs;
  let b = e / (2u * p.row_pairs);
  let o = e % (2u * p.row_pairs);
  if (o < QD) { return q_in[b * QD + o]; }
  if (o < QD + KVD) { return k_in[b * KVD + o - QD]; }
  return v_in[b * KVD + o - QD - KVD];
}
