// SwiGLU gate, backward (elementwise). With s = sigmoid(gate[i]):
//   dgate[i] = dout[i] * up[i] * s * (1 + gate[i] * (1 - s))      (d silu / dg = s * (1 + g * (1 - s)))
//   dup[i]   = dout[i] * gate[i] * s
//   dout, gate, up, dgate, dup: (N, H), flattened to n = N*H elements. OVERWRITES dgate and dup.
// Bindings: 0 params {n}; 1 dout (read), 2 gate (read), 3 up (read), 4 dgate (write), 5 dup (write).
// Dispatch: ceil(n / 256) workgroups, split over x and y by grid().

struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> gate: array<f32>;
@group(0) @binding(3) var<storage, read> up: array<f32>;
@group(0) @binding(4) var<storage, read_write> dgate: array<f32>;
@group(0) @binding(5) var<storage, read_write> dup: array<f32>;

fn sigmoid(g: f32) -> f32 {
  let e = exp(-abs(g));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, g >= 0.0);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  let g = gate[i];
  let d = dout[i];
  let s = sigmoid(g);
  dgate[i] = d * up[i] * s * (1.0 + g * (1.0 - s));
  dup[i] = d * g * s;
}
