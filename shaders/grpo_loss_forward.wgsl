// GRPO per-token loss, forward. For each token n of the (B*T) grid:
//   rho  = exp(logp - old_logp)                                 (old_logp = logp when num_iterations == 1)
//   pg   = -min(rho * A, clip(rho, 1 - eps, 1 + eps_high) * A)
//   k3   = exp(ref - logp) - (ref - logp) - 1                   (only when beta > 0)
//   loss[n] = pg + beta * k3;  kl[n] = k3;  ratio[n] = rho
//   clip[n] = 1 if rho < 1 - eps and A < 0 (low), 2 if rho > 1 + eps_high and A > 0 (high), else 0
// The aggregation (loss_type) is carried by per-token weights on the host: total = sum_n weight[n] * loss[n].
// Shapes: logp, old_logp, ref_logp, adv: (N); outputs loss, kl, ratio, clip: (N). Overwrites its outputs.
// Bindings: 0 params {n, eps, eps_high, beta}; 1 logp; 2 old_logp; 3 ref_logp; 4 adv; 5 out (4N: loss | kl | ratio | clip).
// Dispatch: ceil(N / 256) workgroups, split over x and y by grid().

struct Params { n: u32, eps: f32, eps_high: f32, beta: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logp: array<f32>;
@group(0) @binding(2) var<storage, read> old_logp: array<f32>;
@group(0) @binding(3) var<storage, read> ref_logp: array<f32>;
@group(0) @binding(4) var<storage, read> adv: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  let lp = logp[i];
  let a = adv[i];
  // exp of a clamped difference: a policy that drifted by more than e^20 is clipped anyway
  let rho = exp(clamp(lp - old_logp[i], -20.0, 20.0));
  let clipped = clamp(rho, 1.0 - p.eps, 1.0 + p.eps_high);
  let pg = -min(rho * a, clipped * a);
  var k3 = 0.0;
  if (p.beta != 0.0) {
    let d = clamp(ref_logp[i] - lp, -20.0, 20.0);
    k3 = exp(d) - d - 1.0;
  }
  var flag = 0.0;
  if (rho < 1.0 - p.eps && a < 0.0) { flag = 1.0; }
  if (rho > 1.0 + p.eps_high && a > 0.0) { flag = 2.0; }
  out[i] = pg + p.beta * k3;
  out[p.n + i] = k3;
  out[2u * p.n + i] = rho;
  out[3u * p.n + i] = flag;
}
