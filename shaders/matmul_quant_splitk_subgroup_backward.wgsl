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

var<workgroup> red: array<vec4f, 512>; // red[li * 8 + q]: subgroup sum of vec4 q when li is a subgroup's first lane

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  q_begin(p.N, p.K); // NF4_DQ: where the side region starts (lib/ggml_dequant.wgsl)
  let tile = wid.y + wid.z * nwg.y;
  let kc = wid.x * 8u;
  if (tile >= p.tiles_m || kc >= p.K) { return; } // uniform across the workgroup
  let row = tile * 4u;
  let live = min(4u, p.M - row);
  partial_sums(row, kc, live, li);
  for (var q = 0u; q < 8u; q++) {
    let s = subgroupAdd(part[q]);
    if (lane == 0u) { red[li * 8u + q] = s; }
  }
  workgroupBarrier();
  if (li < 2u * live) {
    var s = vec4f(0.0);
    for (var t = 0u; t < 64u; t++) { s += red[t * 8u + li]; }
    store_sum(row + li / 2u, kc, li % 2u, s);
  }
}
