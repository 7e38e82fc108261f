// Register-blocked matmul against a frozen ggml block-format weight (the 'block_r1/_r4/_r8' variants of
// matmul_quant_forward.wgsl; host: src/gpu/kernels/matmul_quant_variants.ts):
//   out (M, N) = alpha * x (M, K) @ W^T (+ bias) (+ out when accumulate = 1),   W (N, K) quantised
// W is (N, K / QK * WPB) u32 as in matmul_quant_forward.wgsl (lib/ggml_dequant.wgsl). Each invocation computes
// a ROWS x 4 block of out (rows row .. row + ROWS - 1, columns col .. col + 3): per 4 values of K it
// dequantises the 4 weight rows once (q_values4, scales once per sub-block) into a mat4x4 and adds
// x[r, k .. k + 3] * that matrix to row r's vec4 of sums, so each weight value is decoded once per ROWS rows
// and each x vec4 read once per 4 columns. f32 products and sums (dot products of 4; the order differs from
// the plain kernel's only by rounding). No workgroup memory: what SwiftShader runs fastest.
// Edge blocks clamp their reads to the last row / column and skip the stores past the edge.
// Bindings: 0 params; 1 x (read, as vec4f: K is whole blocks), 2 w (read, u32), 3 bias (read; any buffer when
//   has_bias = 0), 4 out (read_write).
// Dispatch: workgroups of 64 across N: (ceil(N / 256), Y) with Y >= tiles_m = ceil(M / ROWS), split over y and
//   z by grid(). Overrides: QTYPE (ggml type id), ROWS (1, 4 or 8). Overwrites out, or accumulates when accumulate = 1.
// Backward: matmul_quant_block_backward.wgsl (with respect to x only: the quantised base is frozen).

override ROWS: u32 = 8u;

//#include matmul_quant_forward_vec4_io

fn store_row(r: u32, col: u32, a: vec4f) {
  if (r < p.M) { store_sum(r, col, a); }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  q_begin(p.N, p.K); // NF4_DQ: where the side region starts (lib/ggml_dequant.wgsl)
  let tile = wid.y + wid.z * nwg.y;
  let col = (wid.x * 64u + li) * 4u;
  if (tile >= p.tiles_m || col >= p.N) { return; }
  let row = tile * ROWS;
  let qk = q_block_size();
  let wpb = q_block_words();
  let sub = q_sub_size();
  let nb = p.K / qk;
  let K4 = p.K / 4u;
  let lm = p.M - 1u;
  let ln = p.N - 1u;
  let w0 = min(col, ln) * nb * wpb; let w1 = min(col + 1u, ln) * nb * wpb;
  let w2 = min(col + 2u, ln) * nb * wpb; let w3 = min(col + 3u, ln) * nb * wpb;
  let x0 = min(row, lm) * K4; let x1 = min(row + 1u, lm) * K4;
  let x2 = min(row + 2u, lm) * K4; let x3 = min(row + 3u, lm) * K4;
  let x4 = min(row + 4u, lm) * K4; let x5 = min(row + 5u, lm) * K4;
  let x6 = min(row + 6u, lm) * K4; let x7 = min(row + 7u, lm) * K4;
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0);
  for (var b = 0u; b < nb; b++) {
    let o = b * wpb;
    let kb = b * (qk / 4u);
    for (var s = 0u; s < qk / sub; s++) {
      let s0 = q_sub_params(w0 + o, s); let s1 = q_sub_params(w1 + o, s);
      let s2 = q_sub_params(w2 + o, s); let s3 = q_sub_params(w3 + o, s);
      for (var j = 0u; j < sub; j += 4u) {
        let e = s * sub + j;
        let wm = mat4x4f(q_values4(w0 + o, e, s0), q_values4(w1 + o, e, s1), q_values4(w2 + o, e, s2), q_values4(w3 + o, e, s3));
        let k = kb + e / 4u;
        a0 += x[x0 + k] * wm;
        if (ROWS > 1u) {
          a1 += x[x1 + k] * wm; a2 += x[x2 + k] * wm; a3 += x[x3 + k] * wm;
        }
        if (ROWS > 4u) {
          a4 += x[x4 + k] * wm; a5 += x[x5 + k] * wm; a6 += x[x6 + k] * wm; a7 += x[x7 + k] * wm;
        }
      }
    }
  }
  store_row(row, col, a0);
  if (ROWS > 1u) { store_row(row + 1u, col, a1); store_row(row + 2u, col, a2); store_row(row + 3u, col, a3); }
  if (ROWS > 4u) { store_row(row + 4u, col, a4); store_row(row + 5u, col, a5); store_row(row + 6u, col, a6); store_row(row + 7u, col, a7); }
}
