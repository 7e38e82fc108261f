// Matmul against a frozen ggml block-format weight for few rows (decoding), K split across a workgroup and the
// partial sums added through workgroup memory (the 'splitk' variant of matmul_quant_forward.wgsl; host:
// src/gpu/kernels/matmul_quant_variants.ts; for hardware adapters):
//   out (M, N) = alpha * x (M, K) @ W^T (+ bias) (+ out when accumulate = 1),   W (N, K) quantised
// W is (N, K / QK * WPB) u32 as in matmul_quant_forward.wgsl. Each workgroup computes a 4 x 4 block of out;
// lib/matmul_quant_splitk_forward_body.wgsl has its partial sums (consecutive invocations read consecutive
// vec4s of x and consecutive bytes of each weight block). The 64 partial blocks are written to workgroup
// memory and invocations 0..3 each add one row's 64. f32 products and sums.
// Bindings: 0 params; 1 x (read, as vec4f: K is whole blocks), 2 w (read, u32), 3 bias (read; any buffer when
//   has_bias = 0), 4 out (read_write).
// Dispatch: (ceil(N / 4), Y) with Y >= tiles_m = ceil(M / 4), split over y and z by grid(). Override: QTYPE.
// Overwrites out, or accumulates (+=) when accumulate = 1. Backward: matmul_quant_splitk_backward.wgsl.

//#include matmul_quant_splitk_forward_body

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let blk = splitk_block(wid, nwg, 4u, p.N);
  if (!blk.inside) { return; } // uniform across the workgroup
  partial_sums(blk.row, blk.col, blk.live, li);
  for (var r = 0u; r < 4u; r++) { red[li * 4u + r] = part[r]; }
  workgroupBarrier();
  reduce_store(blk, li);
}
