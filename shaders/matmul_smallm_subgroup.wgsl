// Matrix multiply for few rows (decoding), split along K inside a workgroup, summed with subgroupAdd: for
// adapters with the subgroups feature, any subgroup size (4..128; the code never assumes one).
//   out = alpha * op(a) @ op(b) (+ bias) (+ out when accumulate = 1)
//   op(a): (Bt, M, K); op(b): (Bt, K, N) (element strides a_rs, a_ks, b_ks, b_cs as matmul_scalar.wgsl)
//   out: (Bt, M, N); bias: (N), added to every row
// As matmul_smallm.wgsl, except the sum of the 64 partial blocks: each subgroup sums its own with
// subgroupAdd, and its first invocation (subgroup_invocation_id 0) writes that sum into its own slot of
// workgroup memory (slot li; the others stay zero, as workgroup memory starts zeroed). Invocations 0..7 then
// add all 64 slots, which is right whatever the subgroup size and however subgroups map onto li.
// Bindings: 0 params; 1 a (read), 2 b (read), 3 bias (read; any buffer when has_bias = 0), 4 out (read_write).
// Dispatch: as matmul_smallm.wgsl. Overwrites out, or accumulates (+=) into it when accumulate = 1.

enable subgroups;

//#include matmul_smallm_common

var<workgroup> red: array<vec4f, 512>; // red[li * 8 + q]: subgroup sum q when li is a subgroup's first lane

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let blk = block_of(wid, nwg);
  if (!blk.live) { return; } // uniform across the workgroup
  partial_sums(blk, li);
  for (var q = 0u; q < 8u; q++) {
    let s = subgroupAdd(part[q]);
    if (lane == 0u) { red[li * 8u + q] = s; }
  }
  workgroupBarrier();
  if (li < 8u) {
    var s = vec4f(0.0);
    for (var t = 0u; t < 64u; t++) { s += red[t * 8u + li]; }
    store_sum(blk, li, s);
  }
}
