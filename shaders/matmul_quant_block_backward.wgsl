// Input gradient of matmul_quant_block_forward.wgsl (the 'block_r1/_r4/_r8' variants of
// matmul_quant_backward.wgsl; the quantised weight is frozen: no weight gradient):
//   dx (M, K) = alpha * dy (M, N) @ W (+ dx when accumulate = 1),   W (N, K) in a ggml block format
// W is (N, K / QK * WPB) u32 as in the forward (lib/ggml_dequant.wgsl). Each invocation computes a ROWS x 8
// block of dx (rows row .. row + ROWS - 1, columns kc .. kc + 7, inside one sub-block: sub-blocks are 16 or 32
// values): for each n it reads the sub-block's scales once and dequantises W[n, kc .. kc + 7] as two vec4s
// (q_values4), used by all ROWS rows. f32 products and sums, summed over n in order as the plain kernel.
// Bindings: 0 params; 1 dy (read), 2 w (read, u32), 3 dx (read_write, as vec4f: K is whole blocks).
// Dispatch: workgroups of 64 across K: (ceil(K / 512), Y) with Y >= tiles_m = ceil(M / ROWS), split over y and
//   z by grid(). Overrides: QTYPE, ROWS (1, 4 or 8). Overwrites dx, or accumulates (+=) when accumulate = 1.

override ROWS: u32 = 8u;

//#include matmul_quant_backward_vec4_io

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  q_begin(p.N, p.K); // NF4_DQ: where the side region starts (lib/ggml_dequant.wgsl)
  let tile = wid.y + wid.z * nwg.y;
  let kc = (wid.x * 64u + li) * 8u;
  if (tile >= p.tiles_m || kc >= p.K) { return; }
  let row = tile * ROWS;
  let qk = q_block_size();
  let wpb = q_block_words();
  let nb = p.K / qk;
  let b = kc / qk;
  let e = kc - b * qk;
  let s = e / q_sub_size();
  let lm = p.M - 1u;
  let y0 = min(row, lm) * p.N; let y1 = min(row + 1u, lm) * p.N;
  let y2 = min(row + 2u, lm) * p.N; let y3 = min(row + 3u, lm) * p.N;
  let y4 = min(row + 4u, lm) * p.N; let y5 = min(row + 5u, lm) * p.N;
  let y6 = min(row + 6u, lm) * p.N; let y7 = min(row + 7u, lm) * p.N;
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0);
  var b0 = vec4f(0.0); var b1 = vec4f(0.0); var b2 = vec4f(0.0); var b3 = vec4f(0.0);
  var b4 = vec4f(0.0); var b5 = vec4f(0.0); var b6 = vec4f(0.0); var b7 = vec4f(0.0);
  for (var n = 0u; n < p.N; n++) {
    let base = (n * nb + b) * wpb;
    let sp = q_sub_params(base, s);
    let va = q_values4(base, e, sp);
    let vb = q_values4(base, e + 4u, sp);
    let d0 = dy[y0 + n];
    a0 = fma(vec4f(d0), va, a0); b0 = fma(vec4f(d0), vb, b0);
    if (ROWS > 1u) {
      let d1 = dy[y1 + n]; let d2 = dy[y2 + n]; let d3 = dy[y3 + n];
      a1 = fma(vec4f(d1), va, a1); b1 = fma(vec4f(d1), vb, b1);
      a2 = fma(vec4f(d2), va, a2); b2 = fma(vec4f(d2), vb, b2);
      a3 = fma(vec4f(d3), va, a3); b3 = fma(vec4f(d3), vb, b3);
    }
    if (ROWS > 4u) {
      let d4 = dy[y4 + n]; let d5 = dy[y5 + n]; let d6 = dy[y6 + n]; let d7 = dy[y7 + n];
      a4 = fma(vec4f(d4), va, a4); b4 = fma(vec4f(d4), vb, b4);
      a5 = fma(vec4f(d5), va, a5); b5 = fma(vec4f(d5), vb, b5);
      a6 = fma(vec4f(d6), va, a6); b6 = fma(vec4f(d6), vb, b6);
      a7 = fma(vec4f(d7), va, a7); b7 = fma(vec4f(d7), vb, b7);
    }
  }
  store_row(row, kc, a0, b0);
  if (ROWS > 1u) { store_row(row + 1u, kc, a1, b1); store_row(row + 2u, kc, a2, b2); store_row(row + 3u, kc, a3, b3); }
  if (ROWS > 4u) {
    store_row(row + 4u, kc, a4, b4); store_row(row + 5u, kc, a5, b5);
    store_row(row + 6u, kc, a6, b6); store_row(row + 7u, kc, a7, b7);
  }
}
