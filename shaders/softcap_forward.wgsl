// Logit soft-cap, forward (elementwise; Gemma 4's final_logit_softcapping):
//   out[i] = cap * tanh(x[i] / cap)          x, out: (n) (logits (N, V) flattened). Overwrites out; out may
//   not alias x (the backward reads x).
// Bindings: 0 params {n, cap}; 1 x (read), 2 out (write).
// Dispatch: ceil(n / 256) workgroups, split over x and y by grid().

struct Params { n: u32, cap: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

//#include stable_tanh

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  out[i] = p.cap * stable_tanh(x[i] / p.cap);
}
