// Gated delta rule, chunked (WY / UT-transform) form, backward (CPU reference src/reference/gated_delta_chunk.ts
// gatedDeltaChunkBackward). Needs the forward's `prep_main` stage rerun into `prep` and its checkpoints ckpt (the
// state S0 entering each chunk). With dS = dL/dS_end of a chunk (zero after the last; no final-state gradient):
//   `state_pass` (chunks in reverse, one invocation per value column j of one (b, h), dS's column in private memory):
//     Delta = U - W S0;  dDelta_s = sum_{r>=s} P_rs dout_r + e^(G_L-1 - G_s) dS^T k_s;  keeps dSend = dS, then
//     dS <- e^(G_L-1) dS + sum_r (scale e^(G_r) q_r dout_r^T - W_r dDelta_r^T)   (now dL/dS0 = the previous chunk's dS)
//   `main` (chunks in parallel, one workgroup per (chunk, b, kh), the value heads of kh one after the other):
//     dY := dW = -dDelta S0^T;  (I + M)^T dX = dDelta, (I + M)^T dY = dW (back substitution, per column);
//     dv = beta o dX;  DO_rs = dout_r . Delta_s (s <= r);  dM_rs = -(dX_r . U_s + dY_r . W_s) (s < r)
//     dq_r = scale e^(G_r) S0 dout_r + sum_{s<=r} scale Gam_rs DO_rs k_s
//     dk_r = e^(G_L-1 - G_r) dSend Delta_r + beta_r e^(G_r) dY_r + sum_{r'>=r} scale Gam_r'r DO_r'r q_r'
//            + sum_{s<r} dM_rs beta_r Gam_rs k_s + sum_{r'>r} dM_r'r beta_r' Gam_r'r k_r'
//     dbeta_r = dX_r . v_r + e^(G_r) dY_r . k_r + sum_{s<r} dM_rs Gam_rs k_r . k_s
//     dG_r = q_r . (scale e^(G_r) S0 dout_r) - c_r + beta_r e^(G_r) dY_r . k_r + sum_s (P o DO)_rs - sum_r' (P o DO)_r'r
//            + sum_s (dM o M)_rs - sum_r' (dM o M)_r'r,  c_r = e^(G_L-1 - G_r) k_r . (dSend Delta_r);
//     dG_L-1 += e^(G_L-1) sum(dSend o S0) + sum_r c_r;  dg_t = sum_{r>=t} dG_r (G is a cumulative sum).
//   Gam_rs = e^(G_r - G_s). The q and k parts of dqkv sum over the value heads of a query/key head (the first
//   head overwrites, the others add: one workgroup owns them).
// Shapes: dout (B, T, NV, DV); qkv, dqkv (B, T, CD); gb, dgb (B, T, NV, 2); ckpt (B, NV, NC, DK, DV); prep, work:
//   scratch of rows b0 .. b0+nb-1 (layouts in lib/gated_delta_chunk_common.wgsl).
// Bindings: 0 params (lib), 1 dout (read), 2 qkv (read), 3 gb (read), 4 ckpt (read), 5 prep (read),
//   6 dqkv (write), 7 dgb (write), 8 work (read_write). OVERWRITES dqkv and dgb (rows b0 .. b0+nb-1).
// Dispatch: `state_pass` (ceil(DV / 64), nb * NV); then `main` (NC, nb * NK).

//#include gated_delta_chunk_common

@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
@group(0) @binding(3) var<storage, read> gb: array<f32>;
@group(0) @binding(4) var<storage, read> ckpt: array<f32>;
@group(0) @binding(5) var<storage, read> prep: array<f32>;
@group(0) @binding(6) var<storage, read_write> dqkv: array<f32>;
@group(0) @binding(7) var<storage, read_write> dgb: array<f32>;
@group(0) @binding(8) var<storage, read_write> work: array<f32>;

const WG = 64u;
var<workgroup> wG: array<f32, GDC_CMAX>;
var<workgroup> wBeta: array<f32, GDC_CMAX>;
var<workgroup> wDG: array<f32, GDC_CMAX>;
var<workgroup> wC: array<f32, GDC_CMAX>;
var<workgroup> wPart: array<f32, WG>;

