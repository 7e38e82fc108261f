// Logit soft-cap, backward (elementwise): with t = tanh(x[i] / cap),
//   dx[i] = dout[i] * (1 - t^2)              dout, x, dx: (n), three distinct buffers. OVERWRITES dx.
// x is the forward's input (the uncapped logits).
// Bindings: 0 params {n, cap}; 1 dout (read), 2 x (read), 3 dx (write).
// Dispatch: ceil(n / 256) workgroups, split over x and y by grid().

struct Params { n: u32, cap: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

//#include stable_tanh

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  let t = stable_tanh(x[i] / p.cap);
  dx[i] = dout[i] * (1.0 - t * t);
}
