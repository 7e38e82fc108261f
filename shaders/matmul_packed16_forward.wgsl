// Matrix multiply against a frozen weight stored in 16 bits, two values per u32 (no shader-f16 needed):
//   out (M, N) = alpha * x (M, K) @ W^T (+ bias) (+ out when accumulate = 1),   W (N, K) in 16 bits
// W is stored row-major as (N, K / 2) u32: word w[n * K/2 + i] holds W[n, 2i] in its low 16 bits and
// W[n, 2i + 1] in its high 16 bits. FORMAT 0 = bfloat16 (the f32's top 16 bits), 1 = IEEE half
// (unpack2x16float). Every product and sum is f32 (f32 accumulation).
// Each invocation computes an 8x8 block of out in 16 vec4 accumulators (as matmul_scalar.wgsl); edge blocks
// clamp their reads to the last row / column and skip the stores past the edge.
// Bindings: 0 params; 1 x (read), 2 w (read, u32), 3 bias (read; any buffer when has_bias = 0), 4 out (read_write).
// Dispatch: workgroups of 64 = wg_x (4, 8 or 16) across N by 64 / wg_x across M: (ceil(N / (8 wg_x)), Y)
//   with Y >= tiles_m = ceil(M / (8 * 64 / wg_x)), split over y and z by grid().
// Override: FORMAT. Overwrites out, or accumulates (+=) when accumulate = 1. K must be even.
// Backward (matmul_packed16_backward.wgsl) is with respect to x only: the 16-bit base is frozen.

struct Params {
  M: u32,
  K: u32,
  N: u32,
  tiles_m: u32,
  wg_x: u32,
  alpha: f32,
  accumulate: u32,
  has_bias: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

//#include matmul_block8
//#include packed16_unpack

fn put(o: u32, j: u32, v: f32) {
  var r = p.alpha * v;
  if (p.has_bias != 0u) { r += bias[j]; }
  if (p.accumulate != 0u) { r += out[o]; }
  out[o] = r;
}

fn store_row(r: u32, col: u32, c: vec4f, d: vec4f) {
  if (r >= p.M) { return; }
  let o = r * p.N + col;
  let n = p.N - col;
  put(o, col, c.x);
  if (n > 1u) { put(o + 1u, col + 1u, c.y); }
  if (n > 2u) { put(o + 2u, col + 2u, c.z); }
  if (n > 3u) { put(o + 3u, col + 3u, c.w); }
  if (n > 4u) { put(o + 4u, col + 4u, d.x); }
  if (n > 5u) { put(o + 5u, col + 5u, d.y); }
  if (n > 6u) { put(o + 6u, col + 6u, d.z); }
  if (n > 7u) { put(o + 7u, col + 7u, d.w); }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let tile = wid.y + wid.z * nwg.y;
  let row = (tile * (64u / p.wg_x) + li / p.wg_x) * 8u;
  let col = (wid.x * p.wg_x + li % p.wg_x) * 8u;
  if (tile >= p.tiles_m || row >= p.M || col >= p.N) { return; }
  let K2 = p.K / 2u;
  let lm = p.M - 1u;
  let ln = p.N - 1u;
  let r0 = min(row, lm) * p.K; let r1 = min(row + 1u, lm) * p.K;
  let r2 = min(row + 2u, lm) * p.K; let r3 = min(row + 3u, lm) * p.K;
  let r4 = min(row + 4u, lm) * p.K; let r5 = min(row + 5u, lm) * p.K;
  let r6 = min(row + 6u, lm) * p.K; let r7 = min(row + 7u, lm) * p.K;
  let w0 = min(col, ln) * K2; let w1 = min(col + 1u, ln) * K2;
  let w2 = min(col + 2u, ln) * K2; let w3 = min(col + 3u, ln) * K2;
  let w4 = min(col + 4u, ln) * K2; let w5 = min(col + 5u, ln) * K2;
  let w6 = min(col + 6u, ln) * K2; let w7 = min(col + 7u, ln) * K2;
  for (var i = 0u; i < K2; i++) {
    let k = 2u * i;
    let b0 = unpack(w[w0 + i]); let b1 = unpack(w[w1 + i]);
    let b2 = unpack(w[w2 + i]); let b3 = unpack(w[w3 + i]);
    let b4 = unpack(w[w4 + i]); let b5 = unpack(w[w5 + i]);
    let b6 = unpack(w[w6 + i]); let b7 = unpack(w[w7 + i]);
    rank1(
      vec4f(x[r0 + k], x[r1 + k], x[r2 + k], x[r3 + k]),
      vec4f(x[r4 + k], x[r5 + k], x[r6 + k], x[r7 + k]),
      vec4f(b0.x, b1.x, b2.x, b3.x), vec4f(b4.x, b5.x, b6.x, b7.x),
    );
    rank1(
      vec4f(x[r0 + k + 1u], x[r1 + k + 1u], x[r2 + k + 1u], x[r3 + k + 1u]),
      vec4f(x[r4 + k + 1u], x[r5 + k + 1u], x[r6 + k + 1u], x[r7 + k + 1u]),
      vec4f(b0.y, b1.y, b2.y, b3.y), vec4f(b4.y, b5.y, b6.y, b7.y),
    );
  }
  store_row(row, col, c0, d0);
  store_row(row + 1u, col, c1, d1);
  store_row(row + 2u, col, c2, d2);
  store_row(row + 3u, col, c3, d3);
  store_row(row + 4u, col, c4, d4);
  store_row(row + 5u, col, c5, d5);
  store_row(row + 6u, col, c6, d6);
  store_row(row + 7u, col, c7, d7);
}
