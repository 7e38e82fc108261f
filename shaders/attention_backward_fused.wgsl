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
    var p0 = vec4f(0.0);
    var p1 = vec4f(0.0);
    var p2 = vec4f(0.0);
    var p3 = vec4f(0.0);
    var ds0 = vec4f(0.0);
    var ds1 = vec4f(0.0);
    var ds2 = vec4f(0.0);
    var ds3 = vec4f(0.0);
    if (rA < TG && keyA <= min(rA + 3u, TG - 1u) / G) {
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
        let qm = mat4x4f(q[qb0 + c2], q[qb1 + c2], q[qb2 + c2], q[qb3 + c2]);
        let dm = mat4x4f(dout[qb0 + c2], dout[qb1 + c2], dout[qb2 + c2], dout[qb3 + c2]);
        s0 += k[kb0 + c2] * qm;
        s1 += k[kb1 + c2] * qm;
        s2 += k[kb2 + c2] * qm;
        s3 += k[kb3 + c2] * qm;
        dp0 += v[kb0 + c2] * dm;
        dp1 += v[kb1 + c2] * dm;
        dp2 += v[kb2 + c2] * dm;
        dp3 += v[kb3 + c2] * dm;
      }
      let lse4 = vec4f(rowLse[rA], rowLse[rA + 1u], rowLse[rA + 2u], rowLse[rA + 3u]);
      let d4 = vec4f(rowD[rA], rowD[rA + 1u], rowD[rA + 2u], rowD[rA + 3u]);
      let t4 = vec4u(rA / G, rA1 / G, rA2 / G, rA3 / G);
      let m0 = seen(vec4u(keyA), t4);
      let m1 = seen(vec4u(keyA + 1u), t4);
      let m2 = seen(vec4u(keyA + 2u), t4);
      let m3 = seen(vec4u(keyA + 3u), t4);
      let z = vec4f(0.0);
      // P as attention_p forms it, dS = P (dP - D) as attention_backward_dkv.wgsl forms it
      p0 = select(z, exp(min(s0 * p.scale - lse4, z)), m0);
      p1 = select(z, exp(min(s1 * p.scale - lse4, z)), m1);
      p2 = select(z, exp(min(s2 * p.scale - lse4, z)), m2);
      p3 = select(z, exp(min(s3 * p.scale - lse4, z)), m3);
      ds0 = p0 * (dp0 - d4);
      ds1 = p1 * (dp1 - d4);
      ds2 = p2 * (dp2 - d4);
      ds3 = p3 * (dp3 - d4);
    }
    let o = 4u * kb * NRG + rb;
    dsq[o] = ds0;
    dsq[o + NRG] = ds1;
    dsq[o + 2u * NRG] = ds2;
    dsq[o + 3u * NRG] = ds3;
    let pt = transpose(mat4x4f(p0, p1, p2, p3));
    let dt = transpose(mat4x4f(ds0, ds1, ds2, ds3));
    let o2 = 4u * rb * NKG + kb;
    pk[o2] = pt[0];
    pk[o2 + NKG] = pt[1];
    pk[o2 + 2u * NKG] = pt[2];
    pk[o2 + 3u * NKG] = pt[3];
    dsk[o2] = dt[0];
    dsk[o2 + NKG] = dt[1];
    dsk[o2 + 2u * NKG] = dt[2];
    dsk[o2 + 3u * NKG] = dt[3];
  }
  workgroupBarrier();

  let grp = lid / HS4;
  let c = lid % HS4;

  // 3a. dq of rows 4grp..4grp+3, over the keys any of them sees, in key order
  let RA = 4u * grp;
  if (RA < TG) {
    let nvg = min(RA + 3u, TG - 1u) / G + 1u;
    var g0 = vec4f(0.0);
    var g1 = vec4f(0.0);
    var g2 = vec4f(0.0);
    var g3 = vec4f(0.0);
    for (var j = 0u; j < nvg; j++) {
      let k4 = k[key_base(b, g, j) + c];
      let dj = dsq[j * NRG + grp];
      g0 += dj.x * k4;
      g1 += dj.y * k4;
      g2 += dj.z * k4;
      g3 += dj.w * k4;
    }
    for (var i = 0u; i < 4u; i++) {
      let R = RA + i;
      if (R < TG) {
        var a = g0;
        if (i == 1u) { a = g1; } else if (i == 2u) { a = g2; } else if (i == 3u) { a = g3; }
        dq[row_base(b, g, R) + c] = a * p.scale;
      }
    }
  }

  // 3b. dk and dv of keys 4grp..4grp+3, over the rows that see any of them, in row order
  if (grp < NKG) {
    let j0 = 4u * grp;
    let rStart = j0 * G;
    var rEnd = TG;
    if (WINDOW > 0u) { rEnd = min(TG, (j0 + 3u + WINDOW) * G); }
    var dk0 = vec4f(0.0);
    var dk1 = vec4f(0.0);
    var dk2 = vec4f(0.0);
    var dk3 = vec4f(0.0);
    var dv0 = vec4f(0.0);
    var dv1 = vec4f(0.0);
    var dv2 = vec4f(0.0);
    var dv3 = vec4f(0.0);
    var t = rStart / G;
    var i = rStart % G;
    for (var r = rStart; r < rEnd; r++) {
      let base = ((b * p.T + t) * p.NH + g * G + i) * HS4 + c;
      let q4 = q[base] * p.scale;
      let do4 = dout[base];
      let pr = pk[r * NKG + grp];
      let dr = dsk[r * NKG + grp];
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
    for (var e = 0u; e < 4u; e++) {
      let key = j0 + e;
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
}
