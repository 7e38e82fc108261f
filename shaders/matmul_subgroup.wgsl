// Matrix multiply, batched, every transpose form: matmul.wgsl with its reads of a shared across a
// subgroup of 4 (for adapters whose subgroups are always 4 invocations, as SwiftShader's are).
//   out = alpha * op(a) @ op(b) (+ bias) (+ out when accumulate = 1)
//   op(a): (Bt, M, K): a stored (Bt, M, K), or (Bt, K, M) when TRANS_A
//   op(b): (Bt, K, N): b stored (Bt, K, N), or (Bt, N, K) when TRANS_B
//   out: (Bt, M, N); bias: (N), added to every row
// Same shapes, params, bindings, dispatch and requirements as matmul.wgsl (vec4 everywhere; batch strides
// in vec4s). The 4 invocations of a subgroup are 4 consecutive local invocations (the host only picks this
// kernel where subgroups are exactly 4 wide) and wg_x is a multiple of 4, so they share the workgroup row
// li / wg_x and with it the block's rows: each reads a quarter of the 8 vec4s of a that the block needs per
// 4 steps of k, and subgroupBroadcast hands the rest around. On SwiftShader a broadcast is a register
// shuffle while a vec4 read is a per-invocation gather of each component; this runs about 25% faster than
// matmul.wgsl there. Columns differ across the subgroup, so past-the-edge columns read clamped data and
// skip their stores instead of returning: the whole subgroup must reach every broadcast.
// Bindings: 0 params; 1 a (read), 2 b (read), 3 bias (read; any buffer when has_bias = 0), 4 out (read_write).
// Dispatch: as matmul.wgsl. Overwrites out, or accumulates (+=) into it when accumulate = 1.

enable subgroups;
// The early return below depends only on li / wg_x and the workgroup, which a subgroup shares (see above).
diagnostic(off, subgroup_uniformity);

//#include matmul_vec4_common

// 64 invocations, laid out as wg_x across N by 64 / wg_x across M (a uniform, so that one pipeline
// serves every shape).
@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let tile = wid.y + wid.z * nwg.y;
  let batch = tile / p.tiles_m;
  let row = ((tile % p.tiles_m) * (64u / p.wg_x) + li / p.wg_x) * 8u;
  let col = (wid.x * p.wg_x + li % p.wg_x) * 8u;
  if (batch >= p.batches || row >= p.M) { return; }

  let K4 = p.K / 4u;
  let M4 = p.M / 4u;
  let N4 = p.N / 4u;
  let a_off = batch * p.stride_a;
  let b_off = batch * p.stride_b;
  // Starts of this lane's two rows of a (stored (M, K)) and of the block's columns of b (stored (N, K)),
  // clamped to the last valid row / column (as in matmul.wgsl: results from them are never stored).
  let last_m = p.M - 1u;
  let last_n = p.N - 1u;
  let ral0 = a_off + min(row + 2u * lane, last_m) * K4;
  let ral1 = a_off + min(row + 2u * lane + 1u, last_m) * K4;
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
  let bv0 = b_off + min(col / 4u, max(N4, 1u) - 1u);
  let bv1 = b_off + min(col / 4u + 1u, max(N4, 1u) - 1u);

  for (var k4 = 0u; k4 < K4; k4++) {
    var alo: mat4x4f;
    var ahi: mat4x4f;
    if (TRANS_A) {
      // lane q reads stored row k + q of a (the block's rows 0..3 and 4..7)
      let s = (k4 * 4u + lane) * M4;
      let lo = a[av0 + s];
      let hi = a[av1 + s];
      alo = transpose(mat4x4f(subgroupBroadcast(lo, 0u), subgroupBroadcast(lo, 1u), subgroupBroadcast(lo, 2u), subgroupBroadcast(lo, 3u)));
      ahi = transpose(mat4x4f(subgroupBroadcast(hi, 0u), subgroupBroadcast(hi, 1u), subgroupBroadcast(hi, 2u), subgroupBroadcast(hi, 3u)));
    } else {
      // lane q reads the block's rows 2q and 2q + 1 at k..k+3
      let r0 = a[ral0 + k4];
      let r1 = a[ral1 + k4];
      alo = mat4x4f(subgroupBroadcast(r0, 0u), subgroupBroadcast(r1, 0u), subgroupBroadcast(r0, 1u), subgroupBroadcast(r1, 1u));
      ahi = mat4x4f(subgroupBroadcast(r0, 2u), subgroupBroadcast(r1, 2u), subgroupBroadcast(r0, 3u), subgroupBroadcast(r1, 3u));
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

  if (col >= p.N) { return; }
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
