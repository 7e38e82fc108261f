// Scale by a constant, backward (elementwise): with out = alpha * x,
//   dx[i] (+)= alpha * dout[i]               dout, dx: (n), distinct buffers. accumulate = 1 adds into dx
//   (the residual stream's gradient), 0 overwrites it. alpha's own gradient is not computed (a frozen scalar).
// Bindings: 0 params {n, alpha, accumulate}; 1 dout (read), 2 dx (read_write).
// Dispatch: ceil(n / 256) workgroups, split over x and y by grid().

struct Params { n: u32, alpha: f32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  let g = p.alpha * dout[i];
  dx[i] = select(g, dx[i] + g, p.accumulate != 0u);
}
