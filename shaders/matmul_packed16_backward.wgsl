// Backward of matmul_packed16_forward.wgsl with respect to its input x (the 16-bit weight is frozen: no dW):
//   dx (M, K) = alpha * dy (M, N) @ W (+ dx when accumulate = 1),   W (N, K) stored as (N, K / 2) u32 pairs
// (low 16 bits W[n, 2i], high 16 bits W[n, 2i + 1]; FORMAT 0 = bfloat16, 1 = IEEE half), f32 accumulation.
// Each invocation computes an 8x8 block of dx: 8 rows of dy against 8 columns of W (4 words per row of W);
// edge blocks clamp their reads and skip the stores past the edge.
// Bindings: 0 params; 1 dy (read), 2 w (read, u32), 3 dx (read_write).
// Dispatch: workgroups of 64 = wg_x across K by 64 / wg_x across M: (ceil(K / (8 wg_x)), Y), Y >= tiles_m,
//   split over y and z by grid(). Override: FORMAT. K must be even.

struct Params {
  M: u32,
  K: u32,
  N: u32,
  tiles_m: u32,
  wg_x: u32,
  alpha: f32,
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

//#include matmul_block8
//#include packed16_unpack

fn put(o: u32, v: f32) {
  var r = p.alpha * v;
  if (p.accumulate != 0u) { r += dx[o]; }
  dx[o] = r;
}

fn store_row(r: u32, col: u32, c: vec4f, d: vec4f) {
  if (r >= p.M) { return; }
  let o = r * p.K + col;
  let n = p.K - col;
  put(o, c.x);
  if (n > 1u) { put(o + 1u, c.y); }
  if (n > 2u) { put(o + 2u, c.z); }
  if (n > 3u) { put(o + 3u, c.w); }
  if (n > 4u) { put(o + 4u, d.x); }
  if (n > 5u) { put(o + 5u, d.y); }
  if (n > 6u) { put(o + 6u, d.z); }
  if (n > 7u) { put(o + 7u, d.w); }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let tile = wid.y + wid.z * nwg.y;
  let row = (tile * (64u / p.wg_x) + li / p.wg_x) * 8u;
  let col = (wid.x * p.wg_x + li % p.wg_x) * 8u; // even: 4 words of a row of W
  if (tile >= p.tiles_m || row >= p.M || col >= p.K) { return; }
  let K2 = p.K / 2u;
  let lm = p.M - 1u;
  let i0 = col / 2u;
  let lw = K2 - 1u;
  let j0 = min(i0, lw); let j1 = min(i0 + 1u, lw); let j2 = min(i0 + 2u, lw); let j3 = min(i0 + 3u, lw);
  let r0 = min(row, lm) * p.N; let r1 = min(row + 1u, lm) * p.N;
  let r2 = min(row + 2u, lm) * p.N; let r3 = min(row + 3u, lm) * p.N;
  let r4 = min(row + 4u, lm) * p.N; let r5 = min(row + 5u, lm) * p.N;
  let r6 = min(row + 6u, lm) * p.N; let r7 = min(row + 7u, lm) * p.N;
  for (var n = 0u; n < p.N; n++) {
    let base = n * K2;
    let b0 = unpack(w[base + j0]);
    let b1 = unpack(w[base + j1]);
    let b2 = unpack(w[base + j2]);
    let b3 = unpack(w[base + j3]);
    rank1(
      vec4f(dy[r0 + n], dy[r1 + n], dy[r2 + n], dy[r3 + n]),
      vec4f(dy[r4 + n], dy[r5 + n], dy[r6 + n], dy[r7 + n]),
      vec4f(b0.x, b0.y, b1.x, b1.y), vec4f(b2.x, b2.y, b3.x, b3.y),
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
