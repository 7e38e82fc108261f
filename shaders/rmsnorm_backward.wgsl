// RMSNorm, backward, stage 1: the input gradient, one row of length C per workgroup.
// With y = x * r * w and r = rstd[n] saved by the forward (w = weight + W_OFFSET, see rmsnorm_forward.wgsl):
//   dx[n, c] += r * w[c] * dout[n, c] - x[n, c] * r^3 / C * sum_j dout[n, j] * w[j] * x[n, j]
//   dx, dout, x: (N, C); weight: (C); rstd: (N)
// ACCUMULATES into dx (+=): dx is the residual stream's gradient. The weight gradient is
// rmsnorm_backward_dweight_partial + rmsnorm_backward_dweight_reduce.
// Bindings: 0 params {n_rows, C}; 1 dout (read), 2 x (read), 3 weight (read), 4 rstd (read), 5 dx (read_write).
// Dispatch: N workgroups, split over x and y by grid(); WG (a power of two) threads stride over C, then a
// tree reduction in workgroup memory (workgroup_sum, shaders/lib/workgroup_sum.wgsl).

struct Params { n_rows: u32, C: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> rstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

override WG: u32 = 64u;
override W_OFFSET: f32 = 0.0;
//#include workgroup_sum

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.n_rows) { return; } // uniform across the workgroup
  let C = p.C;
  let base = row * C;
  var sum_gwx = 0.0;
  for (var c = lid; c < C; c += WG) {
    sum_gwx += dout[base + c] * (weight[c] + W_OFFSET) * x[base + c];
  }
  let total = workgroup_sum(lid, sum_gwx);
  let r = rstd[row];
  let k = r * r * r * total / f32(C);
  for (var c = lid; c < C; c += WG) {
    let i = base + c;
    dx[i] = dx[i] + (r * (weight[c] + W_OFFSET) * dout[i] - k * x[i]);
  }
}
