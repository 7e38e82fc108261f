// GRPO per-token loss, backward: the gradient of total = sum_n weight[n] * loss[n] (grpo_loss_forward.wgsl)
// with respect to logp, old_logp detached. With G(rho) = d pg / d rho * rho:
//   kind 0 (clip): G = -rho * A when the unclipped term is the minimum (A >= 0 and rho <= 1 + eps_high, or
//                  A < 0 and rho >= 1 - eps) and rho <= delta, else 0 (a clamped ratio is constant in logp)
//   kind 2 (sapo): G = -4 * A * s * (1 - s) * rho,  s = sigmoid(tau (rho - 1))
//   seq_sum = 1 (TRL's RLOOTrainer): rho = exp(sum of the log-ratios), d rho / d logp_n = rho * mask[n] (no 1 / |o_i|)
//   token level:    dlogp[n] = weight[n] * (em[n] * G(rho_n) + beta * (1 - exp(ref - logp)))
//   sequence level: rho = s_i is shared by completion i's tokens and d s_i / d logp_n = s_i * mask[n] / |o_i|
//                   (|o_i| = sum of mask over the completion: tool tokens are out of the ratio; the mask is read as
//                   weight > 0, since every token in the loss has a positive weight and the others none: a ninth
//                   storage buffer would pass the default limit of 8 per stage), so
//                   dlogp[n] = mask[n] * G(s_i) / |o_i| * sum_{k in o_i} weight[k] * em[k] + weight[n] * beta * (1 - exp(ref - logp))
//   kind 1 (cispo): the weight min(rho, eps_high) is detached: dlogp[n] = weight[n] * (em[n] * -min(rho, eps_high) * A + KL part)
//                   at either level.
//   kind 3 (vespo): the weight phi (grpo_loss_forward.wgsl) is detached: dlogp[n] = weight[n] * (em[n] * -phi * A + KL part)
//   off_policy_mask om (sequence-wide, detached) multiplies every policy term.
//   bias_kl = 1 (KL x rho): token level weight[n] * beta * rho * (dk3 + k3); sequence level
//                   weight[n] * beta * rho * dk3[n] + mask[n] * per * rho * beta * sum_{k in o_i} weight[k] * k3[k]
// Shapes: all (N) except seq (2N) u32. Bindings: 0 params (as the forward); 1 logp; 2 old_logp; 3 ref_logp;
// 4 adv; 5 entropy; 6 seq; 7 weight; 8 dlogp (write: overwritten).
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
@group(0) @binding(7) var<storage, read> weight: array<f32>;
@group(0) @binding(8) var<storage, read_write> dlogp: array<f32>;

/** 1 for a token in the loss (TRL's mask * tool_mask), read from its positive weight. */
fn in_loss(k: u32) -> f32 {
  return select(0.0, 1.0, weight[k] > 0.0);
}

fn entropy_mask(k: u32) -> f32 {
  return select(1.0, 0.0, entropy[k] < p.ent_threshold);
}

/** d pg / d rho * rho at ratio rho and advantage a (kinds 0 and 2). */
fn policy_grad(rho: f32, a: f32) -> f32 {
  if (p.kind == 2u) {
    let tau = select(p.tau_neg, p.tau_pos, a > 0.0);
    let s = 1.0 / (1.0 + exp(-tau * (rho - 1.0)));
    return -4.0 * a * s * (1.0 - s) * rho;
  }
  let unclipped = ((a >= 0.0 && rho <= 1.0 + p.eps_high) || (a < 0.0 && rho >= 1.0 - p.eps)) && rho <= p.delta;
  return select(0.0, -rho * a, unclipped);
}

/** VESPO's gamma weight of token i's completion (detached; as the forward, with the mask read as weight > 0). */
fn vespo_phi(i: u32, a: f32) -> f32 {
  let first = seq[2u * i];
  let count = seq[2u * i + 1u];
  var s = 0.0;
  for (var k = first; k < first + count; k++) { s = s + in_loss(k) * clamp(logp[k] - old_logp[k], -20.0, 20.0); }
  let lw = clamp(s, -18.420680743952367, 20.0);
  let kk = select(p.k_neg, p.k_pos, a >= 0.0);
  let lam = max(select(p.lambda_neg, p.lambda_pos, a >= 0.0), 1e-4);
  return exp(lam + kk * lw - lam * exp(lw));
}

/** off_policy_mask_threshold's keep (1) or drop (0) of token i's completion (as the forward; mask read as weight > 0). */
fn off_policy_mask(i: u32, a: f32) -> f32 {
  if (p.opsm_threshold >= 1e38 || a >= 0.0) { return 1.0; }
  let first = seq[2u * i];
  let count = seq[2u * i + 1u];
  var s = 0.0;
  var m = 0.0;
  for (var k = first; k < first + count; k++) { s = s + in_loss(k) * (old_logp[k] - logp[k]); m = m + in_loss(k); }
  return select(0.0, 1.0, s / max(m, 1.0) <= p.opsm_threshold);
}

/** k3 and d k3 / d logp at token k (beta > 0). */
fn kl_terms(k: u32) -> vec2f {
  let d = clamp(ref_logp[k] - logp[k], -20.0, 20.0);
  return vec2f(exp(d) - d - 1.0, 1.0 - exp(d));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  let lp = logp[i];
  let a = adv[i];
  let seq_level = p.seq_level == 1u;
  // the ratio; at sequence level d rho / d logp_n = rho * mask[n] * per, and the completion's sums of
  // weight * em (the policy term's) and weight * k3 (the bias-corrected KL's)
  var rho = 1.0;
  var per = 1.0;
  var wsum = 0.0;
  var ksum = 0.0;
  if (!seq_level) {
    rho = exp(clamp(lp - old_logp[i], -20.0, 20.0));
  } else {
    let first = seq[2u * i];
    let count = seq[2u * i + 1u];
    var s = 0.0;
    var m = 0.0;
    for (var k = first; k < first + count; k++) {
      s = s + in_loss(k) * (logp[k] - old_logp[k]);
      m = m + in_loss(k);
      wsum = wsum + weight[k] * entropy_mask(k);
      if (p.beta != 0.0 && p.bias_kl == 1u) { ksum = ksum + weight[k] * kl_terms(k).x; }
    }
    per = select(1.0 / max(m, 1.0), 1.0, p.seq_sum == 1u);
    rho = exp(clamp(s * per, -20.0, 20.0));
  }
  let om = off_policy_mask(i, a);
  var pol = 0.0;
  if (p.kind == 1u) {
    pol = weight[i] * entropy_mask(i) * om * -min(rho, p.eps_high) * a;
  } else if (p.kind == 3u) {
    pol = weight[i] * entropy_mask(i) * om * -vespo_phi(i, a) * a;
  } else if (!seq_level) {
    pol = weight[i] * entropy_mask(i) * om * policy_grad(rho, a);
  } else {
    pol = in_loss(i) * om * policy_grad(rho, a) * per * wsum;
  }
  var klg = 0.0;
  if (p.beta != 0.0) {
    let t = kl_terms(i);
    if (p.bias_kl == 0u) {
      klg = weight[i] * p.beta * t.y;
    } else if (!seq_level) {
      klg = weight[i] * p.beta * rho * (t.y + t.x);
    } else {
      klg = weight[i] * p.beta * rho * t.y + in_loss(i) * per * rho * p.beta * ksum;
    }
  }
  dlogp[i] = pol + klg;
}
