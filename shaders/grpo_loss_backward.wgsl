// GRPO per-token loss, backward: the gradient of total = sum_n weight[n] * loss[n] with respect to logp.
//   d pg / d logp = -rho * A when the unclipped term is the minimum (A >= 0 and rho <= 1 + eps_high, or
//                   A < 0 and rho >= 1 - eps), else 0 (the clipped term is constant in logp)
//   d k3 / d logp = 1 - exp(ref - logp)
//   dlogp[n] = weight[n] * (d pg / d logp + beta * d k3 / d logp)        (overwrites dlogp)
// old_logp is detached (with num_iterations == 1 it equals logp, so rho = 1 and the gradient is -A).
// Shapes: all (N). Bindings: 0 params {n, eps, eps_high, beta}; 1 logp; 2 old_logp; 3 ref_logp; 4 adv;
// 5 weight; 6 dlogp (write). Dispatch: ceil(N / 256) workgroups, split over x and y by grid().

struct Params { n: u32, eps: f32, eps_high: f32, beta: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logp: array<f32>;
@group(0) @binding(2) var<storage, read> old_logp: array<f32>;
@group(0) @binding(3) var<storage, read> ref_logp: array<f32>;
@group(0) @binding(4) var<storage, read> adv: array<f32>;
@group(0) @binding(5) var<storage, read> weight: array<f32>;
@group(0) @binding(6) var<storage, read_write> dlogp: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  let lp = logp[i];
  let a = adv[i];
  let rho = exp(clamp(lp - old_logp[i], -20.0, 20.0));
  var g = 0.0;
  let unclipped = (a >= 0.0 && rho <= 1.0 + p.eps_high) || (a < 0.0 && rho >= 1.0 - p.eps);
  if (unclipped) { g = -rho * a; }
  if (p.beta != 0.0) {
    g = g + p.beta * (1.0 - exp(clamp(ref_logp[i] - lp, -20.0, 20.0)));
  }
  dlogp[i] = weight[i] * g;
}
