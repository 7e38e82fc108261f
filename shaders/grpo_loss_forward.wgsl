// GRPO per-token loss, forward (TRL v1.9's policy losses). For each token n of the (B*T) grid:
//   rho  = exp(logp - old_logp)                          importance_sampling_level "token" (old_logp = logp when
//                                                         num_iterations == 1, so rho = 1)
//        = exp(sum_k mask_k (logp_k - old_logp_k) / max(sum_k mask_k, 1)) over its completion's extent   "sequence"
//          (GSPO), one per completion; mask: 1 on the tokens in the loss (TRL's completion_mask * tool_mask)
//        = exp(sum_k mask_k (logp_k - old_logp_k))           seq_sum = 1: TRL's RLOOTrainer (summed, not averaged)
//   pg   = -min(min(rho, delta) * A, clip(rho, 1 - eps, 1 + eps_high) * A)     kind 0: grpo/bnpo/dr_grpo/dapo
//        = -min(rho, eps_high) * A * logp   (the weight is detached)            kind 1: cispo
//        = -sigmoid(tau (rho - 1)) * 4 / tau * A,  tau = tau_pos if A > 0 else tau_neg   kind 2: sapo
//        = -phi * A * logp (phi detached)                                       kind 3: vespo, with
//          log w = clamp(sum_k mask_k clamp(logp_k - old_logp_k, -20, 20), log 1e-8, 20) over the completion,
//          phi = exp(lambda + k log w - lambda w), (k, lambda) = (k_pos, lambda_pos) if A >= 0 else the neg pair
//   em   = 1 if entropy >= ent_threshold else 0          top_entropy_quantile's mask (threshold -3e38 when off)
//   om   = 0 if A < 0 and the completion's mean of mask_k (old_logp_k - logp_k) > opsm_threshold, else 1
//          (off_policy_mask_threshold, DeepSeek-V3.2 eq. 9; threshold 3e38 when off)
//   k3   = exp(ref - logp) - (ref - logp) - 1            (only when beta > 0); times rho with bias_kl = 1
//          (use_bias_correction_kl: the KL estimate importance-weighted)
//   loss[n] = em * om * pg + beta * k3;  kl[n] = k3;  ratio[n] = rho
//   flag[n] = bits: 1 clipped low (rho < 1 - eps, A < 0), 2 clipped high (rho > 1 + eps_high, A > 0; cispo:
//             rho > eps_high, A > 0; sapo: never), 4 masked by the entropy quantile, 8 masked as off-policy (om = 0)
// The aggregation (loss_type) is carried by per-token weights on the host: total = sum_n weight[n] * loss[n];
// the entropy bonus is added on the host (its gradient goes through the logits, entropy_backward.wgsl).
// Shapes: logp, old_logp, ref_logp, adv, entropy, mask: (N); seq: (2N) u32 {first index, extent} of the token's
// completion (extent 0 outside completions; seq and mask read only at sequence level and by vespo); out (4N):
// loss | kl | ratio | flag.
// Bindings: 0 params; 1 logp; 2 old_logp; 3 ref_logp; 4 adv; 5 entropy; 6 seq; 7 mask; 8 out. Overwrites out.
// Dispatch: ceil(N / 256) workgroups, split over x and y by grid().

