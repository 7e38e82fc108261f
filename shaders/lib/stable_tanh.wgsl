// Snippet (not a kernel): tanh without overflow for any finite u, from exp(-2|u|) <= 1:
// sign(u) * (1 - e) / (1 + e), e = exp(-2|u|) (src/reference/geglu.ts stableTanh is its CPU twin).
// Included by softcap_forward and softcap_backward.

fn stable_tanh(u: f32) -> f32 {
  let e = exp(-2.0 * abs(u));
  let t = (1.0 - e) / (1.0 + e);
  return select(t, -t, u < 0.0);
}
