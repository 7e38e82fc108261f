// Input gradient of matmul_quant_splitk_forward.wgsl for few rows, N split across a workgroup and the partial
// sums added through workgroup memory (the 'splitk' variant of matmul_quant_backward.wgsl; the quantised
// weight is frozen: no weight gradient):
//   dx (M, K) = alpha * dy (M, N) @ W (+ dx when accumulate = 1),   W (N, K) in a ggml block format
// Each workgroup computes a 4 x 8 block of dx; lib/matmul_quant_splitk_backward_body.wgsl has its partial
// sums. The 64 partial blocks are written to workgroup memory and invocations 0..7 each add one vec4's 64.
// Bindings: 0 params; 1 dy (read), 2 w (read, u32), 3 dx (read_write, as vec4f: K is whole blocks).
// Dispatch: (K / 8, Y) with Y >= tiles_m = ceil(M / 4), split over y and z by grid(). Override: QTYPE.
// Overwrites dx, or accumulates (+=) when accumulate = 1.

//#include matmul_quant_splitk_backward_body

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let blk = splitk_block(wid, nwg, 8u, p.K);
  if (!blk.inside) { return; } // uniform across the workgroup
  partial_sums(blk.row, blk.col, blk.live, li);
  for (var q = 0u; q < 8u; q++) { red[li * 8u + q] = part[q]; }
  workgroupBarrier();
  reduce_store(blk, li);
}
