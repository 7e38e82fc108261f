// RMSNorm, forward, one row of length C per workgroup:
//   rstd[n] = 1 / sqrt(mean_c(x[n, c]^2) + eps)
//   out[n, c] = x[n, c] * rstd[n] * (weight[c] + W_OFFSET)
//   x, out: (N, C); weight: (C); rstd: (N)
// W_OFFSET (override, default 0): 1 gives Gemma's x * (1 + w) form (weights stored around 0).
// Saves rstd for backward. Overwrites out and rstd.
// Bindings: 0 params {n_rows, C, eps}; 1 x (read), 2 weight (read), 3 out (write), 4 rstd (write).
// Dispatch: N workgroups, split over x and y by grid(); WG (a power of two) threads stride over C, then a
// tree reduction in workgroup memory (workgroup_sum, shaders/lib/workgroup_sum.wgsl).

struct Params { n_rows: u32, C: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>;

override WG: u32 = 64u;
override W_OFFSET: f32 = 0.0;
//#include workgroup_sum

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.n_rows) { return; } // uniform across the workgroup
  let C = p.C;
  let base = row * C;
  var ss = 0.0;
  for (var c = lid; c < C; c += WG) {
    let v = x[base + c];
    ss += v * v;
  }
  let total = workgroup_sum(lid, ss);
  let r = 1.0 / sqrt(total / f32(C) + p.eps);
  if (lid == 0u) { rstd[row] = r; }
  for (var c = lid; c < C; c += WG) {
    out[base + c] = (x[base + c] * r) * (weight[c] + W_OFFSET);
  }
}
