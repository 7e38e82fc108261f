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

var<workgroup> red: array<vec4f, 256>; // red[li * 4 + r]: subgroup sum of row r when li is a subgroup's first lane

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  q_begin(p.N, p.K); // NF4_DQ: where the side region starts (lib/ggml_dequant.wgsl)
  let tile = wid.y + wid.z * nwg.y;
  let col = wid.x * 4u;
  if (tile >= p.tiles_m || col >= p.N) { return; } // uniform across the workgroup
  let row = tile * 4u;
  let live = min(4u, p.M - row);
  partial_sums(row, col, live, li);
  for (var r = 0u; r < 4u; r++) {
    let s = subgroupAdd(part[r]);
    if (lane == 0u) { red[li * 4u + r] = s; }
  }
  workgroupBarrier();
  if (li < live) {
    var s = vec4f(0.0);
    for (var t = 0u; t < 64u; t++) { s += red[t * 4u + li]; }
    store_sum(row + li, col, s);
  }
}