@compute @workgroup_size(64)
fn state_pass(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = wid.x * WG + lid;
  if (j >= p.DV) { return; }
  let b = p.b0 + wid.y / p.NV;
  let h = wid.y % p.NV;
  let bh = b * p.NV + h;
  let kh = h / (p.NV / p.NK);
  let NC = gdc_nc();
  let CD = gdc_cd();
  let KD = p.NK * p.DK;
  var dS: array<f32, GDC_DKMAX>;
  var s0: array<f32, GDC_DKMAX>;
  var dd: array<f32, GDC_CMAX>;
  for (var i = 0u; i < p.DK; i++) { dS[i] = 0.0; }
  for (var c = NC; c > 0u; c--) {
    let t0 = (c - 1u) * p.C;
    let L = gdc_len(c - 1u);
    let ci = gdc_chunk(b, h, c - 1u);
    let base = ci * gdc_prep_stride();
    let wb = ci * gdc_work_stride();
    let cb = (bh * NC + c - 1u) * p.DK;
    for (var i = 0u; i < p.DK; i++) {
      work[wb + gdc_off_ds() + i * p.DV + j] = dS[i];
      s0[i] = ckpt[(cb + i) * p.DV + j];
    }
    let GL = prep[base + L - 1u];
    for (var r = 0u; r < L; r++) {
      var x = prep[base + gdc_off_u() + r * p.DV + j];
      let wo = base + gdc_off_w() + r * p.DK;
      for (var i = 0u; i < p.DK; i++) { x -= prep[wo + i] * s0[i]; }
      work[wb + r * p.DV + j] = x;
    }
    for (var u = 0u; u < L; u++) {
      let ko = (b * p.T + t0 + u) * CD + KD + kh * p.DK;
      var ks = 0.0;
      for (var i = 0u; i < p.DK; i++) { ks += qkv[ko + i] * dS[i]; }
      var x = exp(GL - prep[base + u]) * ks;
      for (var r = u; r < L; r++) {
        x += prep[base + gdc_off_p() + r * L + u] * dout[((b * p.T + t0 + r) * p.NV + h) * p.DV + j];
      }
      dd[u] = x;
      work[wb + gdc_off_dx() + u * p.DV + j] = x;
    }
    let eL = exp(GL);
    for (var i = 0u; i < p.DK; i++) { dS[i] *= eL; }
    for (var r = 0u; r < L; r++) {
      let n = b * p.T + t0 + r;
      let qo = n * CD + kh * p.DK;
      let f = p.scale * exp(prep[base + r]) * dout[(n * p.NV + h) * p.DV + j];
      let wo = base + gdc_off_w() + r * p.DK;
      for (var i = 0u; i < p.DK; i++) { dS[i] += qkv[qo + i] * f - prep[wo + i] * dd[r]; }
    }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  let b = p.b0 + wid.y / p.NK;
  let kh = wid.y % p.NK;
  let R = p.NV / p.NK;
  let NC = gdc_nc();
  let CD = gdc_cd();
  let KD = p.NK * p.DK;
  let t0 = c * p.C;
  let L = gdc_len(c);
  let DV = p.DV;
  let DK = p.DK;
  for (var rr = 0u; rr < R; rr++) {
    let h = kh * R + rr;
    let bh = b * p.NV + h;
    let ci = gdc_chunk(b, h, c);
    let base = ci * gdc_prep_stride();
    let wb = ci * gdc_work_stride();
    let s0 = (bh * NC + c) * DK * DV; // S0 (DK, DV) in ckpt
    if (lid < L) {
      wG[lid] = prep[base + lid];
      wBeta[lid] = gb[((b * p.T + t0 + lid) * p.NV + h) * 2u + 1u];
    }
    // dY := dW = -dDelta S0^T
    for (var e = lid; e < L * DK; e += WG) {
      let r = e / DK;
      let i = e % DK;
      var x = 0.0;
      for (var j = 0u; j < DV; j++) { x += work[wb + gdc_off_dx() + r * DV + j] * ckpt[s0 + i * DV + j]; }
      work[wb + gdc_off_dy() + r * DK + i] = -x;
    }
    storageBarrier();
    workgroupBarrier();
    // back substitution per column: X_s -= sum_{r>s} M_rs X_r (dX over DV columns, dY over DK)
    for (var col = lid; col < DV + DK; col += WG) {
      let isX = col < DV;
      let width = select(DK, DV, isX);
      let cc = select(col - DV, col, isX);
      let xo = wb + select(gdc_off_dy(), gdc_off_dx(), isX);
      for (var s = L; s > 0u; s--) {
        var x = work[xo + (s - 1u) * width + cc];
        for (var r = s; r < L; r++) { x -= prep[base + gdc_off_m() + r * L + s - 1u] * work[xo + r * width + cc]; }
        work[xo + (s - 1u) * width + cc] = x;
        if (isX) { dqkv[(b * p.T + t0 + s - 1u) * CD + 2u * KD + h * DV + cc] = wBeta[s - 1u] * x; }
      }
    }
    storageBarrier();
    workgroupBarrier();
    // DO and dM
    for (var e = lid; e < L * L; e += WG) {
      let r = e / L;
      let s = e % L;
      var dO = 0.0;
      var dM = 0.0;
      if (s <= r) {
        let oo = ((b * p.T + t0 + r) * p.NV + h) * DV;
        for (var j = 0u; j < DV; j++) { dO += dout[oo + j] * work[wb + s * DV + j]; }
      }
      if (s < r) {
        for (var j = 0u; j < DV; j++) { dM += work[wb + gdc_off_dx() + r * DV + j] * prep[base + gdc_off_u() + s * DV + j]; }
        for (var i = 0u; i < DK; i++) { dM += work[wb + gdc_off_dy() + r * DK + i] * prep[base + gdc_off_w() + s * DK + i]; }
        dM = -dM;
      }
      work[wb + gdc_off_do() + e] = dO;
      work[wb + gdc_off_dm() + e] = dM;
    }
    storageBarrier();
    workgroupBarrier();
    let GL = wG[L - 1u];
    // dq and dk, per (r, i)
    for (var e = lid; e < L * DK; e += WG) {
      let r = e / DK;
      let i = e % DK;
      let n = b * p.T + t0 + r;
      let qo = n * CD + kh * DK;
      let ko = qo + KD;
      var so = 0.0;
      var sd = 0.0;
      let oo = (n * p.NV + h) * DV;
      for (var j = 0u; j < DV; j++) {
        so += ckpt[s0 + i * DV + j] * dout[oo + j];
        sd += work[wb + gdc_off_ds() + i * DV + j] * work[wb + r * DV + j];
      }
      let t1 = p.scale * exp(wG[r]) * so;
      let st = exp(GL - wG[r]) * sd;
      work[wb + gdc_off_z1() + e] = qkv[qo + i] * t1;
      work[wb + gdc_off_z2() + e] = qkv[ko + i] * st;
      var dq = t1;
      var dk = st + wBeta[r] * exp(wG[r]) * work[wb + gdc_off_dy() + e];
      for (var s = 0u; s <= r; s++) {
        let ks = qkv[(b * p.T + t0 + s) * CD + KD + kh * DK + i];
        let gam = exp(wG[r] - wG[s]);
        dq += p.scale * gam * work[wb + gdc_off_do() + r * L + s] * ks;
        if (s < r) { dk += work[wb + gdc_off_dm() + r * L + s] * wBeta[r] * gam * ks; }
      }
      for (var u = r; u < L; u++) {
        let nu = (b * p.T + t0 + u) * CD + kh * DK;
        let gam = exp(wG[u] - wG[r]);
        dk += p.scale * gam * work[wb + gdc_off_do() + u * L + r] * qkv[nu + i];
        if (u > r) { dk += work[wb + gdc_off_dm() + u * L + r] * wBeta[u] * gam * qkv[nu + KD + i]; }
      }
      if (rr == 0u) {
        dqkv[qo + i] = dq;
        dqkv[ko + i] = dk;
      } else {
        dqkv[qo + i] += dq;
        dqkv[ko + i] += dk;
      }
    }
    // e^(G_L-1) sum(dSend o S0): partial sums
    var part = 0.0;
    for (var e = lid; e < DK * DV; e += WG) { part += work[wb + gdc_off_ds() + e] * ckpt[s0 + e]; }
    wPart[lid] = part;
    storageBarrier();
    workgroupBarrier();
    // per row: dG_r (without the last row's extras) and dbeta_r
    if (lid < L) {
      let r = lid;
      let n = b * p.T + t0 + r;
      let ko = n * CD + KD + kh * DK;
      var a = 0.0;
      var cr = 0.0;
      var yk = 0.0;
      for (var i = 0u; i < DK; i++) {
        a += work[wb + gdc_off_z1() + r * DK + i];
        cr += work[wb + gdc_off_z2() + r * DK + i];
        yk += work[wb + gdc_off_dy() + r * DK + i] * qkv[ko + i];
      }
      var xv = 0.0;
      for (var j = 0u; j < DV; j++) { xv += work[wb + gdc_off_dx() + r * DV + j] * qkv[n * CD + 2u * KD + h * DV + j]; }
      let er = exp(wG[r]);
      var dG = a - cr + wBeta[r] * er * yk;
      var db = xv + er * yk;
      for (var s = 0u; s <= r; s++) {
        dG += prep[base + gdc_off_p() + r * L + s] * work[wb + gdc_off_do() + r * L + s];
        if (s < r) {
          let dM = work[wb + gdc_off_dm() + r * L + s];
          dG += dM * prep[base + gdc_off_m() + r * L + s];
          var kk = 0.0;
          let ks = (b * p.T + t0 + s) * CD + KD + kh * DK;
          for (var i = 0u; i < DK; i++) { kk += qkv[ko + i] * qkv[ks + i]; }
          db += dM * exp(wG[r] - wG[s]) * kk;
        }
      }
      for (var u = r; u < L; u++) {
        dG -= prep[base + gdc_off_p() + u * L + r] * work[wb + gdc_off_do() + u * L + r];
        if (u > r) { dG -= work[wb + gdc_off_dm() + u * L + r] * prep[base + gdc_off_m() + u * L + r]; }
      }
      wDG[r] = dG;
      wC[r] = cr;
      dgb[(n * p.NV + h) * 2u + 1u] = db;
    }
    workgroupBarrier();
    if (lid == 0u) {
      var tot = 0.0;
      for (var k = 0u; k < WG; k++) { tot += wPart[k]; }
      var cs = 0.0;
      for (var r = 0u; r < L; r++) { cs += wC[r]; }
      wDG[L - 1u] += exp(GL) * tot + cs;
      var acc = 0.0;
      for (var r = L; r > 0u; r--) {
        acc += wDG[r - 1u];
        dgb[((b * p.T + t0 + r - 1u) * p.NV + h) * 2u] = acc;
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}
