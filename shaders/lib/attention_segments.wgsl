// Snippet (not a kernel): the shared-prefix mask of the direct training attention kernels
// (attention_forward / attention_backward_dq / attention_backward_dkv.wgsl). The including kernel declares
// `p` (Params with T), the override SEGMENTED and `fn seg_pair(i: u32) -> vec2u`, which reads pair i of the mask:
// the forward from its seg binding, the backward passes from the tail of their lse binding (the host appends the
// mask to lse there, keeping them within 8 storage buffers, WebGPU's default per-stage limit). The pairs are
// stored as f32 integers (exact below 2^24; the host checks).
// With SEGMENTED, pair b * T + t = (prefix_end, seg_start) of query position t: t sees key j <= t only when
// j < prefix_end (the shared prompt) or j >= seg_start (its own segment); (0, 0) sees every causal key; with
// WINDOW, only keys less than WINDOW positions back (positions restart at prefix_end in each segment). A
// group's prompt packed once and its G completions after it, each a segment restarting its positions
// (src/model/prefix_pack.ts), then attend as G separate rows would. Without SEGMENTED seg is never read
// (the host binds any read-only buffer there) and every key is seen, so the kernels compute what they did.

// (prefix_end, seg_start) of query position t of batch row b
fn seg_of(b: u32, t: u32) -> vec2u {
  if (!SEGMENTED) { return vec2u(0u, 0u); }
  return seg_pair(b * p.T + t);
}

// the distance in positions from key j to query position t with seg s (j <= t): a key of the segment is
// t - j back; a prompt key j < prefix_end sits at position j and the query at prefix_end + t - seg_start
fn seg_distance(j: u32, s: vec2u, t: u32) -> u32 {
  if (j >= s.y) { return t - j; }
  return s.x + t - s.y - j;
}

// whether query position t with seg s sees key j (the causal test is the caller's), inside the sliding window
// on positions when there is one
fn seg_sees(j: u32, s: vec2u, t: u32) -> bool {
  let inMask = j < s.x || j >= s.y;
  if (SEGMENTED && WINDOW > 0u) { return inMask && seg_distance(j, s, t) < WINDOW; }
  return inMask;
}

// which of 4 query rows (positions t4, prefix ends pe, segment starts ss) see key j
fn seg_sees_rows(j: u32, pe: vec4u, ss: vec4u, t4: vec4u) -> vec4<bool> {
  return vec4<bool>(
    seg_sees(j, vec2u(pe.x, ss.x), t4.x), seg_sees(j, vec2u(pe.y, ss.y), t4.y),
    seg_sees(j, vec2u(pe.z, ss.z), t4.z), seg_sees(j, vec2u(pe.w, ss.w), t4.w));
}

// which of 4 keys query position t with seg s sees
fn seg_sees_keys(keys: vec4u, s: vec2u, t: u32) -> vec4<bool> {
  return vec4<bool>(seg_sees(keys.x, s, t), seg_sees(keys.y, s, t), seg_sees(keys.z, s, t), seg_sees(keys.w, s, t));
}

// (max prefix_end, min seg_start) over query positions tA..tB (inclusive): a tile of keys [j0, j1) with
// j0 >= .x and j1 <= .y is masked for every one of them and may be skipped
fn seg_hole(b: u32, tA: u32, tB: u32) -> vec2u {
  var hole = vec2u(0u, 0xffffffffu);
  for (var t = tA; t <= tB; t++) {
    let s = seg_of(b, t);
    hole = vec2u(max(hole.x, s.x), min(hole.y, s.y));
  }
  return hole;
}

// a hole through a vec4f of workgroup memory the kernel already has (no workgroup memory of its own: the
// unmasked kernels keep their footprint); exact, the indices being below 2^24
fn hole_pack(h: vec2u) -> vec4f {
  return vec4f(f32(h.x), f32(min(h.y, 16777216u)), 0.0, 0.0);
}
fn hole_unpack(v: vec4f) -> vec2u {
  return vec2u(u32(v.x), u32(v.y));
}
