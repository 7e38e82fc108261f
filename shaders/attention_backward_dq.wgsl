// Causal GQA attention backward, pass 1 of 2: dq, and D = rowsum(dout * out) for pass 2.
// Flash-attention style: the probabilities are recomputed from the saved lse, never stored.
//   s[t, j]  = scale * q[b, t, h, :] . k[b, j, g, :]   (j <= t, and t - j < WINDOW when WINDOW > 0;
//              g = h / G, G = NH / NKV)
//   P[t, j]  = exp(s[t, j] - lse[b, h, t])
//   dP[t, j] = dout[b, t, h, :] . v[b, j, g, :]
//   D[t]     = sum_d dout[b, t, h, d] * out[b, t, h, d]       (= sum_j P dP)
//   dS[t, j] = P[t, j] * (dP[t, j] - D[t])
//   dq[b, t, h, :] = scale * sum_{j <= t} dS[t, j] * k[b, j, g, :]
// Shapes: dout, q, out, dq (B, T, NH, HS); k, v (B, T, NKV, HS); lse, dsum (B, NH, T).
// Bindings: 0 params {T, NH, NKV, G, scale}; 1 dout, 2 q, 3 k, 4 v, 5 out, 6 lse (read);
//           7 dq (write), 8 dsum (write: D, read by attention_backward_dkv.wgsl). With SEGMENTED, lse
//           is followed by the (B, T, 2) shared-prefix mask (f32 integers) at offset B * NH * T.
// Dispatch: (ceil(T * G / BQ), NKV, B), BQ = 4 * RG; rows R = t * G + i as in attention_forward.wgsl.
//   First one invocation per row forms D. Then per tile of BK keys: invocations compute dS for blocks of
//   4 rows x 4 keys (16 vec4 loads feed 32 dot products) into dss; then invocation (rg, c) =
//   (lid / HS4, lid % HS4) adds dS k to dims 4c..4c+3 of rows 4rg..4rg+3, held in registers, in key order
//   (deterministic).
// Overwrites dq and dsum.
// Overrides: HS4 = HS / 4 (HS must be a multiple of 4: the (.., HS) tensors are read as vec4s), RG row
//   groups of 4 per workgroup, BK keys per tile (a multiple of 4); the workgroup size is RG * HS4.
//   WINDOW: 0 for full causal attention, else the sliding window (as in attention_forward.wgsl).
//   SEGMENTED: the shared-prefix mask of lib/attention_segments.wgsl (as in attention_forward.wgsl).

struct Params { T: u32, NH: u32, NKV: u32, G: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<vec4f>;
@group(0) @binding(2) var<storage, read> q: array<vec4f>;
@group(0) @binding(3) var<storage, read> k: array<vec4f>;
@group(0) @binding(4) var<storage, read> v: array<vec4f>;
@group(0) @binding(5) var<storage, read> out: array<vec4f>;
@group(0) @binding(6) var<storage, read> lse: array<f32>;
@group(0) @binding(7) var<storage, read_write> dq: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> dsum: array<f32>;

override HS4: u32 = 16u;
override RG: u32 = 4u;
override BK: u32 = 64u;
override WINDOW: u32 = 0u;
override SEGMENTED: bool = false;

var<workgroup> dss: array<vec4f, RG * BK>;  // [key j][row group]: dS of 4 rows
var<workgroup> rowLse: array<f32, 4u * RG>;
var<workgroup> rowD: array<f32, 4u * RG>;

//#include attention_rows
//#include attention_segments
//#include attention_backward_blocks

// the mask's pairs follow lse's B * NH * T values (B = the dispatch's z)
var<private> seg_base: u32;
fn seg_pair(i: u32) -> vec2u {
  let o = seg_base + 2u * i;
  return vec2u(u32(lse[o]), u32(lse[o + 1u]));
}

@compute @workgroup_size(RG * HS4)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  seg_base = nwg.z * p.NH * p.T;
  let b = wid.z;
  let g = wid.y;
  let G = p.G;
  let TG = p.T * G;
  let BQ = 4u * RG;
  let WG = RG * HS4;
  let R0 = wid.x * BQ;

