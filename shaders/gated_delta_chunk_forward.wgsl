// Gated delta rule, chunked (WY / UT-transform) form, forward (CPU reference src/reference/gated_delta_chunk.ts;
// the recurrent form is gated_delta_forward.wgsl, which decoding keeps). Chunks of C <= 64 tokens; per row b and
// value head h (query/key head kh = h / (NV / NK)), in a chunk of L tokens entered with state S0 (DK, DV):
//   G_r = g_0 + .. + g_r;  M_rs = beta_r e^(G_r - G_s) k_r.k_s (s < r);  P_rs = scale e^(G_r - G_s) q_r.k_s (s <= r)
//   U = (I + M)^-1 (beta o V),  W = (I + M)^-1 (beta o e^G o K)               (entry point `prep_main`)
//   Delta = U - W S0;  O_r = scale e^(G_r) S0^T q_r + sum_{s<=r} P_rs Delta_s;
//   S_end = e^(G_L-1) S0 + sum_s e^(G_L-1 - G_s) k_s Delta_s^T                 (entry point `main`)
// Shapes: qkv (B, T, CD), CD = 2*NK*DK + NV*DV (per token q, k (l2-normalised), v); gb (B, T, NV, 2): g then beta;
//   prep: scratch of rows b0 .. b0+nb-1 (layout in lib/gated_delta_chunk_common.wgsl); out (B, T, NV, DV);
//   ckpt (B, NV, NC, DK, DV), NC = ceil(T / C): the state entering each chunk (for the backward);
//   state (B, NV, DK, DV): the initial state when has_init (else zero), overwritten by the final state when
//   has_final (bind any small tensor when neither is set).
// `prep_main`: one workgroup per (chunk, local row and head): G and beta in workgroup memory, M and P spread over the
//   invocations, then U and W by forward substitution, one invocation per column (columns are independent).
// `main`: one invocation per value column j of one (b, h), its state column in private memory (DK <= 128), the
//   chunks in order (no barrier: columns evolve independently).
// Bindings: 0 params (lib), 1 qkv (read), 2 gb (read), 3 prep (read_write), 4 out (write), 5 ckpt (write),
//   6 state (read_write). Overwrites prep (`prep_main`); out, ckpt (has_ckpt) and state (has_final) (`main`).
// Dispatch: `prep_main` (NC, nb * NV); `main` (ceil(DV / 64), nb * NV). Rows b0 .. b0 + nb - 1.

//#include gated_delta_chunk_common

@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> gb: array<f32>;
@group(0) @binding(3) var<storage, read_write> prep: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> ckpt: array<f32>;
@group(0) @binding(6) var<storage, read_write> state: array<f32>;

const WG = 64u;
var<workgroup> wG: array<f32, GDC_CMAX>;
var<workgroup> wBeta: array<f32, GDC_CMAX>;

