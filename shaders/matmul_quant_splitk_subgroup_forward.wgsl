// As matmul_quant_splitk_forward.wgsl (the 'splitk_subgroup' variant of matmul_quant_forward.wgsl), except the
// sum of the 64 partial blocks: each subgroup sums its own with subgroupAdd and its first invocation
// (subgroup_invocation_id 0) writes that sum into its own slot of workgroup memory (slot li; the others stay
// zero, as workgroup memory starts zeroed); invocations 0..3 then add all 64 slots, which is right whatever
// the subgroup size and however subgroups map onto li. For adapters with the subgroups feature.
//   out (M, N) = alpha * x (M, K) @ W^T (+ bias) (+ out when accumulate = 1),   W (N, K) quantised
// Bindings: 0 params; 1 x (read, as vec4f), 2 w (read, u32), 3 bias (read; any buffer when has_bias = 0),
//   4 out (read_write).
// Dispatch: (ceil(N / 4), Y) with Y >= tiles_m = ceil(M / 4), split over y and z by grid(). Override: QTYPE.
// Overwrites out, or accumulates (+=) when accumulate = 1. Backward: matmul_quant_splitk_subgroup_backward.wgsl.

enable subgroups;

//#include matmul_quant_splitk_forward_body

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let blk = splitk_block(wid, nwg, 4u, p.N);
  if (!blk.inside) { return; } // uniform across the workgroup
  partial_sums(blk.row, blk.col, blk.live, li);
  // red[li * 4 + r]: the subgroup's sum of row r when li is its first lane
  for (var r = 0u; r < 4u; r++) {
    let s = subgroupAdd(part[r]);
    if (lane == 0u) { red[li * 4u + r] = s; }
  }
  workgroupBarrier();
  reduce_store(blk, li);
}
