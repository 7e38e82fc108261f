// Scale by a constant, forward (elementwise; Gemma 4's per-layer layer_scalar on the residual stream, and its
// residual adds that no norm follows, as accumulate with alpha 1):
//   out[i] = alpha * x[i] (+ out[i] when accumulate = 1)     x, out: (n), distinct buffers.
// Bindings: 0 params {n, alpha, accumulate}; 1 x (read), 2 out (read_write).
// Dispatch: ceil(n / 256) workgroups, split over x and y by grid().

struct Params { n: u32, alpha: f32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  let y = p.alpha * x[i];
  out[i] = select(y, out[i] + y, p.accumulate != 0u);
}
