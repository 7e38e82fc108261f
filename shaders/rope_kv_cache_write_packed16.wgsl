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

// The body (params, the other bindings, the entry point) is lib/rope_kv_cache_write_packed16_body.wgsl, shared with
// rope_kv_cache_write_split_packed16.wgsl, which reads q, k and v from three tensors instead of qkv.

@group(0) @binding(1) var<storage, read> qkv: array<f32>;

// element e of qkv (the body reads its input through qkv_at)
fn qkv_at(e: u32) -> f32 { return qkv[e]; }

//#include rope_kv_cache_write_packed16_body
