// SwiGLU gate over the packed output of the fused gate/up projection (decoding: one matmul against the
// concatenated [gate; up] weight instead of two):
//   out[n, j] = silu(gu[n, j]) * gu[n, H + j],   silu(g) = g * sigmoid(g)
//   gu: (N, 2H), each row [gate (H) | up (H)]; out: (N, H). Overwrites out.
// Same arithmetic as swiglu_forward.wgsl (bit-for-bit equal). Inference only: no backward (training keeps
// gate and up apart, each with its own LoRA, and uses swiglu_forward/_backward.wgsl).
// Bindings: 0 params {n = N*H, H}; 1 gu (read), 2 out (write).
// Dispatch: ceil(n / WG) workgroups, split over x and y by grid().

struct Params { n: u32, H: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> gu: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

override WG: u32 = 256u; // invocations per workgroup (the host picks 64 on software adapters)

fn sigmoid(g: f32) -> f32 {
  let e = exp(-abs(g));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, g >= 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  let n = i / p.H;
  let j = i % p.H;
  let g = gu[n * 2u * p.H + j];
  out[i] = g * sigmoid(g) * gu[n * 2u * p.H + p.H + j];
}
