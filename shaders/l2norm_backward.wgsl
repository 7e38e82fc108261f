// Per-head l2 normalisation, backward (CPU reference src/reference/l2norm.ts l2normBackward):
//   dx[n, h, i] = r * dout[n, h, i] - x[n, h, i] * r^3 * (x[n, h] . dout[n, h])   (h < heads)
//   dx[n, e] = dout[n, e]                                                        (e >= heads * HS: copied)
// Shapes: dout, x, dx (N, W); rstd (N, heads) as the forward saved it.
// Bindings: 0 params {N, W, heads, HS}; 1 dout (read), 2 x (read), 3 rstd (read), 4 dx (write). OVERWRITES dx.
// Dispatch: ceil(N * (heads + 1) / 64) workgroups, split by grid(), as the forward.

struct Params { N: u32, W: u32, heads: u32, HS: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (i >= p.N * (p.heads + 1u)) { return; }
  let n = i / (p.heads + 1u);
  let h = i % (p.heads + 1u);
  if (h == p.heads) {
    for (var e = p.heads * p.HS; e < p.W; e++) { dx[n * p.W + e] = dout[n * p.W + e]; }
    return;
  }
  let base = n * p.W + h * p.HS;
  let r = rstd[n * p.heads + h];
  var dot = 0.0;
  for (var e = 0u; e < p.HS; e++) { dot += x[base + e] * dout[base + e]; }
  let k = r * r * r * dot;
  for (var e = 0u; e < p.HS; e++) { dx[base + e] = r * dout[base + e] - x[base + e] * k; }
}
