// Causal GQA attention backward in one pass, for short sequences: dq, dk and dv of one (batch, kv head)
// per workgroup, with every score of the head's causal (T * G, T) block held in workgroup memory once.
// The two-pass kernels (attention_backward_dq.wgsl, then attention_backward_dkv.wgsl) recompute the scores
// and dP in each pass and pay each pass's barriers; at a few tokens per sequence (the built-in model's
// T = 16) those barriers, not the arithmetic, are the cost on software adapters.
//   s, P, dP, D, dS as in attention_backward_dq.wgsl;
//   dq[b, t, h, :] = scale * sum_{j <= t} dS[t, j] * k[b, j, g, :]                 (in key order)
//   dv[b, j, g, :] = sum_{h in group g} sum_{t >= j} P[t, j] * dout[b, t, h, :]      (in row order)
//   dk[b, j, g, :] = sum_{h in group g} sum_{t >= j} dS[t, j] * scale * q[b, t, h, :] (in row order)
// Every value is formed as the two-pass kernels form it, with the same expressions and summation orders,
// so the outputs equal theirs (the self-test and test/attention_fused.test.ts compare them).
// Shapes: dout, q, out, dq (B, T, NH, HS); k, v, dk, dv (B, T, NKV, HS); lse (B, NH, T).
// Bindings: 0 params {T, NH, NKV, G, scale}; 1 dout, 2 q, 3 k, 4 v, 5 out, 6 lse (read);
//           7 dq, 8 dk, 9 dv (write).
// Dispatch: (1, NKV, B). Rows R = t * G + i as in attention_forward.wgsl.
//   1. one invocation per row forms D = rowsum(dout * out) and loads lse;
//   2. invocations compute P and dS for blocks of 4 rows x 4 keys (16 vec4 loads feed 32 dot products,
//      blocks above the diagonal skipped) into dsq ([key][row group], for dq) and, transposed, into pk and
//      dsk ([row][key group], for dk and dv);
//   3. invocation (grp, c) = (lid / HS4, lid % HS4) adds dS k to dims 4c..4c+3 of rows 4grp..4grp+3 and,
//      when grp < NKG, P dout and dS q to dims 4c..4c+3 of keys 4grp..4grp+3, in registers.
// Overwrites dq, dk and dv. Two barriers in all.
// Overrides: HS4 = HS / 4; NRG = ceil(T * G / 4) row groups and NKG = ceil(T / 4) key groups (the host
//   checks that the workgroup, NRG * HS4 invocations, and the workgroup memory fit); WINDOW as in
//   attention_forward.wgsl.

struct Params { T: u32, NH: u32, NKV: u32, G: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<vec4f>;
@group(0) @binding(2) var<storage, read> q: array<vec4f>;
@group(0) @binding(3) var<storage, read> k: array<vec4f>;
@group(0) @binding(4) var<storage, read> v: array<vec4f>;
@group(0) @binding(5) var<storage, read> out: array<vec4f>;
@group(0) @binding(6) var<storage, read> lse: array<f32>;
@group(0) @binding(7) var<storage, read_write> dq: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> dk: array<vec4f>;
@group(0) @binding(9) var<storage, read_write> dv: array<vec4f>;

override HS4: u32 = 8u;
override NRG: u32 = 4u;
override NKG: u32 = 4u;
override WINDOW: u32 = 0u;
// lib/attention_rows reads it; the fused form never takes the shared-prefix mask (the host refuses it)
const SEGMENTED: bool = false;

var<workgroup> dsq: array<vec4f, NRG * NKG * 4u>; // [key j][row group]: dS of 4 rows
var<workgroup> pk: array<vec4f, NRG * NKG * 4u>;  // [row r][key group]: P of 4 keys
var<workgroup> dsk: array<vec4f, NRG * NKG * 4u>; // [row r][key group]: dS of 4 keys
var<workgroup> rowLse: array<f32, 4u * NRG>;
var<workgroup> rowD: array<f32, 4u * NRG>;

//#include attention_rows
//#include attention_backward_blocks

@compute @workgroup_size(NRG * HS4)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let g = wid.y;
  let G = p.G;
  let TG = p.T * G;
  let WG = NRG * HS4;

