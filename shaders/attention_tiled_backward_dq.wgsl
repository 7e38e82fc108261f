// Causal GQA attention backward, pass 1 of 2, with K/V tiles in workgroup memory: the GPU-class variant
// of attention_backward_dq.wgsl (same math and outputs): dq, and D = rowsum(dout * out) for pass 2.
//   s[t, j]  = scale * q[b, t, h, :] . k[b, j, g, :]   (j <= t, and t - j < WINDOW when WINDOW > 0;
//              g = h / G, G = NH / NKV)
//   P[t, j]  = exp(s[t, j] - lse[b, h, t])
//   dP[t, j] = dout[b, t, h, :] . v[b, j, g, :]
//   D[t]     = sum_d dout[b, t, h, d] * out[b, t, h, d]       (= sum_j P dP)
//   dS[t, j] = P[t, j] * (dP[t, j] - D[t])
//   dq[b, t, h, :] = scale * sum_{j <= t} dS[t, j] * k[b, j, g, :]
// Shapes: dout, q, out, dq (B, T, NH, HS); k, v (B, T, NKV, HS); lse, dsum (B, NH, T).
// Bindings: 0 params {T, NH, NKV, G, scale}; 1 dout, 2 q, 3 k, 4 v, 5 out, 6 lse (read);
//           7 dq (write), 8 dsum (write: D, read by attention_tiled_backward_dkv.wgsl).
// Dispatch: (ceil(T * G / BQ), NKV, B), BQ = 4 * RG; rows R = t * G + i as in attention_forward.wgsl.
//   First one invocation per row forms D. Then per tile of BK keys:
//   0. the workgroup copies the tile's keys and values into kt and vt (coalesced);
//   1. RG * BK / 4 blocks of 4 rows x 4 keys, each split over S slices of HS4 / S dims (S * BK = 4 * HS4:
//      one per invocation): the invocations compute partial blocks of s and dP (q, dout from memory; k, v
//      from the tiles) into ps, pd;
//   2. one invocation per block sums the S partials (in slice order) and forms dS into slice 0 of ps
//      (0 where masked);
//   3. invocation (rg, c) = (lid / HS4, lid % HS4) adds dS k (k from kt) to dims 4c..4c+3 of rows
//      4rg..4rg+3, held in registers, in key order (deterministic).
// Overwrites dq and dsum.
// Overrides: HS4 = HS / 4 (HS a multiple of 4), RG row groups of 4 per workgroup, BK keys per tile (a
//   multiple of 4), S dim slices (a divisor of HS4); the workgroup size is RG * HS4. WINDOW: 0 for full
//   causal attention, else the sliding window. Workgroup memory: 16 * (2 * BK * HS4 + 2 * S * RG * BK)
//   + 32 * RG bytes.

struct Params { T: u32, NH: u32, NKV: u32, G: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<vec4f>;
@group(0) @binding(2) var<storage, read> q: array<vec4f>;
@group(0) @binding(3) var<storage, read> k: array<vec4f>;
@group(0) @binding(4) var<storage, read> v: array<vec4f>;
@group(0) @binding(5) var<storage, read> out: array<vec4f>;
@group(0) @binding(6) var<storage, read> lse: array<f32>;
@group(0) @binding(7) var<storage, read_write> dq: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> dsum: array<f32>;

override HS4: u32 = 16u;
override RG: u32 = 4u;
override S: u32 = 1u;
override WINDOW: u32 = 0u;
override SEGMENTED: bool = false; // attention_rows' index window; the tiled kernels take no mask

override BK: u32 = 16u;

var<workgroup> kt: array<vec4f, BK * HS4>;      // [key j][dim c]
var<workgroup> vt: array<vec4f, BK * HS4>;      // [key j][dim c]
var<workgroup> ps: array<vec4f, S * RG * BK>;   // [slice][key j][row group]: partial s of 4 rows, then dS
var<workgroup> pd: array<vec4f, S * RG * BK>;   // [slice][key j][row group]: partial dP of 4 rows
var<workgroup> rowLse: array<f32, 4u * RG>;
var<workgroup> rowD: array<f32, 4u * RG>;

//#include attention_rows

@compute @workgroup_size(RG * HS4)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let g = wid.y;
  let G = p.G;
  let TG = p.T * G;
  let BQ = 4u * RG;
  let WG = RG * HS4;
  let NB = RG * (BK / 4u);
  let CS = HS4 / S;
  let R0 = wid.x * BQ;

  for (var rr = lid; rr < BQ; rr += WG) {
    let R = R0 + rr;
    var D = 0.0;
    var L = 0.0;
    if (R < TG) {
      let base = row_base(b, g, R);
      for (var c2 = 0u; c2 < HS4; c2++) { D += dot(dout[base + c2], out[base + c2]); }
      L = lse[row_index(b, g, R)];
      dsum[row_index(b, g, R)] = D;
    }
    rowD[rr] = D;
    rowLse[rr] = L;
  }

