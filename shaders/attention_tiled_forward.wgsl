// Causal GQA self-attention forward with K/V tiles in workgroup memory: the GPU-class variant of
// attention_forward.wgsl for long sequences (T >= 256) and head sizes 64..256 on hardware adapters. Same
// math, same outputs, same dispatch of rows (flash-attention style: one pass with an online softmax, the
// (T, T) score matrix is never stored):
//   G = NH / NKV; query head h reads kv head g = h / G
//   s[t, j]         = scale * q[b, t, h, :] . k[b, j, g, :]          for j <= t (causal), and
//                     t - j < WINDOW when WINDOW > 0 (sliding-window attention)
//   out[b, t, h, :] = sum_j exp(s[t, j] - lse[b, h, t]) * v[b, j, g, :]
//   lse[b, h, t]    = log(sum_j exp(s[t, j]))    computed as m + log(sum exp(s - m)), m = row max
// Shapes: q, out (B, T, NH, HS); k, v (B, T, NKV, HS); lse (B, NH, T). All row-major, contiguous.
// Bindings: 0 params {T, NH, NKV, G, scale}; 1 q (read), 2 k (read), 3 v (read), 4 out (write),
//           5 lse (write).
// Dispatch: (ceil(T * G / BQ), NKV, B), BQ = 4 * RG; rows R = t * G + i of kv head g as in
//   attention_forward.wgsl (one pass over the keys serves every query head of the group). Per tile of BK keys:
//   0. the workgroup copies the tile's keys into kv (coalesced: neighbouring invocations read neighbouring
//      vec4s), so each key is read from memory once per workgroup instead of once per row group;
//   1. scores: RG * BK / 4 blocks of 4 rows x 4 keys, each split over S slices of HS4 / S dims (S * BK =
//      4 * HS4 gives the RG * HS4 invocations one partial block each), q from memory, k from kv, into part;
//   2. softmax: one invocation per row sums the S partials of its scores (in slice order), scales them,
//      updates the row's running max m and sum l and turns the scores into probabilities exp(s - m);
//      meanwhile the workgroup copies the tile's values into kv (the scores no longer need the keys);
//   3. p v: invocation (rg, c) = (lid / HS4, lid % HS4) owns output dims 4c..4c+3 of rows 4rg..4rg+3 in
//      registers, rescales them by exp(m_old - m_new) and adds p v (v from kv).
//   Blocks above the diagonal are skipped; rows past T * G are idle.
// Saves for backward: lse. Overwrites out and lse.
// Overrides: HS4 = HS / 4 (HS a multiple of 4: the (.., HS) tensors are read as vec4s), RG row groups of 4
//   per workgroup, BK keys per tile (a multiple of 4), S dim slices (a divisor of HS4); the workgroup size
//   is RG * HS4. WINDOW: 0 for full causal attention, else the sliding window (tiles wholly before every
//   row's window are skipped). Workgroup memory: 16 * (BK * HS4 + S * RG * BK) + 48 * RG bytes
//   (src/gpu/kernels/attention_tiled.ts picks the shape that fits the device).

struct Params { T: u32, NH: u32, NKV: u32, G: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> q: array<vec4f>;
@group(0) @binding(2) var<storage, read> k: array<vec4f>;
@group(0) @binding(3) var<storage, read> v: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

override HS4: u32 = 16u;
override RG: u32 = 4u;
override S: u32 = 1u;
override WINDOW: u32 = 0u;
override SEGMENTED: bool = false; // attention_rows' index window; the tiled kernels take no mask

override BK: u32 = 16u;

var<workgroup> kv: array<vec4f, BK * HS4>;        // [key j][dim c]: the tile's keys, then its values
var<workgroup> part: array<vec4f, S * RG * BK>;   // [slice][key j][row group]: partial scores of 4 rows
var<workgroup> rowM: array<f32, 4u * RG>;
var<workgroup> rowL: array<f32, 4u * RG>;
var<workgroup> rowAlpha: array<f32, 4u * RG>;

//#include attention_rows

@compute @workgroup_size(RG * HS4)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let g = wid.y;
  let G = p.G;
  let TG = p.T * G;
  let BQ = 4u * RG;
  let WG = RG * HS4;
  let NB = RG * (BK / 4u); // score blocks per tile
  let CS = HS4 / S;        // vec4 dims per slice
  let R0 = wid.x * BQ;
  for (var rr = lid; rr < BQ; rr += WG) {
    rowM[rr] = NEG_BIG;
    rowL[rr] = 0.0;
  }

