// Matrix multiply, batched, every transpose form (the fast path: all buffers read and written as vec4).
//   out = alpha * op(a) @ op(b) (+ bias) (+ out when accumulate = 1)
//   op(a): (Bt, M, K): a stored (Bt, M, K), or (Bt, K, M) when TRANS_A
//   op(b): (Bt, K, N): b stored (Bt, K, N), or (Bt, N, K) when TRANS_B
//   out: (Bt, M, N); bias: (N), added to every row
// Batch strides are in vec4s; a stride of 0 shares one matrix across the batch (e.g. a 2-D weight).
// Requires the stored inner dims to be multiples of 4: K (or M when TRANS_A) for a, N (or K when TRANS_B)
// for b, and N for out and bias. matmul_scalar.wgsl takes every other shape. K may be any size only in the
// TRANS_A && !TRANS_B form, where k runs over stored rows; the others have K % 4 == 0 by the rule above.
// Each invocation computes an 8x8 block of out in 16 vec4 accumulators (register blocking), reading 16
// vec4s per 4 steps of k. No workgroup memory: on SwiftShader, workgroup tiling with barriers measured 3x
// slower than this. Edge blocks skip the stores of rows / columns past the edge; their reads are clamped to
// the last row / column (out[i, j] only ever uses row i of op(a) and column j of op(b), so what those
// reads return only reaches results that are never stored; the clamp keeps every read inside its matrix).
// Bindings: 0 params; 1 a (read), 2 b (read), 3 bias (read; any buffer when has_bias = 0), 4 out (read_write).
// Params, bindings, the 8x8 block and the stores are shaders/lib/matmul_vec4_common.wgsl (shared with
// matmul_subgroup.wgsl); this file is the way main() reads a.
// Dispatch: workgroups of 64 = wg_x (4, 8 or 16) across N by 64 / wg_x across M, each invocation an 8x8
//   block: (ceil(N / (8 * wg_x)), Y, Z) with Y * Z >= tiles_m * Bt (split by grid()), where
//   tiles_m = ceil(M / (8 * 64 / wg_x)); workgroup y + z * nwg.y is row tile (i % tiles_m) of batch (i / tiles_m).
// Overwrites out, or accumulates (+=) into it when accumulate = 1. Saves nothing for backward: the
// backward of a matmul is two matmuls (see src/reference/matmul.ts matmulBackward).

//#include matmul_vec4_common

// 64 invocations, laid out as wg_x across N by 64 / wg_x across M (a uniform, so that one pipeline
// serves every shape).
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let tile = wid.y + wid.z * nwg.y;
  let batch = tile / p.tiles_m;
  let row = ((tile % p.tiles_m) * (64u / p.wg_x) + li / p.wg_x) * 8u;
  let col = (wid.x * p.wg_x + li % p.wg_x) * 8u;
  if (batch >= p.batches || row >= p.M || col >= p.N) { return; }

  let K4 = p.K / 4u;
  let M4 = p.M / 4u;
  let N4 = p.N / 4u;
  let a_off = batch * p.stride_a;
  let b_off = batch * p.stride_b;
  // Starts of the block's rows of a (stored (M, K)) and columns of b (stored (N, K)), clamped to the last
  // valid row / column (see the header).
  let last_m = p.M - 1u;
  let last_n = p.N - 1u;
  let ra0 = a_off + min(row, last_m) * K4;
  let ra1 = a_off + min(row + 1u, last_m) * K4;
  let ra2 = a_off + min(row + 2u, last_m) * K4;
  let ra3 = a_off + min(row + 3u, last_m) * K4;
  let ra4 = a_off + min(row + 4u, last_m) * K4;
  let ra5 = a_off + min(row + 5u, last_m) * K4;
  let ra6 = a_off + min(row + 6u, last_m) * K4;
  let ra7 = a_off + min(row + 7u, last_m) * K4;
  let cb0 = b_off + min(col, last_n) * K4;
  let cb1 = b_off + min(col + 1u, last_n) * K4;
  let cb2 = b_off + min(col + 2u, last_n) * K4;
  let cb3 = b_off + min(col + 3u, last_n) * K4;
  let cb4 = b_off + min(col + 4u, last_n) * K4;
  let cb5 = b_off + min(col + 5u, last_n) * K4;
  let cb6 = b_off + min(col + 6u, last_n) * K4;
  let cb7 = b_off + min(col + 7u, last_n) * K4;
  // vec4 columns of the block in a stored (K, M) and b stored (K, N); the second one clamped likewise.
  let av0 = a_off + row / 4u;
  let av1 = a_off + min(row / 4u + 1u, max(M4, 1u) - 1u);
  let bv0 = b_off + col / 4u;
  let bv1 = b_off + min(col / 4u + 1u, max(N4, 1u) - 1u);

  for (var k4 = 0u; k4 < K4; k4++) {
    var alo: mat4x4f;
    var ahi: mat4x4f;
    if (TRANS_A) {
      let s = k4 * 4u * M4;
      alo = transpose(mat4x4f(a[av0 + s], a[av0 + s + M4], a[av0 + s + 2u * M4], a[av0 + s + 3u * M4]));
      ahi = transpose(mat4x4f(a[av1 + s], a[av1 + s + M4], a[av1 + s + 2u * M4], a[av1 + s + 3u * M4]));
    } else {
      alo = mat4x4f(a[ra0 + k4], a[ra1 + k4], a[ra2 + k4], a[ra3 + k4]);
      ahi = mat4x4f(a[ra4 + k4], a[ra5 + k4], a[ra6 + k4], a[ra7 + k4]);
    }
    var blo: mat4x4f;
    var bhi: mat4x4f;
    if (TRANS_B) {
      blo = transpose(mat4x4f(b[cb0 + k4], b[cb1 + k4], b[cb2 + k4], b[cb3 + k4]));
      bhi = transpose(mat4x4f(b[cb4 + k4], b[cb5 + k4], b[cb6 + k4], b[cb7 + k4]));
    } else {
      let s = k4 * 4u * N4;
      blo = mat4x4f(b[bv0 + s], b[bv0 + s + N4], b[bv0 + s + 2u * N4], b[bv0 + s + 3u * N4]);
      bhi = mat4x4f(b[bv1 + s], b[bv1 + s + N4], b[bv1 + s + 2u * N4], b[bv1 + s + 3u * N4]);
    }
    block4(alo, ahi, blo, bhi);
  }
  if (TRANS_A && !TRANS_B) {
    // the last K % 4 steps of k (both operands are stored with k as their row)
    for (var k = K4 * 4u; k < p.K; k++) {
      rank1(a[av0 + k * M4], a[av1 + k * M4], b[bv0 + k * N4], b[bv1 + k * N4]);
    }
  }

  let out_off = batch * p.stride_c;
  store_row(out_off, row, col, c0, d0);
  store_row(out_off, row + 1u, col, c1, d1);
  store_row(out_off, row + 2u, col, c2, d2);
  store_row(out_off, row + 3u, col, c3, d3);
  store_row(out_off, row + 4u, col, c4, d4);
  store_row(out_off, row + 5u, col, c5, d5);
  store_row(out_off, row + 6u, col, c6, d6);
  store_row(out_off, row + 7u, col, c7, d7);
}