  for (var rr = lid; rr < BQ; rr += WG) {
    let R = R0 + rr;
    var D = 0.0;
    var L = 0.0;
    if (R < TG) {
      let base = row_base(b, g, R);
      for (var c2 = 0u; c2 < HS4; c2++) { D += dot(dout[base + c2], out[base + c2]); }
      L = lse[row_index(b, g, R)];
      dsum[row_index(b, g, R)] = D;
    }
    rowD[rr] = D;
    rowLse[rr] = L;
  }

  let tLast = (min(R0 + BQ, TG) - 1u) / G;
  let nTiles = tLast / BK + 1u;
  let kStart = first_key_tile(R0, BK);
  // SEGMENTED: key tiles inside every row's masked hole are skipped (none without it)
  var hole = vec2u(0xffffffffu, 0u);
  if (SEGMENTED) {
    // through dss[0], which the tile loop writes only after its first barrier
    if (lid == 0u) { dss[0] = hole_pack(seg_hole(b, R0 / G, tLast)); }
    hole = hole_unpack(workgroupUniformLoad(&dss[0]));
  }
  let rg = lid / HS4;
  let c = lid % HS4;
  let RA = R0 + 4u * rg;
  var acc = mat4x4f(); // column i: row RA + i
  for (var kt = kStart; kt < nTiles; kt++) {
    let j0 = kt * BK;
    if (j0 >= hole.x && j0 + BK <= hole.y) { continue; } // every row masks the whole tile
    workgroupBarrier(); // dss of the previous tile is no longer read; rowD / rowLse are written

    // dS of 4 x 4 blocks; dss[j * RG + rb] holds key j's dS for the 4 rows of group rb (0 where masked)
    for (var blk = lid; blk < RG * (BK / 4u); blk += WG) {
      let rb = blk % RG;
      let kb = blk / RG;
      let rA = R0 + 4u * rb;
      let keyA = j0 + 4u * kb;
      var dsm = mat4x4f(); // column e: dS of key keyA + e for the 4 rows
      if (rA < TG && keyA <= min(rA + 3u, TG - 1u) / G) {
        let rows = block_rows(rA, TG);
        let sd = block_scores_dp(block_row_bases(b, g, rows), block_key_bases(b, g, keyA));
        let rl = 4u * rb;
        let lse4 = vec4f(rowLse[rl], rowLse[rl + 1u], rowLse[rl + 2u], rowLse[rl + 3u]);
        let d4 = vec4f(rowD[rl], rowD[rl + 1u], rowD[rl + 2u], rowD[rl + 3u]);
        // causal mask: key j is seen by row r when j <= position of r
        let t4 = rows / G;
        // the shared-prefix mask of the 4 rows ((0, 0): every key, without SEGMENTED)
        let sg0 = seg_of(b, t4.x);
        let sg1 = seg_of(b, t4.y);
        let sg2 = seg_of(b, t4.z);
        let sg3 = seg_of(b, t4.w);
        let pe4 = vec4u(sg0.x, sg1.x, sg2.x, sg3.x);
        let ss4 = vec4u(sg0.y, sg1.y, sg2.y, sg3.y);
        for (var e = 0u; e < 4u; e++) {
          dsm[e] = attention_ds(sd.s[e], lse4, sd.dp[e], d4, seen(vec4u(keyA + e), t4) & seg_sees_rows(keyA + e, pe4, ss4, t4));
        }
      }
      let o = 4u * kb * RG + rb;
      for (var e = 0u; e < 4u; e++) { dss[o + e * RG] = dsm[e]; }
    }
    workgroupBarrier();

    if (RA < TG) {
      let tg = min(RA + 3u, TG - 1u) / G;
      var nvg = 0u;
      if (tg >= j0) { nvg = min(BK, tg + 1u - j0); }
      for (var j = 0u; j < nvg; j++) { add_rows(&acc, k[key_base(b, g, j0 + j) + c], dss[j * RG + rg]); }
    }
  }

  for (var i = 0u; i < 4u; i++) {
    if (RA + i < TG) { dq[row_base(b, g, RA + i) + c] = acc[i] * p.scale; }
  }
}
