// Gated delta rule, recurrent form, backward (CPU reference src/reference/gated_delta.ts gatedDeltaBackward).
// Walks T in reverse, chunk by chunk: each chunk's states are recomputed from the forward's checkpoint (ckpt,
// the state before every CH-th token) into the work buffer, then for t from the chunk's end down to its start,
// with A = exp(g_t) S_{t-1}, kv = A^T k_t, delta = beta_t (v_t - kv), S_t = A + k_t delta^T and dS = dL/dS_t:
//   dS += scale q_t dout_t^T;       dq_t += scale S_t dout_t
//   ddelta = dS^T k_t;              dk_t += dS delta;        dbeta_t = ddelta . (v_t - kv);  dv_t = beta_t ddelta
//   dkv = -beta_t ddelta;           dS += k_t dkv^T;         dk_t += A dkv
//   dg_t = sum(dS o A);             dS <- exp(g_t) dS        (now dL/dS_{t-1})
// The initial state is zero (training); no gradient flows to it.
// Shapes: dout (B, T, NV, DV); qkv, dqkv (B, T, CD), CD = 2*NK*DK + NV*DV (q, k, v per token, as the forward);
//   gb, dgb (B, T, NV, 2): g then beta, and their gradients; ckpt (B, NV, NC, DK, DV) from gated_delta_forward;
//   work (B*NK, CH + 3, DK, DV): per (b, kh) the chunk's CH states S_{t-1} (CH, DK, DV), then dS (DK, DV), then
//   the per-column shares of dq_t and of dk_t (DV, DK) each.
// One workgroup per (b, kh): it runs the value heads of its query/key head one after the other, so the q and k
// parts of dqkv (summed over those heads) are written by one workgroup only: the first head overwrites, the
// others add. Columns are spread over the 64 invocations (column phase), then rows (row phase), with barriers.
// Bindings: 0 params {B, T, NK, NV, DK, DV, CH, scale}; 1 dout (read), 2 qkv (read), 3 gb (read), 4 ckpt (read),
//   5 dqkv (write), 6 dgb (write), 7 work (read_write).
// OVERWRITES dqkv and dgb.
// Dispatch: (B * NK) workgroups.