  let tLast = (min(R0 + BQ, TG) - 1u) / G;
  let nTiles = tLast / BK + 1u;
  let kStart = first_key_tile(R0, BK);
  let rg = lid / HS4;
  let c = lid % HS4;
  let RA = R0 + 4u * rg;
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var kt = kStart; kt < nTiles; kt++) {
    let j0 = kt * BK;
    let nk = min(BK, p.T - j0); // keys of this tile that exist
    workgroupBarrier(); // kv (values) and part of the previous tile are no longer read

    // 0. the tile's keys into kv
    for (var e = lid; e < nk * HS4; e += WG) { kv[e] = k[key_base(b, g, j0 + e / HS4) + e % HS4]; }
    workgroupBarrier();

    // 1. partial scores: invocation lid computes block blk of slice sl
    for (var w = lid; w < NB * S; w += WG) {
      let blk = w % NB;
      let sl = w / NB;
      let rb = blk % RG;
      let kb = blk / RG;
      let rA = R0 + 4u * rb;
      let keyA = j0 + 4u * kb;
      if (rA < TG && keyA <= min(rA + 3u, TG - 1u) / G) {
        // rows and keys past the end are clamped to valid ones; their results are never used
        let rLast = TG - 1u;
        let qb0 = row_base(b, g, rA);
        let qb1 = row_base(b, g, min(rA + 1u, rLast));
        let qb2 = row_base(b, g, min(rA + 2u, rLast));
        let qb3 = row_base(b, g, min(rA + 3u, rLast));
        let kl = 4u * kb;
        let k0 = kl * HS4;
        let k1 = min(kl + 1u, nk - 1u) * HS4;
        let k2 = min(kl + 2u, nk - 1u) * HS4;
        let k3 = min(kl + 3u, nk - 1u) * HS4;
        var s0 = vec4f(0.0);
        var s1 = vec4f(0.0);
        var s2 = vec4f(0.0);
        var s3 = vec4f(0.0);
        for (var c2 = sl * CS; c2 < (sl + 1u) * CS; c2++) {
          let qm = mat4x4f(q[qb0 + c2], q[qb1 + c2], q[qb2 + c2], q[qb3 + c2]);
          s0 += kv[k0 + c2] * qm;
          s1 += kv[k1 + c2] * qm;
          s2 += kv[k2 + c2] * qm;
          s3 += kv[k3 + c2] * qm;
        }
        let o = sl * RG * BK + 4u * kb * RG + rb;
        part[o] = s0;
        part[o + RG] = s1;
        part[o + 2u * RG] = s2;
        part[o + 3u * RG] = s3;
      }
    }
    workgroupBarrier();

    // 2. online softmax per row over the keys [js, nv) of the tile it sees, into slice 0 of part; masked
    //    and missing entries become 0
    for (var rr = lid; rr < BQ; rr += WG) {
      let R = R0 + rr;
      let pr = rr / 4u;
      let pc = rr % 4u;
      let keys = row_tile_keys(R, TG, j0, BK);
      let js = keys.x;
      let nv = keys.y;
      var alpha = 1.0;
      if (nv > js) {
        let m = rowM[rr];
        var mx = m;
        for (var j = js; j < nv; j++) {
          var sc = part[j * RG + pr][pc];
          for (var sl = 1u; sl < S; sl++) { sc += part[sl * RG * BK + j * RG + pr][pc]; }
          sc *= p.scale;
          part[j * RG + pr][pc] = sc;
          mx = max(mx, sc);
        }
        alpha = exp(m - mx);
        var sum = 0.0;
        for (var j = js; j < nv; j++) {
          let e = exp(part[j * RG + pr][pc] - mx);
          part[j * RG + pr][pc] = e;
          sum += e;
        }
        rowL[rr] = rowL[rr] * alpha + sum;
        rowM[rr] = mx;
      }
      for (var j = 0u; j < js; j++) { part[j * RG + pr][pc] = 0.0; }
      for (var j = max(nv, js); j < BK; j++) { part[j * RG + pr][pc] = 0.0; }
      rowAlpha[rr] = alpha;
    }
    // the tile's values into kv (step 1, the last reader of the keys, ended at the barrier above)
    for (var e = lid; e < nk * HS4; e += WG) { kv[e] = v[key_base(b, g, j0 + e / HS4) + e % HS4]; }
    workgroupBarrier();

    // 3. rescale the accumulators and add p v for the keys any of the 4 rows sees
    if (RA < TG) {
      let tg = min(RA + 3u, TG - 1u) / G;
      var nvg = 0u;
      if (tg >= j0) { nvg = min(BK, tg + 1u - j0); }
      a0 *= rowAlpha[4u * rg];
      a1 *= rowAlpha[4u * rg + 1u];
      a2 *= rowAlpha[4u * rg + 2u];
      a3 *= rowAlpha[4u * rg + 3u];
      for (var j = 0u; j < nvg; j++) {
        let v4 = kv[j * HS4 + c];
        let pj = part[j * RG + rg];
        a0 += pj.x * v4;
        a1 += pj.y * v4;
        a2 += pj.z * v4;
        a3 += pj.w * v4;
      }
    }
  }

  // rowM and rowL are final: the last writes were before the last barrier
  for (var i = 0u; i < 4u; i++) {
    let R = RA + i;
    if (R < TG) {
      var a = a0;
      if (i == 1u) { a = a1; } else if (i == 2u) { a = a2; } else if (i == 3u) { a = a3; }
      let rr = 4u * rg + i;
      out[row_base(b, g, R) + c] = a / rowL[rr];
      if (c == 0u) { lse[(b * p.NH + g * G + R % G) * p.T + R / G] = rowM[rr] + log(rowL[rr]); }
    }
  }
}