struct Params {
  n: u32, eps: f32, eps_high: f32, beta: f32,
  kind: u32, seq_level: u32, delta: f32, tau_pos: f32,
  tau_neg: f32, ent_threshold: f32, seq_sum: u32, _pad0: u32,
  k_pos: f32, lambda_pos: f32, k_neg: f32, lambda_neg: f32,
  opsm_threshold: f32, bias_kl: u32, _pad1: u32, _pad2: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logp: array<f32>;
@group(0) @binding(2) var<storage, read> old_logp: array<f32>;
@group(0) @binding(3) var<storage, read> ref_logp: array<f32>;
@group(0) @binding(4) var<storage, read> adv: array<f32>;
@group(0) @binding(5) var<storage, read> entropy: array<f32>;
@group(0) @binding(6) var<storage, read> seq: array<u32>;
@group(0) @binding(7) var<storage, read> mask: array<f32>;
@group(0) @binding(8) var<storage, read_write> out: array<f32>;

fn ratio(i: u32) -> f32 {
  if (p.seq_level == 0u) {
    // exp of a clamped difference: a policy that drifted by more than e^20 is clipped anyway
    return exp(clamp(logp[i] - old_logp[i], -20.0, 20.0));
  }
  let first = seq[2u * i];
  let count = seq[2u * i + 1u];
  var s = 0.0;
  var m = 0.0;
  for (var k = first; k < first + count; k++) { s = s + mask[k] * (logp[k] - old_logp[k]); m = m + mask[k]; }
  if (p.seq_sum == 1u) { return exp(clamp(s, -20.0, 20.0)); }
  return exp(clamp(s / max(m, 1.0), -20.0, 20.0));
}

/** VESPO's gamma weight of token i's completion (detached). */
fn vespo_phi(i: u32, a: f32) -> f32 {
  let first = seq[2u * i];
  let count = seq[2u * i + 1u];
  var s = 0.0;
  for (var k = first; k < first + count; k++) { s = s + mask[k] * clamp(logp[k] - old_logp[k], -20.0, 20.0); }
  let lw = clamp(s, -18.420680743952367, 20.0);
  let kk = select(p.k_neg, p.k_pos, a >= 0.0);
  let lam = max(select(p.lambda_neg, p.lambda_pos, a >= 0.0), 1e-4);
  return exp(lam + kk * lw - lam * exp(lw));
}

/** off_policy_mask_threshold's keep (1) or drop (0) of token i's completion (sequence-wide, detached). */
fn off_policy_mask(i: u32, a: f32) -> f32 {
  if (p.opsm_threshold >= 1e38 || a >= 0.0) { return 1.0; }
  let first = seq[2u * i];
  let count = seq[2u * i + 1u];
  var s = 0.0;
  var m = 0.0;
  for (var k = first; k < first + count; k++) { s = s + mask[k] * (old_logp[k] - logp[k]); m = m + mask[k]; }
  return select(0.0, 1.0, s / max(m, 1.0) <= p.opsm_threshold);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  let lp = logp[i];
  let a = adv[i];
  let rho = ratio(i);
  var pg = 0.0;
  var flag = 0.0;
  if (p.kind == 1u) {
    pg = -min(rho, p.eps_high) * a * lp;
    if (rho > p.eps_high && a > 0.0) { flag = 2.0; }
  } else if (p.kind == 2u) {
    let tau = select(p.tau_neg, p.tau_pos, a > 0.0);
    pg = -(1.0 / (1.0 + exp(-tau * (rho - 1.0)))) * 4.0 / tau * a;
  } else if (p.kind == 3u) {
    pg = -vespo_phi(i, a) * a * lp;
  } else {
    let clipped = clamp(rho, 1.0 - p.eps, 1.0 + p.eps_high);
    pg = -min(min(rho, p.delta) * a, clipped * a);
    if (rho < 1.0 - p.eps && a < 0.0) { flag = 1.0; }
    if (rho > 1.0 + p.eps_high && a > 0.0) { flag = 2.0; }
  }
  var em = 1.0;
  if (entropy[i] < p.ent_threshold) { em = 0.0; flag = flag + 4.0; }
  let om = off_policy_mask(i, a);
  if (om == 0.0) { flag = flag + 8.0; }
  var k3 = 0.0;
  if (p.beta != 0.0) {
    let d = clamp(ref_logp[i] - lp, -20.0, 20.0);
    k3 = exp(d) - d - 1.0;
    if (p.bias_kl == 1u) { k3 = k3 * rho; }
  }
  out[i] = em * om * pg + p.beta * k3;
  out[p.n + i] = k3;
  out[2u * p.n + i] = rho;
  out[3u * p.n + i] = flag;
}
