// The entry points of attention_decode_split.wgsl and attention_decode_split_packed16.wgsl (see their
// headers): the including shader declares the bindings (p, q, kCache, vCache, lengths, partial, out,
// prefix_rows) and the loads k4(i) / v4(i) (the i-th vec4 of the caches as f32).

const WG: u32 = 64u;
const CH_MAX: u32 = 256u; // positions per split at most (the workgroup's score buffer)

//#include attention_decode_common

var<workgroup> sc: array<f32, CH_MAX>;
var<workgroup> red: array<f32, WG>;

// red[0] = max (op 0) or sum (op 1) of red[0..WG) (every invocation calls it: workgroup-uniform)
fn reduce(lid: u32, op: u32) {
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      if (op == 0u) { red[lid] = max(red[lid], red[lid + stride]); } else { red[lid] += red[lid + stride]; }
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn partial_pass(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = wid.x;
  let h = wid.y;
  let b = wid.z;
  let HS4 = p.HS4;
  let len = seq_len(b);
  let start = window_start(len);
  // split s: positions start + s * CH .. + CH (clamped to len)
  let j0 = start + s * p.CH;
  let n = select(0u, min(len - min(j0, len), p.CH), j0 < len);
  let stride = p.NKV * HS4;
  let kvh = (h / p.G) * HS4;
  let rs = row_slots(b);
  let qb = (b * p.NH + h) * HS4;
  // scores, one position per invocation
  var m = -3.0e38;
  for (var i = lid; i < n; i += WG) {
    let kb = kvh + cache_slot(rs, j0 + i) * stride;
    var d = 0.0;
    for (var c = 0u; c < HS4; c++) { d += dot(q[qb + c], k4(kb + c)); }
    let sv = d * p.scale;
    sc[i] = sv;
    m = max(m, sv);
  }
  red[lid] = m;
  reduce(lid, 0u);
  let mx = red[0];
  workgroupBarrier();
  var l = 0.0;
  for (var i = lid; i < n; i += WG) {
    let e = exp(sc[i] - mx);
    sc[i] = e;
    l += e;
  }
  red[lid] = l;
  reduce(lid, 1u);
  let sum = red[0];
  // unnormalised weighted sum of this split's values, 4 dims per invocation
  let o = ((b * p.NH + h) * p.S + s) * (HS4 + 1u);
  for (var c = lid; c < HS4; c += WG) {
    var acc = vec4f(0.0);
    let mid = first_block_end(rs, j0, j0 + n) - j0;
    for (var i = 0u; i < mid; i++) { acc += sc[i] * v4(kvh + (rs.pre + slot(j0 + i)) * stride + c); }
    for (var i = mid; i < n; i++) { acc += sc[i] * v4(kvh + (rs.own + j0 + i) * stride + c); }
    partial[o + c] = acc;
  }
  if (lid == 0u) { partial[o + HS4] = vec4f(mx, sum, 0.0, 0.0); }
}

@compute @workgroup_size(WG)
fn combine(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.y;
  let HS4 = p.HS4;
  if (gid.x >= p.NH * HS4) { return; }
  let h = gid.x / HS4;
  let c = gid.x % HS4;
  let base = (b * p.NH + h) * p.S;
  var mx = -3.0e38;
  for (var s = 0u; s < p.S; s++) {
    let ml = partial[(base + s) * (HS4 + 1u) + HS4];
    if (ml.y > 0.0) { mx = max(mx, ml.x); }
  }
  var l = 0.0;
  var acc = vec4f(0.0);
  for (var s = 0u; s < p.S; s++) {
    let o = (base + s) * (HS4 + 1u);
    let ml = partial[o + HS4];
    if (ml.y > 0.0) {
      let w = exp(ml.x - mx);
      l += ml.y * w;
      acc += partial[o + c] * w;
    }
  }
  out[(b * p.NH + h) * HS4 + c] = select(vec4f(0.0), acc / l, l > 0.0);
}
