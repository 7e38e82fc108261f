// Input gradient of matmul_quant_splitk_subgroup_forward.wgsl (the 'splitk_subgroup' variant of
// matmul_quant_backward.wgsl; the quantised weight is frozen): as matmul_quant_splitk_backward.wgsl, except
// the 64 partial blocks are summed per subgroup with subgroupAdd (the first lane of each subgroup writes its
// slot; the rest stay zero) before invocations 0..7 add the 64 slots. For adapters with the subgroups feature.
//   dx (M, K) = alpha * dy (M, N) @ W (+ dx when accumulate = 1),   W (N, K) in a ggml block format
// Bindings: 0 params; 1 dy (read), 2 w (read, u32), 3 dx (read_write, as vec4f: K is whole blocks).
// Dispatch: (K / 8, Y) with Y >= tiles_m = ceil(M / 4), split over y and z by grid(). Override: QTYPE.
// Overwrites dx, or accumulates (+=) when accumulate = 1.

enable subgroups;

//#include matmul_quant_splitk_backward_body

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let blk = splitk_block(wid, nwg, 8u, p.K);
  if (!blk.inside) { return; } // uniform across the workgroup
  partial_sums(blk.row, blk.col, blk.live, li);
  // red[li * 8 + q]: the subgroup's sum of vec4 q when li is its first lane
  for (var q = 0u; q < 8u; q++) {
    let s = subgroupAdd(part[q]);
    if (lane == 0u) { red[li * 8u + q] = s; }
  }
  workgroupBarrier();
  reduce_store(blk, li);
}
