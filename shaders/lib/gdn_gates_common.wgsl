// sigmoid without overflow (exp(-|x|) <= 1) and torch's softplus (x above 20), for the Gated DeltaNet gates.
fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, x >= 0.0);
}

fn softplus(x: f32) -> f32 {
  if (x > 20.0) { return x; }
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}
