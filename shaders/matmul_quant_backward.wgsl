// Input gradient of matmul_quant_forward.wgsl (the quantised weight is frozen: no weight gradient):
//   dx (M, K) = alpha * dy (M, N) @ W (+ dx when accumulate = 1),   W (N, K) in a ggml block format
// W is (N, K / QK * WPB) u32 as in the forward (lib/ggml_dequant.wgsl). f32 products and sums.
// Each invocation computes one column k of dx for 8 rows, dequantising W[n, k] for every n.
// Bindings: 0 params; 1 dy (read), 2 w (read, u32), 3 dx (read_write).
// Dispatch: workgroups of 64 across K: (ceil(K / 64), Y) with Y >= tiles_m = ceil(M / 8), split over y and z by grid().
// Override: QTYPE. Overwrites dx, or accumulates (+=) when accumulate = 1.

@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

//#include matmul_quant_backward_io

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  q_begin(p.N, p.K); // NF4_DQ: where the side region starts (lib/ggml_dequant.wgsl)
  let tile = wid.y + wid.z * nwg.y;
  let k = wid.x * 64u + li;
  let row = tile * 8u;
  if (tile >= p.tiles_m || k >= p.K) { return; }
  let qk = q_block_size();
  let wpb = q_block_words();
  let nb = p.K / qk;
  let b = k / qk;
  let e = k - b * qk;
  var yr: array<u32, 8>;
  for (var r = 0u; r < 8u; r++) { yr[r] = min(row + r, p.M - 1u) * p.N; }
  var acc: array<f32, 8>;
  let live = min(8u, p.M - row); // a decode-sized M computes only its rows
  for (var n = 0u; n < p.N; n++) {
    let v = q_value((n * nb + b) * wpb, e);
    for (var r = 0u; r < live; r++) { acc[r] = fma(dy[yr[r] + n], v, acc[r]); }
  }
  for (var r = 0u; r < 8u; r++) {
    if (row + r >= p.M) { break; }
    let o = (row + r) * p.K + k;
    var g = p.alpha * acc[r];
    if (p.accumulate != 0u) { g += dx[o]; }
    dx[o] = g;
  }
}
