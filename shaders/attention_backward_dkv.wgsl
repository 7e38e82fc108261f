// Causal GQA attention backward, pass 2 of 2: dk and dv (needs dsum = D from attention_backward_dq.wgsl).
//   with s, P, dP, D, dS as in attention_backward_dq.wgsl, for kv head g and key position j:
//   dv[b, j, g, :] = sum_{h in group g} sum_{t >= j} P[t, j] * dout[b, t, h, :]
//   dk[b, j, g, :] = sum_{h in group g} sum_{t >= j} dS[t, j] * scale * q[b, t, h, :]
// The sum over the G = NH / NKV query heads of a group is part of the row loop, so every element of dk and
// dv is owned by one thread and summed in a fixed order (deterministic, no atomics).
// Shapes: dout, q (B, T, NH, HS); k, v, dk, dv (B, T, NKV, HS); lse, dsum (B, NH, T).
// Bindings: 0 params {T, NH, NKV, HS, G, scale}; 1 dout, 2 q, 3 k, 4 v, 5 lse, 6 dsum (read);
//           7 dk (write), 8 dv (write).
// Dispatch: (ceil(T / BK), NKV, B). A workgroup owns BK key positions of kv head g; thread (j, c) =
//   (lid / HS4, lid % HS4) owns dims 4c..4c+3 of dk and dv for key j. It visits the query rows
//   R = t * G + i with t >= the block's first key, BQ rows at a time (rows in head-major order within a
//   position, as in the forward).
// Overwrites dk and dv.
// Overrides: HS4 = ceil(HS / 4), BK keys per workgroup, BQ rows per tile; workgroup size BK * HS4; KS
//   derived (padded row stride of the K and V tiles, do not set).

struct Params { T: u32, NH: u32, NKV: u32, HS: u32, G: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> dsum: array<f32>;
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;

override HS4: u32 = 16u;
override BK: u32 = 16u;
override BQ: u32 = 8u;
override KS: u32 = HS4 + 1u;

var<workgroup> ks: array<vec4f, BK * KS>;
var<workgroup> vs: array<vec4f, BK * KS>;
var<workgroup> qs: array<vec4f, BQ * HS4>;   // q * scale
var<workgroup> dos: array<vec4f, BQ * HS4>;  // dout
var<workgroup> ps: array<f32, BQ * BK>;      // P of the tile
var<workgroup> dss: array<f32, BQ * BK>;     // dS of the tile
var<workgroup> rowLse: array<f32, BQ>;
var<workgroup> rowD: array<f32, BQ>;

fn load_dout(base: u32, c: u32) -> vec4f {
  let d = 4u * c;
  if (d + 4u <= p.HS) { return vec4f(dout[base + d], dout[base + d + 1u], dout[base + d + 2u], dout[base + d + 3u]); }
  var r = vec4f(0.0);
  for (var i = 0u; d + i < p.HS; i++) { r[i] = dout[base + d + i]; }
  return r;
}

fn load_q(base: u32, c: u32) -> vec4f {
  let d = 4u * c;
  if (d + 4u <= p.HS) { return vec4f(q[base + d], q[base + d + 1u], q[base + d + 2u], q[base + d + 3u]); }
  var r = vec4f(0.0);
  for (var i = 0u; d + i < p.HS; i++) { r[i] = q[base + d + i]; }
  return r;
}

fn load_k(base: u32, c: u32) -> vec4f {
  let d = 4u * c;
  if (d + 4u <= p.HS) { return vec4f(k[base + d], k[base + d + 1u], k[base + d + 2u], k[base + d + 3u]); }
  var r = vec4f(0.0);
  for (var i = 0u; d + i < p.HS; i++) { r[i] = k[base + d + i]; }
  return r;
}

fn load_v(base: u32, c: u32) -> vec4f {
  let d = 4u * c;
  if (d + 4u <= p.HS) { return vec4f(v[base + d], v[base + d + 1u], v[base + d + 2u], v[base + d + 3u]); }
  var r = vec4f(0.0);
  for (var i = 0u; d + i < p.HS; i++) { r[i] = v[base + d + i]; }
  return r;
}

@compute @workgroup_size(BK * HS4)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let g = wid.y;
  let G = p.G;
  let TG = p.T * G;
  let j0 = wid.x * BK;
  let j = lid / HS4;
  let c = lid % HS4;
  let key = j0 + j;
  let keyValid = key < p.T;
  let kb = ((b * p.T + key) * p.NKV + g) * p.HS;

  var k4 = vec4f(0.0);
  var v4 = vec4f(0.0);
  if (keyValid) {
    k4 = load_k(kb, c);
    v4 = load_v(kb, c);
  }
  ks[j * KS + c] = k4;
  vs[j * KS + c] = v4;

  // rows before j0 * G attend only to keys < j0
  let rStart = j0 * G;
  let nTiles = (TG - rStart + BQ - 1u) / BQ;
  var dk4 = vec4f(0.0);
  var dv4 = vec4f(0.0);
  for (var rt = 0u; rt < nTiles; rt++) {
    let Rb = rStart + rt * BQ;
    workgroupBarrier(); // the previous row tile is no longer read (first pass: ks and vs are written)
    for (var e = lid; e < BQ * HS4; e += BK * HS4) {
      let R = Rb + e / HS4;
      var q4 = vec4f(0.0);
      var do4 = vec4f(0.0);
      if (R < TG) {
        let base = ((b * p.T + R / G) * p.NH + g * G + R % G) * p.HS;
        q4 = load_q(base, e % HS4) * p.scale;
        do4 = load_dout(base, e % HS4);
      }
      qs[e] = q4;
      dos[e] = do4;
    }
    for (var e = lid; e < BQ; e += BK * HS4) {
      let R = Rb + e;
      var L = 0.0;
      var D = 0.0;
      if (R < TG) {
        let ri = (b * p.NH + g * G + R % G) * p.T + R / G;
        L = lse[ri];
        D = dsum[ri];
      }
      rowLse[e] = L;
      rowD[e] = D;
    }
    workgroupBarrier();
    for (var e = lid; e < BQ * BK; e += BK * HS4) {
      let rr = e / BK;
      let jj = e % BK;
      let R = Rb + rr;
      var pp = 0.0;
      var ds = 0.0;
      if (R < TG && j0 + jj <= R / G) {
        let qo = rr * HS4;
        let ko = jj * KS;
        var s = 0.0;
        var dp = 0.0;
        for (var c2 = 0u; c2 < HS4; c2++) {
          s += dot(qs[qo + c2], ks[ko + c2]);
          dp += dot(dos[qo + c2], vs[ko + c2]);
        }
        pp = exp(s - rowLse[rr]);
        ds = pp * (dp - rowD[rr]);
      }
      ps[e] = pp;
      dss[e] = ds;
    }
    workgroupBarrier();
    for (var rr = 0u; rr < BQ; rr++) {
      let e = rr * BK + j;
      dv4 += ps[e] * dos[rr * HS4 + c];
      dk4 += dss[e] * qs[rr * HS4 + c];
    }
  }

  if (keyValid) {
    let d = 4u * c;
    for (var i = 0u; i < 4u && d + i < p.HS; i++) {
      dk[kb + d + i] = dk4[i];
      dv[kb + d + i] = dv4[i];
    }
  }
}
