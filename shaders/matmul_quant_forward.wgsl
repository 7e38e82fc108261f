// Matrix multiply against a frozen weight kept in a ggml block format (GGUF Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K,
// Q5_K, Q6_K), dequantised in the kernel:
//   out (M, N) = alpha * x (M, K) @ W^T (+ bias) (+ out when accumulate = 1),   W (N, K) quantised
// W is (N, K / QK * WPB) u32: row n holds its K / QK blocks of QK values, each block WPB words (the ggml block's
// bytes padded to whole words, lib/ggml_dequant.wgsl). Every product and sum is f32 (f32 accumulation).
// Each invocation computes one column n of out for up to 8 rows, reading each block's scales once per sub-block.
// Bindings: 0 params; 1 x (read), 2 w (read, u32), 3 bias (read; any buffer when has_bias = 0), 4 out (read_write).
// Dispatch: workgroups of 64 across N: (ceil(N / 64), Y) with Y >= tiles_m = ceil(M / 8), split over y and z by grid().
// Override: QTYPE (ggml type id). Overwrites out, or accumulates (+=) when accumulate = 1. K must be whole blocks.
// Backward (matmul_quant_backward.wgsl) is with respect to x only: the quantised base is frozen.

@group(0) @binding(1) var<storage, read> x: array<f32>;

//#include matmul_quant_forward_io

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  q_begin(p.N, p.K); // NF4_DQ: where the side region starts (lib/ggml_dequant.wgsl)
  let tile = wid.y + wid.z * nwg.y;
  let n = wid.x * 64u + li;
  let row = tile * 8u;
  if (tile >= p.tiles_m || n >= p.N) { return; }
  let qk = q_block_size();
  let wpb = q_block_words();
  let nb = p.K / qk;
  var xr: array<u32, 8>;
  for (var r = 0u; r < 8u; r++) { xr[r] = min(row + r, p.M - 1u) * p.K; }
  var acc: array<f32, 8>;
  let sub = q_sub_size();
  // rows past M only repeat row M - 1's reads: a decode step (M = 1) computes one row
  let live = min(8u, p.M - row);
  for (var b = 0u; b < nb; b++) {
    let base = (n * nb + b) * wpb;
    let k0 = b * qk;
    for (var s = 0u; s < qk / sub; s++) {
      let sp = q_sub_params(base, s);
      for (var j = 0u; j < sub; j++) {
        let e = s * sub + j;
        let v = fma(sp.x, q_int(base, e), sp.y);
        let k = k0 + e;
        for (var r = 0u; r < live; r++) { acc[r] = fma(x[xr[r] + k], v, acc[r]); }
      }
    }
  }
  for (var r = 0u; r < 8u; r++) {
    if (row + r >= p.M) { break; }
    put((row + r) * p.N + n, n, acc[r]);
  }
}
