// Causal depthwise conv1d + SiLU, forward (Qwen3.5's linear layers; CPU reference src/reference/causal_conv1d.ts):
//   out[b, t, c] = silu(sum_{j<K} w[c, j] * x[b, t - (K-1) + j, c])   (inputs before t = 0: state, or 0)
// Shapes: x, out (B, T, D) channels last; weight (D, K); state, new_state (B, D, K-1): the K-1 inputs before t = 0,
//   oldest first (decoding). has_state: read state (else zeros); has_new_state: write the last K-1 inputs of
//   (state, x) into new_state (a different buffer from state: decoding swaps the two); with has_lens, row b's
//   inputs end at lens[b] <= T (a right-padded prefill: the state is that of the row's last real token).
// Bindings: 0 params {B, T, D, K, has_state, has_new_state, has_lens}; 1 x (read), 2 weight (read), 3 state (read),
//   4 lens (read) (B) u32, 5 out (write), 6 new_state (write). Overwrites out (and new_state).
// Dispatch: ceil(B*T*D / 256) workgroups, split over x and y by grid(); invocation i < B*D also writes new_state.

struct Params { B: u32, T: u32, D: u32, K: u32, has_state: u32, has_new_state: u32, has_lens: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> state: array<f32>;
@group(0) @binding(4) var<storage, read> lens: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> new_state: array<f32>;

//#include causal_conv1d_common

/** the input at position s (< T) of row b, channel c: x, the state before 0, or 0 */
fn input_at(b: u32, s: i32, c: u32) -> f32 {
  if (s >= 0) { return x[(b * p.T + u32(s)) * p.D + c]; }
  if (p.has_state == 0u) { return 0.0; }
  return state[(b * p.D + c) * (p.K - 1u) + u32(i32(p.K) - 1 + s)];
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i < p.B * p.T * p.D) {
    let c = i % p.D;
    let bt = i / p.D;
    let t = bt % p.T;
    let b = bt / p.T;
    let acc = conv_pre(b, t, c);
    out[i] = acc * sigmoid(acc);
  }
  if (p.has_new_state != 0u && i < p.B * p.D) {
    let c = i % p.D;
    let b = i / p.D;
    let end = select(p.T, lens[b], p.has_lens != 0u);
    for (var j = 0u; j + 1u < p.K; j++) {
      new_state[(b * p.D + c) * (p.K - 1u) + j] = input_at(b, i32(end) - i32(p.K) + 1 + i32(j), c);
    }
  }
}
