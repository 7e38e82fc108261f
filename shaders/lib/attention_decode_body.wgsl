// The entry points of attention_decode.wgsl and attention_decode_packed16.wgsl (see their headers): the
// including shader declares the bindings (p, q, kCache, vCache, lengths, probs, out, prefix_rows) and the loads
// k4(i) / v4(i), the i-th vec4 of the caches as f32, so that the f32 and the 16-bit caches run the same
// arithmetic in the same order.
// Overrides WINDOW, RING and PREFIX: shaders/lib/attention_decode_common.wgsl. Positions are visited in the same
// order every way (only the loads' addresses differ, cache_slot), so a ring or the shared-prefix layout gives the
// full-length cache's result bit for bit.

const WG: u32 = 64u;

//#include attention_decode_common

@compute @workgroup_size(WG)
fn scores(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.z;
  let h = gid.y;
  // slots written so far (a ring's slots all hold positions inside the window once it has wrapped)
  let len = min(lengths[b], p.TMAX);
  let jA = 4u * gid.x;
  if (jA >= len) { return; }
  let HS4 = p.HS4;
  let stride = p.NKV * HS4; // between consecutive cache positions, in vec4s
  let last = len - 1u;
  let kvh = (h / p.G) * HS4; // kv head's offset within a cache slot
  let rs = row_slots(b);
  let kb0 = kvh + cache_slot(rs, jA) * stride;
  let kb1 = kvh + cache_slot(rs, min(jA + 1u, last)) * stride;
  let kb2 = kvh + cache_slot(rs, min(jA + 2u, last)) * stride;
  let kb3 = kvh + cache_slot(rs, min(jA + 3u, last)) * stride;
  let qb = (b * p.NH + h) * HS4;
  var s = vec4f(0.0);
  for (var c = 0u; c < HS4; c++) {
    s += q[qb + c] * mat4x4f(k4(kb0 + c), k4(kb1 + c), k4(kb2 + c), k4(kb3 + c));
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
  let len = seq_len(b);
  if (len == 0u) { return; }
  let o = (b * p.NH + h) * p.TMAX;
  let start = window_start(len);
  var m = -3.0e38;
  for (var j = start; j < len; j++) { m = max(m, probs[o + slot(j)]); }
  var l = 0.0;
  for (var j = start; j < len; j++) {
    let e = exp(probs[o + slot(j)] - m);
    probs[o + slot(j)] = e;
    l += e;
  }
  let inv = 1.0 / l;
  if (RING == 0u) {
    for (var j = 0u; j < start; j++) { probs[o + j] = 0.0; }
  }
  for (var j = start; j < len; j++) { probs[o + slot(j)] *= inv; }
}

@compute @workgroup_size(WG)
fn weighted_sum(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.y;
  let HS4 = p.HS4;
  if (gid.x >= p.NH * HS4) { return; }
  let h = gid.x / HS4;
  let c = gid.x % HS4;
  let len = seq_len(b);
  let stride = p.NKV * HS4;
  let vh = (h / p.G) * HS4 + c;
  let rs = row_slots(b);
  let o = (b * p.NH + h) * p.TMAX;
  var acc = vec4f(0.0);
  let start = window_start(len);
  let mid = first_block_end(rs, start, len);
  for (var j = start; j < mid; j++) { acc += probs[o + slot(j)] * v4(vh + (rs.pre + slot(j)) * stride); }
  for (var j = mid; j < len; j++) { acc += probs[o + j] * v4(vh + (rs.own + j) * stride); }
  out[(b * p.NH + h) * HS4 + c] = acc;
}

// Scores of positions jA..jA+3 (clamped to last) of head h, as in `scores`.
fn scores4(qb: u32, rs: RowSlots, kvh: u32, jA: u32, last: u32, stride: u32) -> vec4f {
  let kb0 = kvh + cache_slot(rs, jA) * stride;
  let kb1 = kvh + cache_slot(rs, min(jA + 1u, last)) * stride;
  let kb2 = kvh + cache_slot(rs, min(jA + 2u, last)) * stride;
  let kb3 = kvh + cache_slot(rs, min(jA + 3u, last)) * stride;
  var s = vec4f(0.0);
  for (var c = 0u; c < p.HS4; c++) {
    s += q[qb + c] * mat4x4f(k4(kb0 + c), k4(kb1 + c), k4(kb2 + c), k4(kb3 + c));
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
  let len = seq_len(b);
  let stride = p.NKV * HS4;
  let kvh = (h / p.G) * HS4;
  let rs = row_slots(b);
  let qb = (b * p.NH + h) * HS4;
  let last = max(len, 1u) - 1u;
  let start = window_start(len);
  var m = -3.0e38;
  for (var jA = start; jA < len; jA += 4u) {
    let s = scores4(qb, rs, kvh, jA, last, stride);
    for (var i = 0u; i < 4u && jA + i < len; i++) { m = max(m, s[i]); }
  }
  var l = 0.0;
  for (var jA = start; jA < len; jA += 4u) {
    let s = scores4(qb, rs, kvh, jA, last, stride);
    for (var i = 0u; i < 4u && jA + i < len; i++) { l += exp(s[i] - m); }
  }
  let inv = 1.0 / l;
  var acc = vec4f(0.0);
  for (var jA = start; jA < len; jA += 4u) {
    let s = scores4(qb, rs, kvh, jA, last, stride);
    for (var i = 0u; i < 4u && jA + i < len; i++) {
      let pr = exp(s[i] - m) * inv;
      acc += pr * v4(kvh + cache_slot(rs, jA + i) * stride + c);
    }
  }
  out[qb + c] = acc;
}
