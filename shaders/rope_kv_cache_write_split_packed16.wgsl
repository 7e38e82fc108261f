// rope_kv_cache_write_packed16.wgsl (16-bit caches) with q, k and v read from three tensors instead of the
// stacked (B, QD + 2*KVD) projection: for decode steps that do not stack q/k/v (a 16-bit base).
//   q_in: (B, QD), k_in, v_in: (B, KVD); qr, k_cache, v_cache and the arithmetic as
//   rope_kv_cache_write_packed16.wgsl, whose body (lib/rope_kv_cache_write_packed16_body.wgsl) this kernel is,
//   reading element e of the rows [q | k | v] through lib/rope_kv_split_qkv.wgsl's qkv_at (the same element,
//   from the three tensors).
// Bindings: 0 params {n_items, row_pairs, q_pairs, k_pairs, head_dim, convention, TMAX}; 1 q_in (read),
// 2 positions (read, u32; SLOTS: 2B), 3 inv_freq (read), 4 qr (write), 5 k_cache (read_write), 6 v_cache (read_write),
// 7 k_in (read), 8 v_in (read).
// Dispatch: as rope_kv_cache_write_packed16.wgsl. Overrides: FORMAT, WG, SLOTS (the shared-prefix layout).

//#include rope_kv_split_qkv
//#include rope_kv_cache_write_packed16_body
