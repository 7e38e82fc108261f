// Attention for decoding: one new query per batch row against a KV cache, split over the cache length
// (split-K) because B * NH alone is too little parallel work.
//   len = min(lengths[b], TMAX); s[j] = scale * q[b, h, :] . kCache[b, j, g, :] for j < len, g = h / G
//   out[b, h, :] = sum_{j < len} softmax(s)[j] * vCache[b, j, g, :]           (len = 0 gives zeros)
// Shapes: q, out (B, NH, HS); kCache, vCache (B, TMAX, NKV, HS); lengths (B) u32;
//         part (B, NH, NCH, HS + 2) scratch: per chunk the unnormalised sum of p * v, then m and l.
// Bindings (both entry points): 0 params {NH, NKV, HS, TMAX, NCH, G, CHUNK, scale}; 1 q, 2 kCache,
//   3 vCache, 4 lengths (read); 5 part (read_write); 6 out (write).
// Entry `partial`: dispatch (NCH, NH / HP, B), NCH = ceil(TMAX / CH). A workgroup takes CH cache positions
//   of HP query heads that share one kv head (HP divides G); chunks at or past len return at once.
//   Thread j scores key j for the HP heads; threads i < HP then form the chunk's max m, exp(s - m) and
//   their sum l; threads (i, c) sum p * v over the chunk for dims 4c..4c+3. Overwrites part.
// Entry `combine`: dispatch (ceil(HS / 64), NH, B), one thread per output dim: with M = max_c m_c,
//   out = sum_c exp(m_c - M) * o_c / sum_c exp(m_c - M) * l_c over the chunks below len. Overwrites out.
// Overrides (partial): HS4 = ceil(HS / 4), HP heads per workgroup, CH positions per chunk (= workgroup
//   size, must equal params.CHUNK).

struct Params { NH: u32, NKV: u32, HS: u32, TMAX: u32, NCH: u32, G: u32, CHUNK: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> kCache: array<f32>;
@group(0) @binding(3) var<storage, read> vCache: array<f32>;
@group(0) @binding(4) var<storage, read> lengths: array<u32>;
@group(0) @binding(5) var<storage, read_write> part: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

override HS4: u32 = 16u;
override HP: u32 = 1u;
override CH: u32 = 64u;

const NEG_BIG: f32 = -3.0e38;

var<workgroup> qs: array<vec4f, HP * HS4>;  // q * scale for the HP heads
var<workgroup> ss: array<f32, HP * CH>;     // scores, then probabilities

fn load_q(base: u32, c: u32) -> vec4f {
  let d = 4u * c;
  if (d + 4u <= p.HS) { return vec4f(q[base + d], q[base + d + 1u], q[base + d + 2u], q[base + d + 3u]); }
  var r = vec4f(0.0);
  for (var i = 0u; d + i < p.HS; i++) { r[i] = q[base + d + i]; }
  return r;
}

fn load_k(base: u32, c: u32) -> vec4f {
  let d = 4u * c;
  if (d + 4u <= p.HS) { return vec4f(kCache[base + d], kCache[base + d + 1u], kCache[base + d + 2u], kCache[base + d + 3u]); }
  var r = vec4f(0.0);
  for (var i = 0u; d + i < p.HS; i++) { r[i] = kCache[base + d + i]; }
  return r;
}

fn load_v(base: u32, c: u32) -> vec4f {
  let d = 4u * c;
  if (d + 4u <= p.HS) { return vec4f(vCache[base + d], vCache[base + d + 1u], vCache[base + d + 2u], vCache[base + d + 3u]); }
  var r = vec4f(0.0);
  for (var i = 0u; d + i < p.HS; i++) { r[i] = vCache[base + d + i]; }
  return r;
}

@compute @workgroup_size(CH)
fn partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let h0 = wid.y * HP;
  let g = h0 / p.G;
  let chunk = wid.x;
  let len = min(lengths[b], p.TMAX);
  let j0 = chunk * CH;
  if (j0 >= len) { return; } // the same for the whole workgroup
  let n = min(CH, len - j0);

  for (var e = lid; e < HP * HS4; e += CH) {
    qs[e] = load_q((b * p.NH + h0 + e / HS4) * p.HS, e % HS4) * p.scale;
  }
  workgroupBarrier();

  let j = lid;
  if (j < n) {
    let kb = ((b * p.TMAX + j0 + j) * p.NKV + g) * p.HS;
    for (var i = 0u; i < HP; i++) { ss[i * CH + j] = 0.0; }
    for (var c = 0u; c < HS4; c++) {
      let k4 = load_k(kb, c);
      for (var i = 0u; i < HP; i++) { ss[i * CH + j] += dot(qs[i * HS4 + c], k4); }
    }
  }
  workgroupBarrier();

  if (lid < HP) {
    let so = lid * CH;
    var m = NEG_BIG;
    for (var jj = 0u; jj < n; jj++) { m = max(m, ss[so + jj]); }
    var l = 0.0;
    for (var jj = 0u; jj < n; jj++) {
      let pj = exp(ss[so + jj] - m);
      ss[so + jj] = pj;
      l += pj;
    }
    let pb = ((b * p.NH + h0 + lid) * p.NCH + chunk) * (p.HS + 2u);
    part[pb + p.HS] = m;
    part[pb + p.HS + 1u] = l;
  }
  workgroupBarrier();

  for (var e = lid; e < HP * HS4; e += CH) {
    let i = e / HS4;
    let c = e % HS4;
    var acc = vec4f(0.0);
    for (var jj = 0u; jj < n; jj++) {
      acc += ss[i * CH + jj] * load_v(((b * p.TMAX + j0 + jj) * p.NKV + g) * p.HS, c);
    }
    let pb = ((b * p.NH + h0 + i) * p.NCH + chunk) * (p.HS + 2u);
    let d = 4u * c;
    for (var ii = 0u; ii < 4u && d + ii < p.HS; ii++) { part[pb + d + ii] = acc[ii]; }
  }
}

@compute @workgroup_size(64)
fn combine(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let h = wid.y;
  let d = wid.x * 64u + lid;
  if (d >= p.HS) { return; }
  let len = min(lengths[b], p.TMAX);
  let nc = (len + p.CHUNK - 1u) / p.CHUNK;
  let pb = (b * p.NH + h) * p.NCH * (p.HS + 2u);
  var M = NEG_BIG;
  for (var c = 0u; c < nc; c++) { M = max(M, part[pb + c * (p.HS + 2u) + p.HS]); }
  var L = 0.0;
  var o = 0.0;
  for (var c = 0u; c < nc; c++) {
    let cb = pb + c * (p.HS + 2u);
    let w = exp(part[cb + p.HS] - M);
    L += w * part[cb + p.HS + 1u];
    o += w * part[cb + d];
  }
  var r = 0.0;
  if (L > 0.0) { r = o / L; }
  out[(b * p.NH + h) * p.HS + d] = r;
}
