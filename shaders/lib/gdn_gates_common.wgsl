// sigmoid without overflow (shaders/lib/stable_sigmoid.wgsl) and torch's softplus (x above 20), for the Gated DeltaNet gates.
//#include stable_sigmoid

fn softplus(x: f32) -> f32 {
  if (x > 20.0) { return x; }
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}
