// GeGLU gate with the tanh-approximated GELU, backward (elementwise). With
// t = tanh(sqrt(2/pi) * (g + 0.044715 g^3)), g = gate[i]:
//   gelu_tanh(g)  = 0.5 * g * (1 + t)
//   gelu_tanh'(g) = 0.5 * (1 + t) + 0.5 * g * (1 - t^2) * sqrt(2/pi) * (1 + 3 * 0.044715 * g^2)
//   dgate[i] = dout[i] * up[i] * gelu_tanh'(g)
//   dup[i]   = dout[i] * gelu_tanh(g)
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

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const CUBIC: f32 = 0.044715;

fn stable_tanh(u: f32) -> f32 {
  let e = exp(-2.0 * abs(u));
  let t = (1.0 - e) / (1.0 + e);
  return select(t, -t, u < 0.0);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  let g = gate[i];
  let d = dout[i];
  let t = stable_tanh(SQRT_2_OVER_PI * (g + CUBIC * g * g * g));
  let gelu = 0.5 * g * (1.0 + t);
  let grad = 0.5 * (1.0 + t) + 0.5 * g * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * CUBIC * g * g);
  dgate[i] = d * up[i] * grad;
  dup[i] = d * gelu;
}
