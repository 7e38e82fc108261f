// Causal GQA attention backward, pass 1 of 2: dq, and D = rowsum(dout * out) for pass 2.
// Flash-attention style: the probabilities are recomputed from the saved lse, never stored.
//   s[t, j]  = scale * q[b, t, h, :] . k[b, j, g, :]   (j <= t; g = h / G, G = NH / NKV)
//   P[t, j]  = exp(s[t, j] - lse[b, h, t])
//   dP[t, j] = dout[b, t, h, :] . v[b, j, g, :]
//   D[t]     = sum_d dout[b, t, h, d] * out[b, t, h, d]       (= sum_j P dP)
//   dS[t, j] = P[t, j] * (dP[t, j] - D[t])
//   dq[b, t, h, :] = scale * sum_{j <= t} dS[t, j] * k[b, j, g, :]
// Shapes: dout, q, out, dq (B, T, NH, HS); k, v (B, T, NKV, HS); lse, dsum (B, NH, T).
// Bindings: 0 params {T, NH, NKV, HS, G, scale}; 1 dout, 2 q, 3 k, 4 v, 5 out, 6 lse (read);
//           7 dq (write), 8 dsum (write: D, read by attention_backward_dkv.wgsl).
// Dispatch: (ceil(T * G / BQ), NKV, B); rows R = t * G + i as in attention_forward.wgsl. Thread (r, c) owns
//   dims 4c..4c+3 of dq for row r and sums over key tiles of BK in order (deterministic).
// Overwrites dq and dsum.
// Overrides: HS4 = ceil(HS / 4), BQ rows, BK keys per tile; workgroup size BQ * HS4; KS derived (padded
//   row stride of the K and V tiles, do not set).

struct Params { T: u32, NH: u32, NKV: u32, HS: u32, G: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read> out: array<f32>;
@group(0) @binding(6) var<storage, read> lse: array<f32>;
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;
@group(0) @binding(8) var<storage, read_write> dsum: array<f32>;

override HS4: u32 = 16u;
override BQ: u32 = 16u;
override BK: u32 = 8u;
override KS: u32 = HS4 + 1u;

var<workgroup> qs: array<vec4f, BQ * HS4>;   // q * scale
var<workgroup> dos: array<vec4f, BQ * HS4>;  // dout
var<workgroup> ks: array<vec4f, BK * KS>;
var<workgroup> vs: array<vec4f, BK * KS>;
var<workgroup> dss: array<f32, BQ * BK>;     // dS of the tile
var<workgroup> part: array<f32, BQ * HS4>;   // dout . out per vec4, summed into D
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

fn load_out(base: u32, c: u32) -> vec4f {
  let d = 4u * c;
  if (d + 4u <= p.HS) { return vec4f(out[base + d], out[base + d + 1u], out[base + d + 2u], out[base + d + 3u]); }
  var r = vec4f(0.0);
  for (var i = 0u; d + i < p.HS; i++) { r[i] = out[base + d + i]; }
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
  let base = ((b * p.T + t) * p.NH + h) * p.HS;
  let rowIndex = (b * p.NH + h) * p.T + t; // into lse and dsum

  var q4 = vec4f(0.0);
  var do4 = vec4f(0.0);
  var o4 = vec4f(0.0);
  if (rowValid) {
    q4 = load_q(base, c) * p.scale;
    do4 = load_dout(base, c);
    o4 = load_out(base, c);
  }
  qs[lid] = q4;
  dos[lid] = do4;
  part[lid] = dot(do4, o4);
  workgroupBarrier();
  if (c == 0u) {
    var D = 0.0;
    for (var c2 = 0u; c2 < HS4; c2++) { D += part[r * HS4 + c2]; }
    rowD[r] = D;
    var L = 0.0;
    if (rowValid) {
      L = lse[rowIndex];
      dsum[rowIndex] = D;
    }
    rowLse[r] = L;
  }

  let tLast = min(p.T - 1u, (R0 + BQ - 1u) / G);
  let nTiles = tLast / BK + 1u;
  var acc = vec4f(0.0);
  for (var kt = 0u; kt < nTiles; kt++) {
    let j0 = kt * BK;
    workgroupBarrier(); // the previous tile is no longer read (first pass: rowD and rowLse are written)
    for (var e = lid; e < BK * HS4; e += BQ * HS4) {
      let j = e / HS4;
      let cc = e % HS4;
      let key = j0 + j;
      var k4 = vec4f(0.0);
      var v4 = vec4f(0.0);
      if (key < p.T) {
        let kb = ((b * p.T + key) * p.NKV + g) * p.HS;
        k4 = load_k(kb, cc);
        v4 = load_v(kb, cc);
      }
      ks[j * KS + cc] = k4;
      vs[j * KS + cc] = v4;
    }
    workgroupBarrier();
    for (var e = lid; e < BQ * BK; e += BQ * HS4) {
      let rr = e / BK;
      let jj = e % BK;
      var ds = 0.0;
      if (R0 + rr < TG && j0 + jj <= (R0 + rr) / G) {
        let qo = rr * HS4;
        let ko = jj * KS;
        var s = 0.0;
        var dp = 0.0;
        for (var c2 = 0u; c2 < HS4; c2++) {
          s += dot(qs[qo + c2], ks[ko + c2]);
          dp += dot(dos[qo + c2], vs[ko + c2]);
        }
        ds = exp(s - rowLse[rr]) * (dp - rowD[rr]);
      }
      dss[e] = ds;
    }
    workgroupBarrier();
    let so = r * BK;
    for (var j = 0u; j < BK; j++) { acc += dss[so + j] * ks[j * KS + c]; }
  }

  if (rowValid) {
    let o = acc * p.scale;
    let d = 4u * c;
    for (var i = 0u; i < 4u && d + i < p.HS; i++) { dq[base + d + i] = o[i]; }
  }
}
