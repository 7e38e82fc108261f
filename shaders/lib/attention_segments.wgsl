// Snippet (not a kernel): the shared-prefix mask of the direct training attention kernels
// (attention_forward / attention_backward_dq / attention_backward_dkv.wgsl). The including kernel declares
// `p` (Params with T), the override SEGMENTED and `fn seg_pair(i: u32) -> vec2u`, which reads pair i of the mask:
// the forward from its seg binding, the backward passes from the tail of their lse binding (the host appends the
// mask to lse there, keeping them within 8 storage buffers, WebGPU's default per-stage limit). The pairs are
// stored as f32 integers (exact below 2^24; the host checks).
// With SEGMENTED, pair b * T + t = (prefix_end, seg_start) of query position t: t sees key j <= t only when
// j < prefix_end (the shared prompt) or j >= seg_start (its own segment); (0, 0) sees every causal key. A
// group's prompt packed once and its G completions after it, each a segment restarting its positions
// (src/model/prefix_pack.ts), then attend as G separate rows would. Without SEGMENTED seg is never read
// (the host binds any read-only buffer there) and every key is seen, so the kernels compute what they did.

// (prefix_end, seg_start) of query position t of batch row b
fn seg_of(b: u32, t: u32) -> vec2u {
  if (!SEGMENTED) { return vec2u(0u, 0u); }
  return seg_pair(b * p.T + t);
}

// whether key j is seen by a query with seg s (the causal test is the caller's)
fn seg_sees(j: u32, s: vec2u) -> bool {
  return j < s.x || j >= s.y;
}

// which of 4 query rows (prefix ends pe, segment starts ss) see key j
fn seg_sees_rows(j: u32, pe: vec4u, ss: vec4u) -> vec4<bool> {
  return (vec4u(j) < pe) | (vec4u(j) >= ss);
}

// which of 4 keys a query with seg s sees
fn seg_sees_keys(keys: vec4u, s: vec2u) -> vec4<bool> {
  return (keys < vec4u(s.x)) | (keys >= vec4u(s.y));
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
