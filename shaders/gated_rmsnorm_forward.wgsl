// Gated RMSNorm of Qwen3.5's linear layers, forward (Qwen3_5RMSNormGated: plain w; CPU reference
// src/reference/gated_rmsnorm.ts):  out[n, c] = x[n, c] * r[n] * w[c] * silu(z[n, c]),  r = 1/sqrt(mean x^2 + eps)
// Shapes: x, z, out (N, C), one value head per row (N = tokens * NV, C = DV); weight (C); rstd (N).
// Bindings: 0 params {N, C, eps}; 1 x (read), 2 z (read), 3 weight (read), 4 out (write), 5 rstd (write).
// Overwrites out and rstd.
// Dispatch: ceil(N / 64) workgroups, split by grid(): one invocation per row.

struct Params { N: u32, C: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> z: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> rstd: array<f32>;

//#include gdn_gates_common

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (n >= p.N) { return; }
  var ss = 0.0;
  for (var c = 0u; c < p.C; c++) { ss += x[n * p.C + c] * x[n * p.C + c]; }
  let r = inverseSqrt(ss / f32(p.C) + p.eps);
  rstd[n] = r;
  for (var c = 0u; c < p.C; c++) {
    let zi = z[n * p.C + c];
    out[n * p.C + c] = x[n * p.C + c] * r * weight[c] * zi * sigmoid(zi);
  }
}
