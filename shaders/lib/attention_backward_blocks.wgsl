// Snippet (not a kernel): the pieces of the direct attention backward that attention_backward_dq.wgsl,
// attention_backward_dkv.wgsl and attention_backward_fused.wgsl share, so that the fused form computes every
// value with the same expressions, in the same order, as the two passes: a 4 x 4 block's scores and dP, and
// one step of the dk / dv sums (a step of the dq sums is add_rows in lib/attention_rows.wgsl). The including kernel declares what lib/attention_rows.wgsl
// needs and dout, q, k, v (array<vec4f>).

// the unscaled scores s and dP = dout . v of the 4 rows at qb with the 4 keys at kb: column e of each holds
// key e's values for the 4 rows (as block_scores in lib/attention_rows.wgsl)
struct ScoresDp { s: mat4x4f, dp: mat4x4f }

fn block_scores_dp(qb: vec4u, kb: vec4u) -> ScoresDp {
  var r = ScoresDp(mat4x4f(), mat4x4f());
  for (var c2 = 0u; c2 < HS4; c2++) {
    let qm = mat4x4f(q[qb.x + c2], q[qb.y + c2], q[qb.z + c2], q[qb.w + c2]);
    let dm = mat4x4f(dout[qb.x + c2], dout[qb.y + c2], dout[qb.z + c2], dout[qb.w + c2]);
    r.s[0] += k[kb.x + c2] * qm;
    r.s[1] += k[kb.y + c2] * qm;
    r.s[2] += k[kb.z + c2] * qm;
    r.s[3] += k[kb.w + c2] * qm;
    r.dp[0] += v[kb.x + c2] * dm;
    r.dp[1] += v[kb.y + c2] * dm;
    r.dp[2] += v[kb.z + c2] * dm;
    r.dp[3] += v[kb.w + c2] * dm;
  }
  return r;
}

// dk / dv: adds the row at vec4 offset base (dims 4c..4c+3 of q and dout) to 4 keys' sums, column e for key e,
// with pr and dr the row's P and dS of the 4 keys
fn add_dkv_row(dk: ptr<function, mat4x4f>, dv: ptr<function, mat4x4f>, base: u32, pr: vec4f, dr: vec4f) {
  let q4 = q[base] * p.scale;
  add_rows(dv, dout[base], pr);
  add_rows(dk, q4, dr);
}
