// Snippet (not a kernel): the per-element formulas shared by the causal GQA attention kernels, direct and
// tiled (attention_forward / attention_backward_dq / attention_backward_dkv / attention_backward_fused.wgsl and
// the attention_tiled_* twins): where a row and a key live, which keys a row sees, the probability /
// score-gradient formulas, and the scores of a 4 x 4 block. (The backward's blocks of dP and its gradient sums,
// which read dout, are lib/attention_backward_blocks.wgsl.)
// The including kernel declares `p` (Params {T, NH, NKV, G, scale}), q and k (array<vec4f>), and the overrides
// HS4, WINDOW and SEGMENTED
// (true only in the direct kernels with a shared-prefix mask, whose window counts positions instead:
// lib/attention_segments.wgsl; the index window below is then off).
// Rows: R = t * G + i is query position t of head g * G + i (G = NH / NKV), so one pass over kv head g's
// keys serves every query head of its group.
//   P[t, j]  = exp(scale * s[t, j] - lse[t])       (<= 1 since lse >= every score; masked entries 0)
//   dS[t, j] = P[t, j] * (dP[t, j] - D[t])          (D = rowsum(dout * out), the softmax backward)

// a finite "minus infinity": exp(NEG_BIG - x) underflows to 0 for any real score x
const NEG_BIG: f32 = -3.0e38;

// vec4 offset of row R of kv head g in q / out / dout / dq
fn row_base(b: u32, g: u32, R: u32) -> u32 {
  return ((b * p.T + R / p.G) * p.NH + g * p.G + R % p.G) * HS4;
}

// index of row R of kv head g in lse / dsum
fn row_index(b: u32, g: u32, R: u32) -> u32 {
  return (b * p.NH + g * p.G + R % p.G) * p.T + R / p.G;
}

// vec4 offset of key j of kv head g in k / v / dk / dv
fn key_base(b: u32, g: u32, j: u32) -> u32 {
  return ((b * p.T + j) * p.NKV + g) * HS4;
}

// the window on indices: WINDOW, none with SEGMENTED (attention_segments.wgsl applies it on positions)
fn index_window() -> u32 {
  if (SEGMENTED) { return 0u; }
  return WINDOW;
}

// which of 4 keys j each of 4 query positions t sees: causal, and inside the window when there is one
fn seen(j: vec4u, t: vec4u) -> vec4<bool> {
  return (j <= t) & ((j + vec4u(index_window()) > t) | vec4<bool>(index_window() == 0u));
}

// which of 4 keys row R sees (none when R is past the last row TG - 1)
fn visible(keys: vec4u, R: u32, TG: u32) -> vec4<bool> {
  let t = vec4u(R / p.G);
  let inWindow = (keys + vec4u(index_window()) > t) | vec4<bool>(index_window() == 0u);
  return (keys <= t) & inWindow & vec4<bool>(R < TG);
}

// the first tile of bk keys a block of rows starting at R0 needs: with a window, keys before the first
// row's window are masked for every row of the block
fn first_key_tile(R0: u32, bk: u32) -> u32 {
  if (index_window() > 0u && R0 / p.G + 1u > index_window()) { return (R0 / p.G + 1u - index_window()) / bk; }
  return 0u;
}

// the keys [js, nv) of the tile at j0 (bk keys) that row R sees (nv = 0: none; rows past TG - 1 see none)
fn row_tile_keys(R: u32, TG: u32, j0: u32, bk: u32) -> vec2u {
  let t = R / p.G;
  var nv = 0u;
  if (R < TG && t >= j0) { nv = min(bk, t + 1u - j0); }
  var js = 0u; // the first key of the tile inside the row's window
  if (index_window() > 0u && t + 1u > index_window() + j0) { js = min(t + 1u - index_window() - j0, nv); }
  return vec2u(js, nv);
}

// P of 4 (row, key) entries: scores s (unscaled) and their rows' lse; masked entries 0 (the min() keeps them
// finite before select() drops them)
fn attention_p4(s: vec4f, lse: vec4f, mask: vec4<bool>) -> vec4f {
  let z = vec4f(0.0);
  return select(z, exp(min(s * p.scale - lse, z)), mask);
}

// P of 4 scores s (unscaled) of one row with log-sum-exp lse; masked entries 0
fn attention_p(s: vec4f, lse: f32, mask: vec4<bool>) -> vec4f {
  return attention_p4(s, vec4f(lse), mask);
}

// dS of 4 (row, key) entries: scores s (unscaled), their rows' lse and D, dP = dout . v; masked entries 0
fn attention_ds(s: vec4f, lse: vec4f, dp: vec4f, d: vec4f, mask: vec4<bool>) -> vec4f {
  let z = vec4f(0.0);
  return select(z, exp(min(s * p.scale - lse, z)) * (dp - d), mask);
}

// dS of 4 (row, key) entries from their P: P (dP - D) (masked entries have P = 0)
fn attention_ds_of_p(pr: vec4f, dp: vec4f, d: vec4f) -> vec4f {
  return pr * (dp - d);
}

// Blocks of 4 rows x 4 keys (register blocking: 8 vec4 loads feed 16 dot products). Rows and keys past the
// end are clamped to valid ones; the masks zero (or the callers never use) their results.

// rows rA..rA+3 (rA < TG), clamped to the last row TG - 1
fn block_rows(rA: u32, TG: u32) -> vec4u {
  return min(vec4u(rA) + vec4u(0u, 1u, 2u, 3u), vec4u(TG - 1u));
}

// vec4 offsets of 4 rows of kv head g in q / out / dout
fn block_row_bases(b: u32, g: u32, rows: vec4u) -> vec4u {
  return vec4u(row_base(b, g, rows.x), row_base(b, g, rows.y), row_base(b, g, rows.z), row_base(b, g, rows.w));
}

// vec4 offsets of keys keyA..keyA+3 (keyA < T) of kv head g in k / v, clamped to the last key T - 1
fn block_key_bases(b: u32, g: u32, keyA: u32) -> vec4u {
  let kLast = p.T - 1u;
  return vec4u(key_base(b, g, keyA), key_base(b, g, min(keyA + 1u, kLast)), key_base(b, g, min(keyA + 2u, kLast)),
    key_base(b, g, min(keyA + 3u, kLast)));
}

// the unscaled scores of the 4 rows at qb with the 4 keys at kb: column e holds key e's scores of the 4 rows
// (k * m = (dot(k, q_0), dot(k, q_1), dot(k, q_2), dot(k, q_3)))
fn block_scores(qb: vec4u, kb: vec4u) -> mat4x4f {
  var s = mat4x4f();
  for (var c2 = 0u; c2 < HS4; c2++) {
    let qm = mat4x4f(q[qb.x + c2], q[qb.y + c2], q[qb.z + c2], q[qb.w + c2]);
    s[0] += k[kb.x + c2] * qm;
    s[1] += k[kb.y + c2] * qm;
    s[2] += k[kb.z + c2] * qm;
    s[3] += k[kb.w + c2] * qm;
  }
  return s;
}

// adds x4 (dims 4c..4c+3 of one key's k or v, or of one row's q or dout) to 4 sums (the columns of acc: 4 rows,
// or 4 keys) with weights w (their P or dS with that key or row)
fn add_rows(acc: ptr<function, mat4x4f>, x4: vec4f, w: vec4f) {
  (*acc)[0] += w.x * x4;
  (*acc)[1] += w.y * x4;
  (*acc)[2] += w.z * x4;
  (*acc)[3] += w.w * x4;
}
