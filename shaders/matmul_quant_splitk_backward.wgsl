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

var<workgroup> red: array<vec4f, 512>; // red[li * 8 + q]: invocation li's partial vec4 q

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  q_begin(p.N, p.K); // NF4_DQ: where the side region starts (lib/ggml_dequant.wgsl)
  let tile = wid.y + wid.z * nwg.y;
  let kc = wid.x * 8u;
  if (tile >= p.tiles_m || kc >= p.K) { return; } // uniform across the workgroup
  let row = tile * 4u;
  let live = min(4u, p.M - row);
  partial_sums(row, kc, live, li);
  for (var q = 0u; q < 8u; q++) { red[li * 8u + q] = part[q]; }
  workgroupBarrier();
  if (li < 2u * live) {
    var s = vec4f(0.0);
    for (var t = 0u; t < 64u; t++) { s += red[t * 8u + li]; }
    store_sum(row + li / 2u, kc, li % 2u, s);
  }
}
