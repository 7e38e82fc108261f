// Matrix multiply, batched, every transpose form, any shape (the general path; matmul.wgsl is the fast
// path for shapes whose stored inner dims are multiples of 4).
//   out = alpha * op(a) @ op(b) (+ bias) (+ out when accumulate = 1)
//   op(a): (Bt, M, K); element (i, k) of batch t is a[t * stride_a + i * a_rs + k * a_ks]
//          (a stored (Bt, M, K): a_rs = K, a_ks = 1; stored (Bt, K, M), transposed: a_rs = 1, a_ks = M)
//   op(b): (Bt, K, N); element (k, j) of batch t is b[t * stride_b + k * b_ks + j * b_cs]
//          (b stored (Bt, K, N): b_ks = N, b_cs = 1; stored (Bt, N, K), transposed: b_ks = 1, b_cs = K)
//   out: (Bt, M, N), batch stride stride_c; bias: (N), added to every row
// A batch stride of 0 shares one matrix across the batch. All strides are in elements.
// Each invocation computes an 8x8 block of out in 16 vec4 accumulators (shaders/lib/matmul_block8.wgsl,
// as matmul.wgsl) from scalar reads.
// Edge blocks skip the stores of rows / columns past the edge and clamp their reads to the last row / column
// (results from those reads are never stored; the clamp keeps every read inside its matrix).
// Bindings: 0 params; 1 a (read), 2 b (read), 3 bias (read; any buffer when has_bias = 0), 4 out (read_write).
// Dispatch: workgroups of 64 = wg_x (4, 8 or 16) across N by 64 / wg_x across M, each invocation an 8x8
//   block: (ceil(N / (8 * wg_x)), Y, Z) with Y * Z >= tiles_m * Bt (split by grid()), where
//   tiles_m = ceil(M / (8 * 64 / wg_x)); workgroup y + z * nwg.y is row tile (i % tiles_m) of batch (i / tiles_m).
// Overwrites out, or accumulates (+=) into it when accumulate = 1. Saves nothing for backward.

struct Params {
  M: u32,
  K: u32,
  N: u32,
  batches: u32,
  tiles_m: u32,
  wg_x: u32,
  stride_a: u32,
  stride_b: u32,
  stride_c: u32,
  a_rs: u32,
  a_ks: u32,
  b_ks: u32,
  b_cs: u32,
  alpha: f32,
  accumulate: u32,
  has_bias: u32,
}


@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

//#include matmul_block8

// out[o] (column j of its row) = alpha * v + bias[j] (+ out[o])
fn put(o: u32, j: u32, v: f32) {
  var r = p.alpha * v;
  if (p.has_bias != 0u) { r += bias[j]; }
  if (p.accumulate != 0u) { r += out[o]; }
  out[o] = r;
}

fn store_row(out_off: u32, r: u32, col: u32, c: vec4f, d: vec4f) {
  if (r >= p.M) { return; }
  let o = out_off + r * p.N + col;
  let n = p.N - col; // columns of this block inside out (at least 1)
  put(o, col, c.x);
  if (n > 1u) { put(o + 1u, col + 1u, c.y); }
  if (n > 2u) { put(o + 2u, col + 2u, c.z); }
  if (n > 3u) { put(o + 3u, col + 3u, c.w); }
  if (n > 4u) { put(o + 4u, col + 4u, d.x); }
  if (n > 5u) { put(o + 5u, col + 5u, d.y); }
  if (n > 6u) { put(o + 6u, col + 6u, d.z); }
  if (n > 7u) { put(o + 7u, col + 7u, d.w); }
}

// 64 invocations, laid out as wg_x across N by 64 / wg_x across M (a uniform, so that one pipeline
// serves every shape).
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let tile = wid.y + wid.z * nwg.y;
  let batch = tile / p.tiles_m;
  let row = ((tile % p.tiles_m) * (64u / p.wg_x) + li / p.wg_x) * 8u;
  let col = (wid.x * p.wg_x + li % p.wg_x) * 8u;
  if (batch >= p.batches || row >= p.M || col >= p.N) { return; }

  // Starts of the block's rows of op(a) and columns of op(b), clamped to the last valid one.
  let a_off = batch * p.stride_a;
  let b_off = batch * p.stride_b;
  let last_m = p.M - 1u;
  let last_n = p.N - 1u;
  let ra0 = a_off + min(row, last_m) * p.a_rs;
  let ra1 = a_off + min(row + 1u, last_m) * p.a_rs;
  let ra2 = a_off + min(row + 2u, last_m) * p.a_rs;
  let ra3 = a_off + min(row + 3u, last_m) * p.a_rs;
  let ra4 = a_off + min(row + 4u, last_m) * p.a_rs;
  let ra5 = a_off + min(row + 5u, last_m) * p.a_rs;
  let ra6 = a_off + min(row + 6u, last_m) * p.a_rs;
  let ra7 = a_off + min(row + 7u, last_m) * p.a_rs;
  let cb0 = b_off + min(col, last_n) * p.b_cs;
  let cb1 = b_off + min(col + 1u, last_n) * p.b_cs;
  let cb2 = b_off + min(col + 2u, last_n) * p.b_cs;
  let cb3 = b_off + min(col + 3u, last_n) * p.b_cs;
  let cb4 = b_off + min(col + 4u, last_n) * p.b_cs;
  let cb5 = b_off + min(col + 5u, last_n) * p.b_cs;
  let cb6 = b_off + min(col + 6u, last_n) * p.b_cs;
  let cb7 = b_off + min(col + 7u, last_n) * p.b_cs;

  for (var k = 0u; k < p.K; k++) {
    let ka = k * p.a_ks;
    let kb = k * p.b_ks;
    rank1(
      vec4f(a[ra0 + ka], a[ra1 + ka], a[ra2 + ka], a[ra3 + ka]),
      vec4f(a[ra4 + ka], a[ra5 + ka], a[ra6 + ka], a[ra7 + ka]),
      vec4f(b[cb0 + kb], b[cb1 + kb], b[cb2 + kb], b[cb3 + kb]),
      vec4f(b[cb4 + kb], b[cb5 + kb], b[cb6 + kb], b[cb7 + kb]),
    );
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
