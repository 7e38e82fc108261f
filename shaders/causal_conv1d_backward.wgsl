// Causal depthwise conv1d + SiLU, backward (CPU reference src/reference/causal_conv1d.ts causalConv1dBackward),
// from a zero state (training). With pre[t] = sum_j w[c, j] x[t - (K-1) + j] and dpre = dout * silu'(pre):
//   dx[b, s, c] = sum_{j<K, t = s + (K-1) - j < T} dpre[b, t, c] * w[c, j]        (overwrites)
//   dweight[c, j] += sum_{b, t} dpre[b, t, c] * x[b, t - (K-1) + j, c]           (accumulates)
// pre is recomputed (K terms) wherever it is needed; nothing is saved by the forward.
// Shapes: dout, x, dx (B, T, D); weight, dweight (D, K).
// Bindings: 0 params {B, T, D, K, has_dweight}; 1 dout (read), 2 x (read), 3 weight (read), 4 dx (write),
//   5 dweight (read_write).
// Dispatch: ceil(max(B*T*D, D*K) / 256) workgroups, split by grid(): invocation i < B*T*D writes dx[i],
//   invocation i < D*K (when has_dweight) sums dweight[i] over all B*T positions (deterministic).

struct Params { B: u32, T: u32, D: u32, K: u32, has_dweight: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> dweight: array<f32>;

//#include causal_conv1d_common

fn input_at(b: u32, s: i32, c: u32) -> f32 {
  if (s < 0) { return 0.0; }
  return x[(b * p.T + u32(s)) * p.D + c];
}

/** dout * silu'(pre) at (b, t, c) */
fn dpre(b: u32, t: u32, c: u32) -> f32 {
  let pre = conv_pre(b, t, c);
  let s = sigmoid(pre);
  return dout[(b * p.T + t) * p.D + c] * s * (1.0 + pre * (1.0 - s));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i < p.B * p.T * p.D) {
    let c = i % p.D;
    let bs = i / p.D;
    let s = bs % p.T;
    let b = bs / p.T;
    var acc = 0.0;
    for (var j = 0u; j < p.K; j++) {
      let t = s + p.K - 1u - j;
      if (t < p.T) { acc += dpre(b, t, c) * weight[c * p.K + j]; }
    }
    dx[i] = acc;
  }
  if (p.has_dweight != 0u && i < p.D * p.K) {
    let c = i / p.K;
    let j = i % p.K;
    var acc = 0.0;
    for (var b = 0u; b < p.B; b++) {
      for (var t = 0u; t < p.T; t++) {
        acc += dpre(b, t, c) * input_at(b, i32(t) - i32(p.K) + 1 + i32(j), c);
      }
    }
    dweight[i] += acc;
  }
}
