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
  var dk0 = vec4f(0.0);
  var dk1 = vec4f(0.0);
  var dk2 = vec4f(0.0);
  var dk3 = vec4f(0.0);
  var dv0 = vec4f(0.0);
  var dv1 = vec4f(0.0);
  var dv2 = vec4f(0.0);
  var dv3 = vec4f(0.0);
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
      var p0 = vec4f(0.0);
      var p1 = vec4f(0.0);
      var p2 = vec4f(0.0);
      var p3 = vec4f(0.0);
      var ds0 = vec4f(0.0);
      var ds1 = vec4f(0.0);
      var ds2 = vec4f(0.0);
      var ds3 = vec4f(0.0);
      if (rA < TG && keyA < p.T && keyA <= min(rA + 3u, TG - 1u) / G) {
        // rows and keys past the end are clamped to valid ones; the mask below zeroes their results
        let rLast = TG - 1u;
        let rA1 = min(rA + 1u, rLast);
        let rA2 = min(rA + 2u, rLast);
        let rA3 = min(rA + 3u, rLast);
        let qb0 = row_base(b, g, rA);
        let qb1 = row_base(b, g, rA1);
        let qb2 = row_base(b, g, rA2);
        let qb3 = row_base(b, g, rA3);
        let kLast = p.T - 1u;
        let kb0 = key_base(b, g, keyA);
        let kb1 = key_base(b, g, min(keyA + 1u, kLast));
        let kb2 = key_base(b, g, min(keyA + 2u, kLast));
        let kb3 = key_base(b, g, min(keyA + 3u, kLast));
        var s0 = vec4f(0.0);
        var s1 = vec4f(0.0);
        var s2 = vec4f(0.0);
        var s3 = vec4f(0.0);
        var dp0 = vec4f(0.0);
        var dp1 = vec4f(0.0);
        var dp2 = vec4f(0.0);
        var dp3 = vec4f(0.0);
        for (var c2 = 0u; c2 < HS4; c2++) {
          // q * km = (dot(q, k_0), dot(q, k_1), dot(q, k_2), dot(q, k_3))
          let km = mat4x4f(k[kb0 + c2], k[kb1 + c2], k[kb2 + c2], k[kb3 + c2]);
          let vm = mat4x4f(v[kb0 + c2], v[kb1 + c2], v[kb2 + c2], v[kb3 + c2]);
          s0 += q[qb0 + c2] * km;
          s1 += q[qb1 + c2] * km;
          s2 += q[qb2 + c2] * km;
          s3 += q[qb3 + c2] * km;
          dp0 += dout[qb0 + c2] * vm;
          dp1 += dout[qb1 + c2] * vm;
          dp2 += dout[qb2 + c2] * vm;
          dp3 += dout[qb3 + c2] * vm;
        }
        // key j is seen by row r when j <= position of r (which also keeps j < T); P <= 1 since lse >= s,
        // and the min() keeps masked entries finite before select() drops them
        let keys = vec4u(keyA, keyA + 1u, keyA + 2u, keyA + 3u);
        let i0 = row_index(b, g, rA);
        let i1 = row_index(b, g, rA1);
        let i2 = row_index(b, g, rA2);
        let i3 = row_index(b, g, rA3);
        // and the shared-prefix mask of each row ((0, 0): every key, without SEGMENTED)
        p0 = attention_p(s0, lse[i0], visible(keys, rA, TG) & seg_sees_keys(keys, seg_of(b, rA / G), rA / G));
        p1 = attention_p(s1, lse[i1], visible(keys, rA + 1u, TG) & seg_sees_keys(keys, seg_of(b, rA1 / G), rA1 / G));
        p2 = attention_p(s2, lse[i2], visible(keys, rA + 2u, TG) & seg_sees_keys(keys, seg_of(b, rA2 / G), rA2 / G));
        p3 = attention_p(s3, lse[i3], visible(keys, rA + 3u, TG) & seg_sees_keys(keys, seg_of(b, rA3 / G), rA3 / G));
        ds0 = p0 * (dp0 - dsum[i0]);
        ds1 = p1 * (dp1 - dsum[i1]);
        ds2 = p2 * (dp2 - dsum[i2]);
        ds3 = p3 * (dp3 - dsum[i3]);
      }
      let o = 4u * rb * KG + kb;
      pk[o] = p0;
      pk[o + KG] = p1;
      pk[o + 2u * KG] = p2;
      pk[o + 3u * KG] = p3;
      dsk[o] = ds0;
      dsk[o + KG] = ds1;
      dsk[o + 2u * KG] = ds2;
      dsk[o + 3u * KG] = ds3;
    }
    workgroupBarrier();

    // 2. accumulate over the tile's rows; (t, i) walks R = t * G + i without divisions
    let nr = min(BR, rEnd - Rb);
    var t = Rb / G;
    var i = Rb % G;
    for (var r = 0u; r < nr; r++) {
      let base = ((b * p.T + t) * p.NH + g * G + i) * HS4 + c;
      let q4 = q[base] * p.scale;
      let do4 = dout[base];
      let pr = pk[r * KG + kg];
      let dr = dsk[r * KG + kg];
      dv0 += pr.x * do4;
      dv1 += pr.y * do4;
      dv2 += pr.z * do4;
      dv3 += pr.w * do4;
      dk0 += dr.x * q4;
      dk1 += dr.y * q4;
      dk2 += dr.z * q4;
      dk3 += dr.w * q4;
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
      var a = dk0;
      var w = dv0;
      if (e == 1u) { a = dk1; w = dv1; } else if (e == 2u) { a = dk2; w = dv2; } else if (e == 3u) { a = dk3; w = dv3; }
      let base = key_base(b, g, key) + c;
      dk[base] = a;
      dv[base] = w;
    }
  }
}