  // 1. D and lse of every row
  for (var rr = lid; rr < 4u * NRG; rr += WG) {
    var D = 0.0;
    var L = 0.0;
    if (rr < TG) {
      let base = row_base(b, g, rr);
      for (var c2 = 0u; c2 < HS4; c2++) { D += dot(dout[base + c2], out[base + c2]); }
      L = lse[row_index(b, g, rr)];
    }
    rowD[rr] = D;
    rowLse[rr] = L;
  }
  workgroupBarrier();

  // 2. P and dS of 4 x 4 blocks (0 where masked or above the diagonal)
  for (var blk = lid; blk < NRG * NKG; blk += WG) {
    let rb = blk % NRG;
    let kb = blk / NRG;
    let rA = 4u * rb;
    let keyA = 4u * kb;
    var pm = mat4x4f(); // column e: P of key keyA + e for the 4 rows
    var dsm = mat4x4f(); // and its dS
    if (rA < TG && keyA <= min(rA + 3u, TG - 1u) / G) {
      let rows = block_rows(rA, TG);
      let sd = block_scores_dp(block_row_bases(b, g, rows), block_key_bases(b, g, keyA));
      let lse4 = vec4f(rowLse[rA], rowLse[rA + 1u], rowLse[rA + 2u], rowLse[rA + 3u]);
      let d4 = vec4f(rowD[rA], rowD[rA + 1u], rowD[rA + 2u], rowD[rA + 3u]);
      let t4 = rows / G;
      // P as attention_backward_dkv.wgsl forms it (attention_p4), dS = P (dP - D) likewise
      for (var e = 0u; e < 4u; e++) {
        pm[e] = attention_p4(sd.s[e], lse4, seen(vec4u(keyA + e), t4));
        dsm[e] = attention_ds_of_p(pm[e], sd.dp[e], d4);
      }
    }
    let o = 4u * kb * NRG + rb;
    let o2 = 4u * rb * NKG + kb;
    let pt = transpose(pm);
    let dt = transpose(dsm);
    for (var e = 0u; e < 4u; e++) {
      dsq[o + e * NRG] = dsm[e];
      pk[o2 + e * NKG] = pt[e];
      dsk[o2 + e * NKG] = dt[e];
    }
  }
  workgroupBarrier();

  let grp = lid / HS4;
  let c = lid % HS4;

  // 3a. dq of rows 4grp..4grp+3, over the keys any of them sees, in key order
  let RA = 4u * grp;
  if (RA < TG) {
    let nvg = min(RA + 3u, TG - 1u) / G + 1u;
    var acc = mat4x4f(); // column i: row RA + i
    for (var j = 0u; j < nvg; j++) {
      add_rows(&acc, k[key_base(b, g, j) + c], dsq[j * NRG + grp]);
    }
    for (var i = 0u; i < 4u; i++) {
      if (RA + i < TG) { dq[row_base(b, g, RA + i) + c] = acc[i] * p.scale; }
    }
  }

  // 3b. dk and dv of keys 4grp..4grp+3, over the rows that see any of them, in row order
  if (grp < NKG) {
    let j0 = 4u * grp;
    let rStart = j0 * G;
    var rEnd = TG;
    if (WINDOW > 0u) { rEnd = min(TG, (j0 + 3u + WINDOW) * G); }
    var dka = mat4x4f(); // column e: key j0 + e
    var dva = mat4x4f();
    var t = rStart / G;
    var i = rStart % G;
    for (var r = rStart; r < rEnd; r++) {
      add_dkv_row(&dka, &dva, ((b * p.T + t) * p.NH + g * G + i) * HS4 + c, pk[r * NKG + grp], dsk[r * NKG + grp]);
      i++;
      if (i == G) {
        i = 0u;
        t++;
      }
    }
    for (var e = 0u; e < 4u; e++) {
      if (j0 + e < p.T) {
        let base = key_base(b, g, j0 + e) + c;
        dk[base] = dka[e];
        dv[base] = dva[e];
      }
    }
  }
}
