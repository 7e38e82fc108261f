// Gated delta rule, recurrent form, forward (Qwen3.5's Gated DeltaNet core; CPU reference
// src/reference/gated_delta.ts). Per row b and value head h (query/key head kh = h / (NV / NK)), state S (DK, DV):
//   S <- exp(g_t) S;  kv = S^T k_t;  delta = beta_t (v_t - kv);  S <- S + k_t delta^T;  out_t = scale S^T q_t
// Shapes: qkv (B, T, CD), CD = 2*NK*DK + NV*DV: per token q (NK, DK), k (NK, DK) (both already l2-normalised),
//   v (NV, DV), the layout of Qwen3.5's conv output; gb (B, T, NV, 2): g then beta; out (B, T, NV, DV);
//   ckpt (B, NV, NC, DK, DV), NC = ceil(T / CH): the state before tokens 0, CH, 2*CH, ... (for the backward);
//   state (B, NV, DK, DV): the initial state when has_init (else zero), overwritten by the final state when
//   has_final (decoding carries it from step to step; bind any small tensor when neither flag is set).
// One invocation per value column j of one (b, h): columns evolve independently, so S's column lives in
// private memory (DK <= 128) and the loop over T needs no barrier.
// Bindings: 0 params {B, T, NK, NV, DK, DV, CH, has_init, has_final, has_ckpt, scale}; 1 qkv (read), 2 gb (read),
//   3 out (write), 4 ckpt (write), 5 state (read_write).
// Overwrites out, ckpt (when has_ckpt) and state (when has_final).
// Dispatch: (ceil(DV / 64), B * NV) workgroups.

struct Params { B: u32, T: u32, NK: u32, NV: u32, DK: u32, DV: u32, CH: u32, has_init: u32, has_final: u32, has_ckpt: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> gb: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> ckpt: array<f32>;
@group(0) @binding(5) var<storage, read_write> state: array<f32>;

const DK_MAX = 128u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = wid.x * 64u + lid;
  let bh = wid.y; // b * NV + h
  if (j >= p.DV) { return; }
  let b = bh / p.NV;
  let h = bh % p.NV;
  let kh = h / (p.NV / p.NK);
  let NC = (p.T + p.CH - 1u) / p.CH;
  let KD = p.NK * p.DK;
  let CD = 2u * KD + p.NV * p.DV;
  var s: array<f32, DK_MAX>;
  for (var i = 0u; i < p.DK; i++) {
    s[i] = select(0.0, state[(bh * p.DK + i) * p.DV + j], p.has_init != 0u);
  }
  for (var t = 0u; t < p.T; t++) {
    if (p.has_ckpt != 0u && t % p.CH == 0u) {
      let base = (bh * NC + t / p.CH) * p.DK;
      for (var i = 0u; i < p.DK; i++) { ckpt[(base + i) * p.DV + j] = s[i]; }
    }
    let n = b * p.T + t;
    let gi = n * p.NV + h;
    let qOff = n * CD + kh * p.DK;
    let kOff = qOff + KD;
    let decay = exp(gb[gi * 2u]);
    var kv = 0.0;
    for (var i = 0u; i < p.DK; i++) {
      s[i] = s[i] * decay;
      kv += s[i] * qkv[kOff + i];
    }
    let delta = gb[gi * 2u + 1u] * (qkv[n * CD + 2u * KD + h * p.DV + j] - kv);
    var o = 0.0;
    for (var i = 0u; i < p.DK; i++) {
      s[i] += qkv[kOff + i] * delta;
      o += s[i] * qkv[qOff + i];
    }
    out[gi * p.DV + j] = p.scale * o;
  }
  if (p.has_final != 0u) {
    for (var i = 0u; i < p.DK; i++) { state[(bh * p.DK + i) * p.DV + j] = s[i]; }
  }
}
