// Per-head l2 normalisation of the first `heads` heads of each row, the rest of the row copied (Qwen3.5's
// linear layers normalise the q and k heads of the conv output and keep v; CPU reference src/reference/l2norm.ts):
//   r = 1 / sqrt(sum_i x[n, h, i]^2 + eps);  out[n, h, i] = x[n, h, i] * r   (h < heads)
//   out[n, e] = x[n, e]                                                       (e >= heads * HS)
// Shapes: x, out (N, W), W >= heads * HS; rstd (N, heads).
// Bindings: 0 params {N, W, heads, HS, eps}; 1 x (read), 2 out (write), 3 rstd (write). Overwrites out and rstd.
// Dispatch: ceil(N * (heads + 1) / 64) workgroups, split by grid(): one invocation per (row, head), and per row
//   one more that copies the rest.

struct Params { N: u32, W: u32, heads: u32, HS: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (i >= p.N * (p.heads + 1u)) { return; }
  let n = i / (p.heads + 1u);
  let h = i % (p.heads + 1u);
  if (h == p.heads) {
    for (var e = p.heads * p.HS; e < p.W; e++) { out[n * p.W + e] = x[n * p.W + e]; }
    return;
  }
  let base = n * p.W + h * p.HS;
  var ss = 0.0;
  for (var e = 0u; e < p.HS; e++) { ss += x[base + e] * x[base + e]; }
  let r = inverseSqrt(ss + p.eps);
  rstd[n * p.heads + h] = r;
  for (var e = 0u; e < p.HS; e++) { out[base + e] = x[base + e] * r; }
}
