// Causal GQA attention backward, pass 2 of 2, with Q/dout tiles in workgroup memory: the GPU-class variant
// of attention_backward_dkv.wgsl (same math and outputs; needs dsum = D from attention_tiled_backward_dq.wgsl).
//   with s, P, dP, D, dS as in attention_backward_dq.wgsl, for kv head g and key position j:
//   dv[b, j, g, :] = sum_{h in group g} sum_{t >= j} P[t, j] * dout[b, t, h, :]
//   dk[b, j, g, :] = sum_{h in group g} sum_{t >= j} dS[t, j] * scale * q[b, t, h, :]
//   (with a sliding window, WINDOW > 0, only t < j + WINDOW)
// Every element of dk and dv is owned by one invocation and summed in a fixed order (deterministic).
// Shapes: dout, q (B, T, NH, HS); k, v, dk, dv (B, T, NKV, HS); lse, dsum (B, NH, T).
// Bindings: 0 params {T, NH, NKV, G, scale}; 1 dout, 2 q, 3 k, 4 v, 5 lse, 6 dsum (read);
//           7 dk (write), 8 dv (write).
// Dispatch: (ceil(T / (4 * KG)), NKV, B). A workgroup owns 4 * KG key positions of kv head g and visits
//   the query rows R = t * G + i (as in the forward) with t >= its first key, BR rows per tile:
//   0. the workgroup copies the tile's rows of q and dout into qt and dt (coalesced): the rows are the
//      operand streamed past the workgroup's keys, as the K/V tiles are in the forward;
//   1. KG * BR / 4 blocks of 4 rows x 4 keys, each split over S slices of HS4 / S dims (S * BR = 4 * HS4:
//      one per invocation): the invocations compute partial blocks of s and dP (q, dout from the tiles;
//      k, v from memory) into ps, pd;
//   2. one invocation per block sums the S partials (in slice order) and forms P into slice 0 of ps and
//      dS into slice 0 of pd (0 where masked);
//   3. invocation (kg, c) = (lid / HS4, lid % HS4) owns dims 4c..4c+3 of dk and dv of keys 4kg..4kg+3 in
//      registers and adds P dout and dS q (from the tiles) over the tile's rows, in row order.
// Overwrites dk and dv.
// Overrides: HS4 = HS / 4 (HS a multiple of 4), KG key groups of 4 per workgroup, BR rows per tile (a
//   multiple of 4), S dim slices (a divisor of HS4); the workgroup size is KG * HS4. WINDOW: 0 for full
//   causal attention, else the sliding window. Workgroup memory: 16 * (2 * BR * HS4 + 2 * S * BR * KG) bytes.

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
override S: u32 = 1u;
override WINDOW: u32 = 0u;
override SEGMENTED: bool = false; // attention_rows' index window; the tiled kernels take no mask

override BR: u32 = 16u;

var<workgroup> qt: array<vec4f, BR * HS4>;      // [row r][dim c]: q of the tile's rows
var<workgroup> dt: array<vec4f, BR * HS4>;      // [row r][dim c]: dout of the tile's rows
var<workgroup> ps: array<vec4f, S * BR * KG>;   // [slice][row r][key group]: partial s of 4 keys, then P
var<workgroup> pd: array<vec4f, S * BR * KG>;   // [slice][row r][key group]: partial dP of 4 keys, then dS

//#include attention_rows