@compute @workgroup_size(64)
fn prep_main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  let b = p.b0 + wid.y / p.NV;
  let h = wid.y % p.NV;
  let kh = h / (p.NV / p.NK);
  let t0 = c * p.C;
  let L = gdc_len(c);
  let CD = gdc_cd();
  let KD = p.NK * p.DK;
  let base = gdc_chunk(b, h, c) * gdc_prep_stride();
  if (lid == 0u) {
    var acc = 0.0;
    for (var r = 0u; r < L; r++) {
      let gi = (b * p.T + t0 + r) * p.NV + h;
      acc += gb[gi * 2u];
      wG[r] = acc;
      wBeta[r] = gb[gi * 2u + 1u];
      prep[base + r] = acc;
    }
  }
  workgroupBarrier();
  // M and P (zero outside their triangles)
  for (var e = lid; e < L * L; e += WG) {
    let r = e / L;
    let s = e % L;
    var m = 0.0;
    var pp = 0.0;
    if (s <= r) {
      let qr = (b * p.T + t0 + r) * CD + kh * p.DK;
      let ks = (b * p.T + t0 + s) * CD + KD + kh * p.DK;
      let kr = qr + KD;
      var qk = 0.0;
      var kk = 0.0;
      for (var i = 0u; i < p.DK; i++) {
        qk += qkv[qr + i] * qkv[ks + i];
        kk += qkv[kr + i] * qkv[ks + i];
      }
      let gam = exp(wG[r] - wG[s]);
      pp = p.scale * gam * qk;
      if (s < r) { m = wBeta[r] * gam * kk; }
    }
    prep[base + gdc_off_m() + r * L + s] = m;
    prep[base + gdc_off_p() + r * L + s] = pp;
  }
  storageBarrier();
  workgroupBarrier();
  // U (columns 0 .. DV-1) and W (columns DV .. DV+DK-1): X_r = rhs_r - sum_{s<r} M_rs X_s
  for (var col = lid; col < p.DV + p.DK; col += WG) {
    let isU = col < p.DV;
    let width = select(p.DK, p.DV, isU);
    let cc = select(col - p.DV, col, isU);
    let xo = base + select(gdc_off_w(), gdc_off_u(), isU);
    for (var r = 0u; r < L; r++) {
      let n = b * p.T + t0 + r;
      var x: f32;
      if (isU) {
        x = wBeta[r] * qkv[n * CD + 2u * KD + h * p.DV + cc];
      } else {
        x = wBeta[r] * exp(wG[r]) * qkv[n * CD + KD + kh * p.DK + cc];
      }
      for (var s = 0u; s < r; s++) { x -= prep[base + gdc_off_m() + r * L + s] * prep[xo + s * width + cc]; }
      prep[xo + r * width + cc] = x;
    }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = wid.x * WG + lid;
  if (j >= p.DV) { return; }
  let b = p.b0 + wid.y / p.NV;
  let h = wid.y % p.NV;
  let bh = b * p.NV + h;
  let kh = h / (p.NV / p.NK);
  let NC = gdc_nc();
  let CD = gdc_cd();
  let KD = p.NK * p.DK;
  var s: array<f32, GDC_DKMAX>;
  var dl: array<f32, GDC_CMAX>;
  for (var i = 0u; i < p.DK; i++) {
    s[i] = select(0.0, state[(bh * p.DK + i) * p.DV + j], p.has_init != 0u);
  }
  for (var c = 0u; c < NC; c++) {
    if (p.has_ckpt != 0u) {
      let cb = (bh * NC + c) * p.DK;
      for (var i = 0u; i < p.DK; i++) { ckpt[(cb + i) * p.DV + j] = s[i]; }
    }
    let t0 = c * p.C;
    let L = gdc_len(c);
    let base = gdc_chunk(b, h, c) * gdc_prep_stride();
    // Delta_r = U_r - W_r S0
    for (var r = 0u; r < L; r++) {
      var x = prep[base + gdc_off_u() + r * p.DV + j];
      let wo = base + gdc_off_w() + r * p.DK;
      for (var i = 0u; i < p.DK; i++) { x -= prep[wo + i] * s[i]; }
      dl[r] = x;
    }
    // O_r = scale e^(G_r) q_r.S0 + sum_{s<=r} P_rs Delta_s
    for (var r = 0u; r < L; r++) {
      let n = b * p.T + t0 + r;
      let qo = n * CD + kh * p.DK;
      var x = 0.0;
      for (var i = 0u; i < p.DK; i++) { x += qkv[qo + i] * s[i]; }
      x *= p.scale * exp(prep[base + r]);
      let po = base + gdc_off_p() + r * L;
      for (var u = 0u; u <= r; u++) { x += prep[po + u] * dl[u]; }
      out[(n * p.NV + h) * p.DV + j] = x;
    }
    // S_end = e^(G_L-1) S0 + sum_r e^(G_L-1 - G_r) k_r Delta_r
    let GL = prep[base + L - 1u];
    let eL = exp(GL);
    for (var i = 0u; i < p.DK; i++) { s[i] *= eL; }
    for (var r = 0u; r < L; r++) {
      let f = exp(GL - prep[base + r]) * dl[r];
      let ko = (b * p.T + t0 + r) * CD + KD + kh * p.DK;
      for (var i = 0u; i < p.DK; i++) { s[i] += qkv[ko + i] * f; }
    }
  }
  if (p.has_final != 0u) {
    for (var i = 0u; i < p.DK; i++) { state[(bh * p.DK + i) * p.DV + j] = s[i]; }
  }
}
