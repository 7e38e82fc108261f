// Residual add + RMSNorm, forward, fused (one dispatch instead of residual_add then rmsnorm_forward):
//   h[n, c]   = a[n, c] + b[n, c]                       the residual stream after a block
//   rstd[n]   = 1 / sqrt(mean_c(h[n, c]^2) + eps)
//   out[n, c] = h[n, c] * rstd[n] * (weight[c] + W_OFFSET)   the next block's normalised input
//   (W_OFFSET: override, default 0; 1 for Gemma's x * (1 + w))
//   a, b, h, out: (N, C); weight: (C); rstd: (N). Overwrites h, out and rstd; h must be neither a nor b.
// Saves h and rstd. There is no add_rmsnorm_backward.wgsl: the add's backward is the identity, so the
// gradient of h is the residual stream's gradient plus rmsnorm_backward.wgsl's dx (which accumulates
// into it) from the saved h and rstd; a and b both receive that sum.
// The sum of squares is reduced exactly as in rmsnorm_forward.wgsl (same WG, same order), so h, out and
// rstd are bit-for-bit those of residual_add.wgsl followed by rmsnorm_forward.wgsl.
// Bindings: 0 params {n_rows, C, eps}; 1 a (read), 2 b (read), 3 weight (read), 4 h (write),
// 5 out (write), 6 rstd (write).
// Dispatch: N workgroups, split over x and y by grid(); WG (a power of two) threads stride over C, then a
// tree reduction in workgroup memory (workgroup_sum, shaders/lib/workgroup_sum.wgsl).

struct Params { n_rows: u32, C: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read_write> h: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;

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
    let v = a[base + c] + b[base + c];
    h[base + c] = v;
    ss += v * v;
  }
  let total = workgroup_sum(lid, ss);
  let r = 1.0 / sqrt(total / f32(C) + p.eps);
  if (lid == 0u) { rstd[row] = r; }
  for (var c = lid; c < C; c += WG) {
    // recomputed rather than read back from h: the same f32 sum, without a read of a just-written buffer
    let v = a[base + c] + b[base + c];
    out[base + c] = (v * r) * (weight[c] + W_OFFSET);
  }
}
