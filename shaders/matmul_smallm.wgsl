// Matrix multiply for few rows (decoding: M = the rows being decoded), split along K inside a workgroup,
// batched, every transpose form, any shape.
//   out = alpha * op(a) @ op(b) (+ bias) (+ out when accumulate = 1)
//   op(a): (Bt, M, K); op(b): (Bt, K, N) (element strides a_rs, a_ks, b_ks, b_cs as matmul_scalar.wgsl)
//   out: (Bt, M, N); bias: (N), added to every row
// A workgroup of 64 computes a 4 x 8 block of out; its invocations split K (k = li, li + 64, ...: with a
// stored (M, K) and b stored (N, K), consecutive invocations read consecutive addresses), and the 64
// partial blocks are summed in workgroup memory by a tree of barriers (shaders/lib/matmul_smallm_common.wgsl).
// matmul_smallm_subgroup.wgsl sums with subgroupAdd instead.
// Bindings: 0 params; 1 a (read), 2 b (read), 3 bias (read; any buffer when has_bias = 0), 4 out (read_write).
// Dispatch: (ceil(N / 8), Y, Z) with Y * Z >= tiles_m * Bt (split by grid()), tiles_m = ceil(M / 4).
// Overwrites out, or accumulates (+=) into it when accumulate = 1. Saves nothing for backward.

//#include matmul_smallm_common

var<workgroup> red: array<vec4f, 512>; // red[li * 8 + q]: invocation li's part[q]

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let blk = block_of(wid, nwg);
  if (!blk.live) { return; } // uniform across the workgroup
  partial_sums(blk, li);
  for (var q = 0u; q < 8u; q++) { red[li * 8u + q] = part[q]; }
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (li < s) {
      for (var q = 0u; q < 8u; q++) { red[li * 8u + q] += red[(li + s) * 8u + q]; }
    }
    workgroupBarrier();
  }
  if (li < 8u) { store_sum(blk, li, red[li]); }
}
