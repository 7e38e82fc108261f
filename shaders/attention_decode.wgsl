// Attention for decoding: one new query per batch row against a KV cache, in three passes that need no
// workgroup barriers (software adapters pay for every invocation of a shader that has one).
//   len = min(lengths[b], TMAX); s[j] = scale * q[b, h, :] . kCache[b, j, g, :] for j < len, g = h / G
//   out[b, h, :] = sum_{j < len} softmax(s)[j] * vCache[b, j, g, :]           (len = 0 gives zeros)
//   With the override WINDOW > 0 (sliding-window attention) only the last WINDOW positions count:
//   j >= start = len - WINDOW (when len > WINDOW); probs below start are set to 0.
// Shapes: q, out (B, NH, HS); kCache, vCache (B, TMAX, NKV, HS); lengths (B) u32; HS a multiple of 4;
//   probs (B, NH, TMAX) scratch: the scores, then the probabilities.
// Bindings (every entry point): 0 params {NH, NKV, HS4, TMAX, G, scale, B}; 1 q, 2 kCache, 3 vCache,
//   4 lengths (read); 5 probs (read_write); 6 out (write).
// Entry `scores`: dispatch (ceil(TMAX / 256), NH, B); invocation i scores cache positions 4i..4i+3 of
//   head h (4 vec4 loads of k per vec4 of q), parallel over the cache length. Overwrites probs[.., < len].
// Entry `softmax`: dispatch (ceil(NH / 64), B); one invocation per (b, h) turns its len scores into
//   probabilities: max, then exp(s - max) and their sum, then division by the sum. Overwrites probs.
// Entry `weighted_sum`: dispatch (ceil(NH * HS / 4 / 64), B); invocation (h, c) sums p * v over the cache
//   positions in order for dims 4c..4c+3. Overwrites out.
// Entry `single_pass`: all three in one dispatch (ceil(B * NH * HS / 4 / 64)), for small heads and short
//   caches on adapters where a dispatch costs more than the work: invocation (b, h, c), flat over the batch
//   so that no lane idles, recomputes the scores of its head (three
//   times, in the same groups of 4 as `scores`) instead of reading them from probs, which it leaves alone;
//   the same arithmetic in the same order, so the same out bit for bit. Costs 3 * HS/4 times the scores'
//   work, so the host picks it only for small HS.

