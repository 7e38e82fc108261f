// Causal self-attention forward with grouped-query attention, flash-attention style (one pass, online
// softmax; the (T, T) score matrix is never stored).
//   G = NH / NKV; query head h reads kv head g = h / G; scale = 1 / sqrt(HS)
//   s[t, j]        = scale * q[b, t, h, :] . k[b, j, g, :]          for j <= t (causal)
//   out[b, t, h, :] = sum_j exp(s[t, j] - lse[b, h, t]) * v[b, j, g, :]
//   lse[b, h, t]    = log(sum_{j <= t} exp(s[t, j]))    computed as m + log(sum exp(s - m)), m = row max
// Shapes: q, out (B, T, NH, HS); k, v (B, T, NKV, HS); lse (B, NH, T). All row-major, contiguous.
// Bindings: 0 params {T, NH, NKV, HS, G, scale}; 1 q (read), 2 k (read), 3 v (read), 4 out (write),
//           5 lse (write).
// Dispatch: (ceil(T * G / BQ), NKV, B). A workgroup owns BQ "rows" of kv head g: row R = t * G + i is
//   query position t of head g * G + i, so one K/V tile in workgroup memory serves every query head of
//   the group. Thread (r, c) = (lid / HS4, lid % HS4) owns the output dims 4c..4c+3 of row r; it keeps
//   its row's running max m and sum l in registers (every thread of a row computes the same values).
//   Keys are visited in tiles of BK up to the block's last position; rows past T * G are idle.
// Saves for backward: lse. Overwrites out and lse.
// Overrides: HS4 = ceil(HS / 4) (dims are handled as vec4, a ragged tail is zero-padded), BQ rows per
//   workgroup, BK keys per tile; the workgroup size is BQ * HS4. KS (derived, do not set) pads rows of
//   the K tile by one vec4 so that threads reading different keys hit different banks.

struct Params { T: u32, NH: u32, NKV: u32, HS: u32, G: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

override HS4: u32 = 16u;
override BQ: u32 = 16u;
override BK: u32 = 16u;
override KS: u32 = HS4 + 1u;

// a finite "minus infinity": exp(NEG_BIG - x) underflows to 0 for any real score x
const NEG_BIG: f32 = -3.0e38;

var<workgroup> qs: array<vec4f, BQ * HS4>;  // q * scale, rows of the block
var<workgroup> ks: array<vec4f, BK * KS>;   // key tile, row stride KS
var<workgroup> vs: array<vec4f, BK * HS4>;  // value tile
var<workgroup> ss: array<f32, BQ * BK>;     // scores of the tile

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

@compute @workgroup_size(BQ * HS4)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let g = wid.y;
  let G = p.G;
  let TG = p.T * G;
  let R0 = wid.x * BQ;
  let r = lid / HS4;
  let c = lid % HS4;
  let R = R0 + r;
  let rowValid = R < TG;
  let t = R / G;
  let h = g * G + R % G;
  let qBase = ((b * p.T + t) * p.NH + h) * p.HS;

  var q4 = vec4f(0.0);
  if (rowValid) { q4 = load_q(qBase, c) * p.scale; }
  qs[lid] = q4;

  let tLast = min(p.T - 1u, (R0 + BQ - 1u) / G);
  let nTiles = tLast / BK + 1u;
  var m = NEG_BIG;
  var l = 0.0;
  var acc = vec4f(0.0);
  for (var kt = 0u; kt < nTiles; kt++) {
    let j0 = kt * BK;
    workgroupBarrier(); // the previous tile is no longer read (and, on the first pass, qs is written)
    for (var e = lid; e < BK * HS4; e += BQ * HS4) {
      let j = e / HS4;
      let cc = e % HS4;
      let key = j0 + j;
      var k4 = vec4f(0.0);
      var v4 = vec4f(0.0);
      if (key < p.T) {
        let base = ((b * p.T + key) * p.NKV + g) * p.HS;
        k4 = load_k(base, cc);
        v4 = load_v(base, cc);
      }
      ks[j * KS + cc] = k4;
      vs[j * HS4 + cc] = v4;
    }
    workgroupBarrier();
    for (var e = lid; e < BQ * BK; e += BQ * HS4) {
      let rr = e / BK;
      let key = j0 + e % BK;
      var s = 0.0;
      if (R0 + rr < TG && key <= (R0 + rr) / G) {
        let qo = rr * HS4;
        let ko = (e % BK) * KS;
        for (var c2 = 0u; c2 < HS4; c2++) { s += dot(qs[qo + c2], ks[ko + c2]); }
      }
      ss[e] = s;
    }
    workgroupBarrier();
    if (rowValid && t >= j0) {
      let nv = min(BK, t + 1u - j0);
      let so = r * BK;
      var mx = m;
      for (var j = 0u; j < nv; j++) { mx = max(mx, ss[so + j]); }
      let alpha = exp(m - mx);
      var sum = 0.0;
      var pv = vec4f(0.0);
      for (var j = 0u; j < nv; j++) {
        let pj = exp(ss[so + j] - mx);
        sum += pj;
        pv += pj * vs[j * HS4 + c];
      }
      l = l * alpha + sum;
      acc = acc * alpha + pv;
      m = mx;
    }
  }

  if (rowValid) {
    let o = acc / l;
    let d = 4u * c;
    for (var i = 0u; i < 4u && d + i < p.HS; i++) { out[qBase + d + i] = o[i]; }
    if (c == 0u) { lse[(b * p.NH + h) * p.T + t] = m + log(l); }
  }
}