struct Params { B: u32, T: u32, NK: u32, NV: u32, DK: u32, DV: u32, CH: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
@group(0) @binding(3) var<storage, read> gb: array<f32>;
@group(0) @binding(4) var<storage, read> ckpt: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;
@group(0) @binding(6) var<storage, read_write> dgb: array<f32>;
@group(0) @binding(7) var<storage, read_write> work: array<f32>;

const WG = 64u;
const DV_MAX = 256u;
var<workgroup> colG: array<f32, DV_MAX>;
var<workgroup> colB: array<f32, DV_MAX>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let bk = wid.x; // b * NK + kh
  let b = bk / p.NK;
  let kh = bk % p.NK;
  let R = p.NV / p.NK;
  let NC = (p.T + p.CH - 1u) / p.CH;
  let SS = p.DK * p.DV;
  let KD = p.NK * p.DK;
  let CD = 2u * KD + p.NV * p.DV;
  // this workgroup's work: chunk states, then dS, then the two partial-sum planes
  let wS = bk * (p.CH + 3u) * SS;
  let wD = wS + p.CH * SS;
  let wQ = wD + SS;
  let wK = wQ + SS;
  for (var r = 0u; r < R; r++) {
    let h = kh * R + r;
    let bh = b * p.NV + h;
    for (var e = lid; e < SS; e += WG) { work[wD + e] = 0.0; }
    for (var c = NC; c > 0u; c--) {
      let t0 = (c - 1u) * p.CH;
      let t1 = min(p.T, t0 + p.CH);
      // recompute the chunk's states S_{t-1} (before decay), column by column
      for (var j = lid; j < p.DV; j += WG) {
        for (var i = 0u; i < p.DK; i++) { work[wS + i * p.DV + j] = ckpt[((bh * NC + c - 1u) * p.DK + i) * p.DV + j]; }
        for (var t = t0; t + 1u < t1; t++) {
          let n = b * p.T + t;
          let gi = n * p.NV + h;
          let kOff = n * CD + KD + kh * p.DK;
          let decay = exp(gb[gi * 2u]);
          let cur = wS + (t - t0) * SS;
          var kv = 0.0;
          for (var i = 0u; i < p.DK; i++) { kv += decay * work[cur + i * p.DV + j] * qkv[kOff + i]; }
          let delta = gb[gi * 2u + 1u] * (qkv[n * CD + 2u * KD + h * p.DV + j] - kv);
          for (var i = 0u; i < p.DK; i++) {
            work[cur + SS + i * p.DV + j] = decay * work[cur + i * p.DV + j] + qkv[kOff + i] * delta;
          }
        }
      }
      storageBarrier();
      for (var tt = t1; tt > t0; tt--) {
        let t = tt - 1u;
        let n = b * p.T + t;
        let gi = n * p.NV + h;
        let qOff = n * CD + kh * p.DK;
        let kOff = qOff + KD;
        let vOff = n * CD + 2u * KD + h * p.DV;
        let decay = exp(gb[gi * 2u]);
        let bt = gb[gi * 2u + 1u];
        let sp = wS + (t - t0) * SS; // S_{t-1}
        // column phase
        for (var j = lid; j < p.DV; j += WG) {
          var kv = 0.0;
          for (var i = 0u; i < p.DK; i++) { kv += decay * work[sp + i * p.DV + j] * qkv[kOff + i]; }
          let vj = qkv[vOff + j];
          let delta = bt * (vj - kv);
          let dO = dout[gi * p.DV + j];
          var ddelta = 0.0;
          for (var i = 0u; i < p.DK; i++) {
            let A = decay * work[sp + i * p.DV + j];
            let St = A + qkv[kOff + i] * delta;
            let ds = work[wD + i * p.DV + j] + p.scale * qkv[qOff + i] * dO;
            work[wD + i * p.DV + j] = ds;
            work[wQ + j * p.DK + i] = p.scale * St * dO;
            ddelta += ds * qkv[kOff + i];
          }
          let dkv = -bt * ddelta;
          var dgj = 0.0;
          for (var i = 0u; i < p.DK; i++) {
            let A = decay * work[sp + i * p.DV + j];
            var ds = work[wD + i * p.DV + j];
            work[wK + j * p.DK + i] = ds * delta + A * dkv;
            ds += qkv[kOff + i] * dkv;
            dgj += ds * A;
            work[wD + i * p.DV + j] = ds * decay;
          }
          colG[j] = dgj;
          colB[j] = ddelta * (vj - kv);
          dqkv[vOff + j] = bt * ddelta;
        }
        storageBarrier();
        workgroupBarrier();
        // row phase: dq_t, dk_t summed over columns (and over the value heads of this key head)
        for (var i = lid; i < p.DK; i += WG) {
          var sq = 0.0;
          var sk = 0.0;
          for (var j = 0u; j < p.DV; j++) {
            sq += work[wQ + j * p.DK + i];
            sk += work[wK + j * p.DK + i];
          }
          if (r == 0u) {
            dqkv[qOff + i] = sq;
            dqkv[kOff + i] = sk;
          } else {
            dqkv[qOff + i] += sq;
            dqkv[kOff + i] += sk;
          }
        }
        if (lid == 0u) {
          var sg = 0.0;
          var sb = 0.0;
          for (var j = 0u; j < p.DV; j++) {
            sg += colG[j];
            sb += colB[j];
          }
          dgb[gi * 2u] = sg;
          dgb[gi * 2u + 1u] = sb;
        }
        storageBarrier();
        workgroupBarrier();
      }
    }
  }
}
