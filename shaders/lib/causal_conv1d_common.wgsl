// Causal depthwise conv1d, shared by shaders/causal_conv1d_forward.wgsl and _backward.wgsl: the pre-activation
//   conv_pre(b, t, c) = sum_{j<K} weight[c, j] * input_at(b, t - (K-1) + j, c)
// (the includer declares p {T, D, K, ...}, weight (D, K) and input_at(b, s, c), which says what lies before t = 0),
// and the overflow-free sigmoid of the SiLU.
//#include stable_sigmoid

fn conv_pre(b: u32, t: u32, c: u32) -> f32 {
  var acc = 0.0;
  for (var j = 0u; j < p.K; j++) {
    acc += weight[c * p.K + j] * input_at(b, i32(t) - i32(p.K) + 1 + i32(j), c);
  }
  return acc;
}