@compute @workgroup_size(KG * HS4)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let g = wid.y;
  let G = p.G;
  let TG = p.T * G;
  let WG = KG * HS4;
  let NB = (BR / 4u) * KG;
  let CS = HS4 / S;
  let j0 = wid.x * 4u * KG;
  let kg = lid / HS4;
  let c = lid % HS4;

  let rStart = j0 * G;
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
    let nr = min(BR, rEnd - Rb);
    workgroupBarrier(); // the tiles, ps and pd of the previous tile are no longer read

    // 0. the tile's rows of q and dout
    for (var e = lid; e < nr * HS4; e += WG) {
      let src = row_base(b, g, Rb + e / HS4) + e % HS4;
      qt[e] = q[src];
      dt[e] = dout[src];
    }
    workgroupBarrier();

    // 1. partial s and dP of 4 x 4 blocks, slice sl of the dims
    for (var w = lid; w < NB * S; w += WG) {
      let blk = w % NB;
      let sl = w / NB;
      let kb = blk % KG;
      let rb = blk / KG;
      let rA = Rb + 4u * rb;
      let keyA = j0 + 4u * kb;
      if (rA < rEnd && keyA < p.T && keyA <= min(rA + 3u, TG - 1u) / G) {
        // rows past the tile's loaded rows and keys past the end are clamped to valid ones; rows at or
        // past rEnd see none of the keys, and the mask in step 2 zeroes their results
        let rl = 4u * rb;
        let q0 = rl * HS4;
        let q1 = min(rl + 1u, nr - 1u) * HS4;
        let q2 = min(rl + 2u, nr - 1u) * HS4;
        let q3 = min(rl + 3u, nr - 1u) * HS4;
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
        for (var c2 = sl * CS; c2 < (sl + 1u) * CS; c2++) {
          let km = mat4x4f(k[kb0 + c2], k[kb1 + c2], k[kb2 + c2], k[kb3 + c2]);
          let vm = mat4x4f(v[kb0 + c2], v[kb1 + c2], v[kb2 + c2], v[kb3 + c2]);
          s0 += qt[q0 + c2] * km;
          s1 += qt[q1 + c2] * km;
          s2 += qt[q2 + c2] * km;
          s3 += qt[q3 + c2] * km;
          dp0 += dt[q0 + c2] * vm;
          dp1 += dt[q1 + c2] * vm;
          dp2 += dt[q2 + c2] * vm;
          dp3 += dt[q3 + c2] * vm;
        }
        let o = sl * BR * KG + 4u * rb * KG + kb;
        ps[o] = s0;
        ps[o + KG] = s1;
        ps[o + 2u * KG] = s2;
        ps[o + 3u * KG] = s3;
        pd[o] = dp0;
        pd[o + KG] = dp1;
        pd[o + 2u * KG] = dp2;
        pd[o + 3u * KG] = dp3;
      }
    }
    workgroupBarrier();

    // 2. P into slice 0 of ps and dS into slice 0 of pd (zeros for masked entries and skipped blocks)
    for (var blk = lid; blk < NB; blk += WG) {
      let kb = blk % KG;
      let rb = blk / KG;
      let rA = Rb + 4u * rb;
      let keyA = j0 + 4u * kb;
      var pp = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
      var dd = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
      if (rA < rEnd && keyA < p.T && keyA <= min(rA + 3u, TG - 1u) / G) {
        let keys = vec4u(keyA, keyA + 1u, keyA + 2u, keyA + 3u);
        for (var e = 0u; e < 4u; e++) {
          let R = rA + e;
          let o = (4u * rb + e) * KG + kb;
          var s = ps[o];
          var dp = pd[o];
          for (var sl = 1u; sl < S; sl++) {
            s += ps[sl * BR * KG + o];
            dp += pd[sl * BR * KG + o];
          }
          let i = row_index(b, g, min(R, TG - 1u));
          // P <= 1 since lse >= s; the min() keeps masked entries finite before select() drops them
          pp[e] = attention_p(s, lse[i], visible(keys, R, TG));
          dd[e] = pp[e] * (dp - dsum[i]);
        }
      }
      for (var e = 0u; e < 4u; e++) {
        let o = (4u * rb + e) * KG + kb;
        ps[o] = pp[e];
        pd[o] = dd[e];
      }
    }
    workgroupBarrier();

    // 3. accumulate over the tile's rows, in row order
    for (var r = 0u; r < nr; r++) {
      let q4 = qt[r * HS4 + c] * p.scale;
      let do4 = dt[r * HS4 + c];
      let pr = ps[r * KG + kg];
      let dr = pd[r * KG + kg];
      dv0 += pr.x * do4;
      dv1 += pr.y * do4;
      dv2 += pr.z * do4;
      dv3 += pr.w * do4;
      dk0 += dr.x * q4;
      dk1 += dr.y * q4;
      dk2 += dr.z * q4;
      dk3 += dr.w * q4;
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
