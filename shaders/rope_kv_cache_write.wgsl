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

// The body (params, the other bindings, the entry point) is lib/rope_kv_cache_write_body.wgsl, shared with
// rope_kv_cache_write_split.wgsl, which reads q, k and v from three tensors instead of qkv.

@group(0) @binding(1) var<storage, read> qkv: array<f32>;

// element e of qkv (the body reads its input through qkv_at)
fn qkv_at(e: u32) -> f32 { return qkv[e]; }

//#include rope_kv_cache_write_body
