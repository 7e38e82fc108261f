// Causal GQA attention backward, pass 2 of 2: dk and dv (needs dsum = D from attention_backward_dq.wgsl).
//   with s, P, dP, D, dS as in attention_backward_dq.wgsl, for kv head g and key position j:
//   dv[b, j, g, :] = sum_{h in group g} sum_{t >= j} P[t, j] * dout[b, t, h, :]
//   dk[b, j, g, :] = sum_{h in group g} sum_{t >= j} dS[t, j] * scale * q[b, t, h, :]
//   (with a sliding window, WINDOW > 0, only t < j + WINDOW)
// The sum over the G = NH / NKV query heads of a group is part of the row loop, so every element of dk and
// dv is owned by one invocation and summed in a fixed order (deterministic, no atomics).
// Shapes: dout, q (B, T, NH, HS); k, v, dk, dv (B, T, NKV, HS); lse, dsum (B, NH, T).
// Bindings: 0 params {T, NH, NKV, G, scale}; 1 dout, 2 q, 3 k, 4 v, 5 lse, 6 dsum (read);
//           7 dk (write), 8 dv (write). With SEGMENTED, lse is followed by the (B, T, 2) shared-prefix
//           mask (f32 integers) at offset B * NH * T.
// Dispatch: (ceil(T / (4 * KG)), NKV, B). A workgroup owns 4 * KG key positions of kv head g and visits
//   the query rows R = t * G + i (as in the forward) with t >= its first key, BR rows per tile:
//   1. invocations compute P and dS for blocks of 4 rows x 4 keys (16 vec4 loads feed 32 dot products)
//      into pk and dsk;
//   2. invocation (kg, c) = (lid / HS4, lid % HS4) owns dims 4c..4c+3 of dk and dv of keys 4kg..4kg+3 in
//      registers and adds P dout and dS q over the tile's rows, in row order.
// Overwrites dk and dv.
// Overrides: HS4 = HS / 4 (HS must be a multiple of 4: the (.., HS) tensors are read as vec4s), KG key
//   groups of 4 per workgroup, BR rows per tile (a multiple of 4); the workgroup size is KG * HS4.
//   WINDOW: 0 for full causal attention, else the sliding window (rows past every key's window are skipped).
//   SEGMENTED: the shared-prefix mask of lib/attention_segments.wgsl (as in attention_forward.wgsl).

struct Params { T: u32, NH: u32, NKV: u32, G: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<vec4f>;
@group(0) @binding(2) var<storage, read> q: array<vec4f>;
@group(0) @binding(3) var<storage, read> k: array<vec4f>;
@group(0) @binding(4) var<storage, read> v: array<vec4f>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> dsum: array<f32>;
@group(0) @binding(7) var<storage, read_write> dk: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> dv: array<vec4f>;

override HS4: u32 = 16u;
override KG: u32 = 4u;
override BR: u32 = 64u;
override WINDOW: u32 = 0u;
override SEGMENTED: bool = false;

var<workgroup> pk: array<vec4f, BR * KG>;   // [row r][key group]: P of 4 keys
var<workgroup> dsk: array<vec4f, BR * KG>;  // [row r][key group]: dS of 4 keys

//#include attention_rows
//#include attention_segments
//#include attention_backward_blocks

// the mask's pairs follow lse's B * NH * T values (B = the dispatch's z)
var<private> seg_base: u32;
fn seg_pair(i: u32) -> vec2u {
  let o = seg_base + 2u * i;
  return vec2u(u32(lse[o]), u32(lse[o + 1u]));
}

@compute @workgroup_size(KG * HS4)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  seg_base = nwg.z * p.NH * p.T;
  let b = wid.z;
  let g = wid.y;
  let G = p.G;
  let TG = p.T * G;
  let WG = KG * HS4;
  let j0 = wid.x * 4u * KG;
  let kg = lid / HS4;
  let c = lid % HS4;

  // rows before j0 * G are at positions < j0 and see none of this workgroup's keys
  let rStart = j0 * G;
  // with a window, rows at positions >= the last key + WINDOW see none of them
  var rEnd = TG;
  if (index_window() > 0u) { rEnd = min(TG, (j0 + 4u * KG - 1u + WINDOW) * G); }
  let nTiles = (rEnd - rStart + BR - 1u) / BR;
  var dka = mat4x4f(); // column e: key j0 + 4 kg + e
  var dva = mat4x4f();
  for (var rt = 0u; rt < nTiles; rt++) {
    let Rb = rStart + rt * BR;
    if (SEGMENTED) {
      // row tiles whose rows all mask this workgroup's keys are skipped
      // through pk[0]: once the previous tile's rows have read it, and before this tile writes it
      workgroupBarrier();
      if (lid == 0u) { pk[0] = hole_pack(seg_hole(b, Rb / G, (min(Rb + BR, rEnd) - 1u) / G)); }
      let hole = hole_unpack(workgroupUniformLoad(&pk[0]));
      if (j0 >= hole.x && j0 + 4u * KG <= hole.y) { continue; }
    }
    workgroupBarrier(); // pk / dsk of the previous tile are no longer read

    // 1. P and dS of 4 x 4 blocks; pk[r * KG + kb] holds row r's values for the 4 keys of group kb
    for (var blk = lid; blk < (BR / 4u) * KG; blk += WG) {
      let kb = blk % KG;
      let rb = blk / KG;
      let rA = Rb + 4u * rb;
      let keyA = j0 + 4u * kb;
      var pm = mat4x4f(); // column r: P of row rA + r for the 4 keys
      var dsm = mat4x4f(); // and its dS
      if (rA < TG && keyA < p.T && keyA <= min(rA + 3u, TG - 1u) / G) {
        let rows = block_rows(rA, TG);
        let sd = block_scores_dp(block_row_bases(b, g, rows), block_key_bases(b, g, keyA));
        // row r of each: row rA + r's values for the 4 keys
        let s = transpose(sd.s);
        let dp = transpose(sd.dp);
        // key j is seen by row r when j <= position of r (which also keeps j < T), and by the shared-prefix
        // mask of the row ((0, 0): every key, without SEGMENTED)
        let keys = vec4u(keyA, keyA + 1u, keyA + 2u, keyA + 3u);
        for (var r = 0u; r < 4u; r++) {
          let ir = row_index(b, g, rows[r]);
          let tr = rows[r] / G;
          pm[r] = attention_p(s[r], lse[ir], visible(keys, rA + r, TG) & seg_sees_keys(keys, seg_of(b, tr), tr));
          dsm[r] = attention_ds_of_p(pm[r], dp[r], vec4f(dsum[ir]));
        }
      }
      let o = 4u * rb * KG + kb;
      for (var r = 0u; r < 4u; r++) {
        pk[o + r * KG] = pm[r];
        dsk[o + r * KG] = dsm[r];
      }
    }
    workgroupBarrier();

    // 2. accumulate over the tile's rows; (t, i) walks R = t * G + i without divisions
    let nr = min(BR, rEnd - Rb);
    var t = Rb / G;
    var i = Rb % G;
    for (var r = 0u; r < nr; r++) {
      add_dkv_row(&dka, &dva, ((b * p.T + t) * p.NH + g * G + i) * HS4 + c, pk[r * KG + kg], dsk[r * KG + kg]);
      i++;
      if (i == G) {
        i = 0u;
        t++;
      }
    }
  }

  for (var e = 0u; e < 4u; e++) {
    let key = j0 + 4u * kg + e;
    if (key < p.T) {
      let base = key_base(b, g, key) + c;
      dk[base] = dka[e];
      dv[base] = dva[e];
    }
  }
}