  let tLast = (min(R0 + BQ, TG) - 1u) / G;
  let nTiles = tLast / BK + 1u;
  let kStart = first_key_tile(R0, BK);
  let rg = lid / HS4;
  let c = lid % HS4;
  let RA = R0 + 4u * rg;
  var g0 = vec4f(0.0);
  var g1 = vec4f(0.0);
  var g2 = vec4f(0.0);
  var g3 = vec4f(0.0);
  for (var kt0 = kStart; kt0 < nTiles; kt0++) {
    let j0 = kt0 * BK;
    let nk = min(BK, p.T - j0);
    workgroupBarrier(); // the tiles and ps of the previous tile are no longer read; rowD / rowLse are written

    // 0. the tile's keys and values
    for (var e = lid; e < nk * HS4; e += WG) {
      let src = key_base(b, g, j0 + e / HS4) + e % HS4;
      kt[e] = k[src];
      vt[e] = v[src];
    }
    workgroupBarrier();

    // 1. partial s and dP of 4 x 4 blocks, slice sl of the dims
    for (var w = lid; w < NB * S; w += WG) {
      let blk = w % NB;
      let sl = w / NB;
      let rb = blk % RG;
      let kb = blk / RG;
      let rA = R0 + 4u * rb;
      let keyA = j0 + 4u * kb;
      if (rA < TG && keyA <= min(rA + 3u, TG - 1u) / G) {
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
        var dp0 = vec4f(0.0);
        var dp1 = vec4f(0.0);
        var dp2 = vec4f(0.0);
        var dp3 = vec4f(0.0);
        for (var c2 = sl * CS; c2 < (sl + 1u) * CS; c2++) {
          let qm = mat4x4f(q[qb0 + c2], q[qb1 + c2], q[qb2 + c2], q[qb3 + c2]);
          let dm = mat4x4f(dout[qb0 + c2], dout[qb1 + c2], dout[qb2 + c2], dout[qb3 + c2]);
          s0 += kt[k0 + c2] * qm;
          s1 += kt[k1 + c2] * qm;
          s2 += kt[k2 + c2] * qm;
          s3 += kt[k3 + c2] * qm;
          dp0 += vt[k0 + c2] * dm;
          dp1 += vt[k1 + c2] * dm;
          dp2 += vt[k2 + c2] * dm;
          dp3 += vt[k3 + c2] * dm;
        }
        let o = sl * RG * BK + 4u * kb * RG + rb;
        ps[o] = s0;
        ps[o + RG] = s1;
        ps[o + 2u * RG] = s2;
        ps[o + 3u * RG] = s3;
        pd[o] = dp0;
        pd[o + RG] = dp1;
        pd[o + 2u * RG] = dp2;
        pd[o + 3u * RG] = dp3;
      }
    }
    workgroupBarrier();

    // 2. dS of each block into slice 0 of ps (zeros for masked entries and skipped blocks)
    for (var blk = lid; blk < NB; blk += WG) {
      let rb = blk % RG;
      let kb = blk / RG;
      let rA = R0 + 4u * rb;
      let keyA = j0 + 4u * kb;
      var ds = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
      if (rA < TG && keyA <= min(rA + 3u, TG - 1u) / G) {
        let rLast = TG - 1u;
        let rl = 4u * rb;
        let lse4 = vec4f(rowLse[rl], rowLse[rl + 1u], rowLse[rl + 2u], rowLse[rl + 3u]);
        let d4 = vec4f(rowD[rl], rowD[rl + 1u], rowD[rl + 2u], rowD[rl + 3u]);
        let t4 = vec4u(rA / G, min(rA + 1u, rLast) / G, min(rA + 2u, rLast) / G, min(rA + 3u, rLast) / G);
        for (var e = 0u; e < 4u; e++) {
          let o = (4u * kb + e) * RG + rb;
          var s = ps[o];
          var dp = pd[o];
          for (var sl = 1u; sl < S; sl++) {
            s += ps[sl * RG * BK + o];
            dp += pd[sl * RG * BK + o];
          }
          // P <= 1 since lse >= s; the min() keeps masked entries finite before select() drops them
          ds[e] = attention_ds(s, lse4, dp, d4, seen(vec4u(keyA + e), t4));
        }
      }
      for (var e = 0u; e < 4u; e++) { ps[(4u * kb + e) * RG + rb] = ds[e]; }
    }
    workgroupBarrier();

    // 3. dq += dS k over the keys any of the 4 rows sees, in key order
    if (RA < TG) {
      let tg = min(RA + 3u, TG - 1u) / G;
      var nvg = 0u;
      if (tg >= j0) { nvg = min(BK, tg + 1u - j0); }
      for (var j = 0u; j < nvg; j++) {
        let k4 = kt[j * HS4 + c];
        let dj = ps[j * RG + rg];
        g0 += dj.x * k4;
        g1 += dj.y * k4;
        g2 += dj.z * k4;
        g3 += dj.w * k4;
      }
    }
  }

  for (var i = 0u; i < 4u; i++) {
    let R = RA + i;
    if (R < TG) {
      var a = g0;
      if (i == 1u) { a = g1; } else if (i == 2u) { a = g2; } else if (i == 3u) { a = g3; }
      dq[row_base(b, g, R) + c] = a * p.scale;
    }
  }
}