struct Params { NH: u32, NKV: u32, HS4: u32, TMAX: u32, G: u32, scale: f32, B: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> q: array<vec4f>;
@group(0) @binding(2) var<storage, read> kCache: array<vec4f>;
@group(0) @binding(3) var<storage, read> vCache: array<vec4f>;
@group(0) @binding(4) var<storage, read> lengths: array<u32>;
@group(0) @binding(5) var<storage, read_write> probs: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<vec4f>;

const WG: u32 = 64u;
override WINDOW: u32 = 0u;

// the first cache position a query at length len sees
fn window_start(len: u32) -> u32 {
  if (WINDOW > 0u && len > WINDOW) { return len - WINDOW; }
  return 0u;
}

@compute @workgroup_size(WG)
fn scores(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.z;
  let h = gid.y;
  let len = min(lengths[b], p.TMAX);
  let jA = 4u * gid.x;
  if (jA >= len) { return; }
  let HS4 = p.HS4;
  let stride = p.NKV * HS4; // between consecutive cache positions, in vec4s
  let last = len - 1u;
  let kv0 = (b * p.TMAX * p.NKV + h / p.G) * HS4;
  let kb0 = kv0 + jA * stride;
  let kb1 = kv0 + min(jA + 1u, last) * stride;
  let kb2 = kv0 + min(jA + 2u, last) * stride;
  let kb3 = kv0 + min(jA + 3u, last) * stride;
  let qb = (b * p.NH + h) * HS4;
  var s = vec4f(0.0);
  for (var c = 0u; c < HS4; c++) {
    s += q[qb + c] * mat4x4f(kCache[kb0 + c], kCache[kb1 + c], kCache[kb2 + c], kCache[kb3 + c]);
  }
  s *= p.scale;
  let o = (b * p.NH + h) * p.TMAX + jA;
  for (var i = 0u; i < 4u && jA + i < len; i++) { probs[o + i] = s[i]; }
}

@compute @workgroup_size(WG)
fn softmax(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.y;
  let h = gid.x;
  if (h >= p.NH) { return; }
  let len = min(lengths[b], p.TMAX);
  if (len == 0u) { return; }
  let o = (b * p.NH + h) * p.TMAX;
  let start = window_start(len);
  var m = -3.0e38;
  for (var j = start; j < len; j++) { m = max(m, probs[o + j]); }
  var l = 0.0;
  for (var j = start; j < len; j++) {
    let e = exp(probs[o + j] - m);
    probs[o + j] = e;
    l += e;
  }
  let inv = 1.0 / l;
  for (var j = 0u; j < start; j++) { probs[o + j] = 0.0; }
  for (var j = start; j < len; j++) { probs[o + j] *= inv; }
}

@compute @workgroup_size(WG)
fn weighted_sum(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.y;
  let HS4 = p.HS4;
  if (gid.x >= p.NH * HS4) { return; }
  let h = gid.x / HS4;
  let c = gid.x % HS4;
  let len = min(lengths[b], p.TMAX);
  let stride = p.NKV * HS4;
  let vb = (b * p.TMAX * p.NKV + h / p.G) * HS4 + c;
  let o = (b * p.NH + h) * p.TMAX;
  var acc = vec4f(0.0);
  for (var j = window_start(len); j < len; j++) { acc += probs[o + j] * vCache[vb + j * stride]; }
  out[(b * p.NH + h) * HS4 + c] = acc;
}

// Scores of cache positions jA..jA+3 (clamped to last) of head h, as in `scores`.
fn scores4(qb: u32, kv0: u32, jA: u32, last: u32, stride: u32) -> vec4f {
  let kb0 = kv0 + jA * stride;
  let kb1 = kv0 + min(jA + 1u, last) * stride;
  let kb2 = kv0 + min(jA + 2u, last) * stride;
  let kb3 = kv0 + min(jA + 3u, last) * stride;
  var s = vec4f(0.0);
  for (var c = 0u; c < p.HS4; c++) {
    s += q[qb + c] * mat4x4f(kCache[kb0 + c], kCache[kb1 + c], kCache[kb2 + c], kCache[kb3 + c]);
  }
  s *= p.scale;
  return s;
}

@compute @workgroup_size(WG)
fn single_pass(@builtin(global_invocation_id) gid: vec3u) {
  let HS4 = p.HS4;
  let per_row = p.NH * HS4;
  if (gid.x >= p.B * per_row) { return; }
  let b = gid.x / per_row;
  let h = (gid.x % per_row) / HS4;
  let c = gid.x % HS4;
  let len = min(lengths[b], p.TMAX);
  let stride = p.NKV * HS4;
  let kv0 = (b * p.TMAX * p.NKV + h / p.G) * HS4;
  let qb = (b * p.NH + h) * HS4;
  let last = max(len, 1u) - 1u;
  let start = window_start(len);
  var m = -3.0e38;
  for (var jA = start; jA < len; jA += 4u) {
    let s = scores4(qb, kv0, jA, last, stride);
    for (var i = 0u; i < 4u && jA + i < len; i++) { m = max(m, s[i]); }
  }
  var l = 0.0;
  for (var jA = start; jA < len; jA += 4u) {
    let s = scores4(qb, kv0, jA, last, stride);
    for (var i = 0u; i < 4u && jA + i < len; i++) { l += exp(s[i] - m); }
  }
  let inv = 1.0 / l;
  var acc = vec4f(0.0);
  for (var jA = start; jA < len; jA += 4u) {
    let s = scores4(qb, kv0, jA, last, stride);
    for (var i = 0u; i < 4u && jA + i < len; i++) {
      let pr = exp(s[i] - m) * inv;
      acc += pr * vCache[kv0 + (jA + i) * stride + c];
    }
  }
  out[qb + c] = acc;
}
