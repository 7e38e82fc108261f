// AdamW optimizer step (decoupled weight decay, Loshchilov & Hutter), bias-corrected, in PyTorch's order,
// elementwise and in place:
//   g = grad[i] * clipScale[clipIndex]            (clipScale 1 when useClip == 0)
//   p = p * (1 - lr * weightDecay)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g * g
//   p = p - (lr / (1 - beta1^step)) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
// which equals p -= lr * mhat / (sqrt(vhat) + eps) with mhat = m / (1 - beta1^step), vhat = v / (1 - beta2^step).
// The host folds the step-dependent factors (decay, stepSize = lr / bc1, invSqrtBc2 = 1 / sqrt(bc2)) in
// float64 and passes them as f32.
//   param, grad, m, v: (N)    clipScale: (>= clipIndex + 1), e.g. GradNorm's out = [norm, clipScale]
// Bindings: 0 params; 1 param (read_write), 2 grad (read), 3 m (read_write), 4 v (read_write),
//   5 clipScale (read; when useClip == 0 the host binds grad here and it is not read).
// Dispatch: ceil(N / WG) workgroups, split over x and y by grid().
// Overwrites param, m and v (one invocation owns each element); saves nothing.

override WG: u32 = 256u;

struct Params {
  n: u32,
  useClip: u32,
  clipIndex: u32,
  decay: f32,          // 1 - lr * weightDecay
  beta1: f32,
  oneMinusBeta1: f32,
  beta2: f32,
  oneMinusBeta2: f32,
  stepSize: f32,       // lr / (1 - beta1^step)
  invSqrtBc2: f32,     // 1 / sqrt(1 - beta2^step)
  eps: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> clipScale: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  var scale = 1.0;
  if (p.useClip != 0u) { scale = clipScale[p.clipIndex]; }
  let g = grad[i] * scale;
  let mi = p.beta1 * m[i] + p.oneMinusBeta1 * g;
  let vi = p.beta2 * v[i] + p.oneMinusBeta2 * (g * g);
  m[i] = mi;
  v[i] = vi;
  let denom = sqrt(vi) * p.invSqrtBc2 + p.eps;
  param[i] = param[i] * p.decay - p.stepSize * (mi / denom);
}
