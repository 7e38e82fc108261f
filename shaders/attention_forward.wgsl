// Causal self-attention forward with grouped-query attention, flash-attention style (one pass with an
// online softmax; the (T, T) score matrix is never stored).
//   G = NH / NKV; query head h reads kv head g = h / G; scale from params (1 / sqrt(HS), or Gemma's
//   query_pre_attn_scalar^-1/2)
//   s[t, j]         = scale * q[b, t, h, :] . k[b, j, g, :]          for j <= t (causal), and
//                     t - j < WINDOW when WINDOW > 0 (sliding-window attention)
//   out[b, t, h, :] = sum_j exp(s[t, j] - lse[b, h, t]) * v[b, j, g, :]
//   lse[b, h, t]    = log(sum_{j <= t} exp(s[t, j]))    computed as m + log(sum exp(s - m)), m = row max
// Shapes: q, out (B, T, NH, HS); k, v (B, T, NKV, HS); lse (B, NH, T). All row-major, contiguous.
// Bindings: 0 params {T, NH, NKV, G, scale}; 1 q (read), 2 k (read), 3 v (read), 4 out (write),
//           5 lse (write), 6 seg (read: (B, T, 2) shared-prefix mask as f32 integers, read only with SEGMENTED).
// Dispatch: (ceil(T * G / BQ), NKV, B), BQ = 4 * RG. A workgroup owns BQ "rows" of kv head g: row
//   R = t * G + i is query position t of head g * G + i, so one pass over the keys serves every query head
//   of the group. Per tile of BK keys:
//   1. scores: each invocation computes 4 rows x 4 keys blocks (register blocking: 8 vec4 loads feed 16
//      dot products), into ps;
//   2. softmax: one invocation per row updates the row's running max m and sum l and turns its scores into
//      probabilities exp(s - m);
//   3. p v: invocation (rg, c) = (lid / HS4, lid % HS4) owns output dims 4c..4c+3 of rows 4rg..4rg+3 in
//      registers, rescales them by exp(m_old - m_new) and adds p v.
//   Blocks above the diagonal are skipped; rows past T * G are idle. Software adapters turn every load
//   with a computed index into a per-lane gather, so the blocking matters more there than on GPUs.
// Saves for backward: lse. Overwrites out and lse.
// Overrides: HS4 = HS / 4 (HS must be a multiple of 4: q, k, v and out are read as vec4s), RG row groups
//   of 4 per workgroup, BK keys per tile (a multiple of 4); the workgroup size is RG * HS4. WINDOW: 0 for
//   full causal attention, else the sliding window (tiles wholly before every row's window are skipped).
//   SEGMENTED: the shared-prefix mask of lib/attention_segments.wgsl (query t sees key j <= t when
//   j < seg[t].x or j >= seg[t].y); masked keys get probability 0 in step 2.
//   ONE_TILE: the host sets it when one tile holds every key (BK >= T): then there is no online rescaling,
//   and each invocation of step 3 forms its 4 rows' max and sum itself from ps (the same values, in the same
//   order, as step 2 would), which saves two of the three barriers.

struct Params { T: u32, NH: u32, NKV: u32, G: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> q: array<vec4f>;
@group(0) @binding(2) var<storage, read> k: array<vec4f>;
@group(0) @binding(3) var<storage, read> v: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<storage, read> seg: array<vec2f>;

override HS4: u32 = 16u;
override RG: u32 = 4u;
override BK: u32 = 64u;
override WINDOW: u32 = 0u;
override SEGMENTED: bool = false;
override ONE_TILE: bool = false;

var<workgroup> ps: array<vec4f, RG * BK>;  // [key j][row group]: scores, then probabilities, of 4 rows
var<workgroup> rowM: array<f32, 4u * RG>;
var<workgroup> rowL: array<f32, 4u * RG>;
var<workgroup> rowAlpha: array<f32, 4u * RG>;

//#include attention_rows
//#include attention_segments

fn seg_pair(i: u32) -> vec2u { return vec2u(seg[i]); }

@compute @workgroup_size(RG * HS4)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let g = wid.y;
  let G = p.G;
  let TG = p.T * G;
  let BQ = 4u * RG;
  let WG = RG * HS4;
  let R0 = wid.x * BQ;
  for (var rr = lid; rr < BQ; rr += WG) {
    rowM[rr] = NEG_BIG;
    rowL[rr] = 0.0;
  }

  let tLast = (min(R0 + BQ, TG) - 1u) / G; // the last position of the block: keys past it are masked
  let nTiles = tLast / BK + 1u;
  // with a window, keys before the first row's window are masked for every row of the block
  let kStart = first_key_tile(R0, BK);
  // SEGMENTED: key tiles inside every row's masked hole are skipped (none without it)
  var hole = vec2u(0xffffffffu, 0u);
  if (SEGMENTED) {
    // through ps[0], which the tile loop writes only after its first barrier
    if (lid == 0u) { ps[0] = hole_pack(seg_hole(b, R0 / G, tLast)); }
    hole = hole_unpack(workgroupUniformLoad(&ps[0]));
  }
  let rg = lid / HS4;
  let c = lid % HS4;
  let RA = R0 + 4u * rg;
  var a = mat4x4f(); // column i: row RA + i
  if (ONE_TILE) {
    forward_one_tile(b, g, R0, rg, c);
    return;
  }
  for (var kt = kStart; kt < nTiles; kt++) {
    let j0 = kt * BK;
    if (j0 >= hole.x && j0 + BK <= hole.y) { continue; } // every row masks the whole tile
    workgroupBarrier(); // ps of the previous tile is no longer read; rowM / rowL are initialised

    // 1. scores of 4 x 4 blocks
    score_blocks(b, g, R0, j0, BK / 4u, lid);
    workgroupBarrier();

    // 2. online softmax, one invocation per row over the tile's keys [js, nv) it sees; masked and missing
    //    entries become 0
    for (var rr = lid; rr < BQ; rr += WG) {
      let R = R0 + rr;
      let pr = rr / 4u;
      let pc = rr % 4u;
      let keys = row_tile_keys(R, TG, j0, BK);
      let js = keys.x;
      let nv = keys.y;
      var alpha = 1.0;
      if (nv > js) {
        let tq = min(R, TG - 1u) / G;
        let sg = seg_of(b, tq);
        let m = rowM[rr];
        var mx = m;
        for (var j = js; j < nv; j++) {
          if (seg_sees(j0 + j, sg, tq)) { mx = max(mx, ps[j * RG + pr][pc]); }
        }
        alpha = exp(m - mx);
        var sum = 0.0;
        for (var j = js; j < nv; j++) {
          var e = 0.0;
          if (seg_sees(j0 + j, sg, tq)) { e = exp(ps[j * RG + pr][pc] - mx); }
          ps[j * RG + pr][pc] = e;
          sum += e;
        }
        rowL[rr] = rowL[rr] * alpha + sum;
        rowM[rr] = mx;
      }
      for (var j = 0u; j < js; j++) { ps[j * RG + pr][pc] = 0.0; }
      for (var j = max(nv, js); j < BK; j++) { ps[j * RG + pr][pc] = 0.0; }
      rowAlpha[rr] = alpha;
    }
    workgroupBarrier();

    // 3. rescale the accumulators and add p v for the keys any of the 4 rows sees
    if (RA < TG) {
      let tg = min(RA + 3u, TG - 1u) / G;
      var nvg = 0u;
      if (tg >= j0) { nvg = min(BK, tg + 1u - j0); }
      for (var i = 0u; i < 4u; i++) { a[i] *= rowAlpha[4u * rg + i]; }
      for (var j = 0u; j < nvg; j++) { add_rows(&a, v[key_base(b, g, j0 + j) + c], ps[j * RG + rg]); }
    }
  }

  // rowM and rowL are final: the last writes were before the last barrier
  let r4 = 4u * rg;
  store_rows(b, g, RA, c, a, vec4f(rowM[r4], rowM[r4 + 1u], rowM[r4 + 2u], rowM[r4 + 3u]), vec4f(rowL[r4], rowL[r4 + 1u], rowL[r4 + 2u], rowL[r4 + 3u]));
}

// step 1 of a tile: the scaled scores of the 4 x 4 blocks of nkb * 4 keys from j0 into ps; ps[j * RG + rb] holds
// key j's scores of the 4 rows of group rb (blocks above the diagonal are skipped)
fn score_blocks(b: u32, g: u32, R0: u32, j0: u32, nkb: u32, lid: u32) {
  let TG = p.T * p.G;
  for (var blk = lid; blk < RG * nkb; blk += RG * HS4) {
    let rb = blk % RG;
    let kb = blk / RG;
    let rA = R0 + 4u * rb;
    let keyA = j0 + 4u * kb;
    if (rA < TG && keyA <= min(rA + 3u, TG - 1u) / p.G) {
      let s = block_scores(block_row_bases(b, g, block_rows(rA, TG)), block_key_bases(b, g, keyA));
      let o = 4u * kb * RG + rb;
      for (var e = 0u; e < 4u; e++) { ps[o + e * RG] = s[e] * p.scale; }
    }
  }
}

// out and lse of rows RA..RA+3 (those before TG): a holds their sums of p v (column i: row RA + i), m and l
// their max and sum of exp(s - m)
fn store_rows(b: u32, g: u32, RA: u32, c: u32, a: mat4x4f, m: vec4f, l: vec4f) {
  for (var i = 0u; i < 4u; i++) {
    let R = RA + i;
    if (R < p.T * p.G) {
      out[row_base(b, g, R) + c] = a[i] / l[i];
      if (c == 0u) { lse[row_index(b, g, R)] = m[i] + log(l[i]); }
    }
  }
}

// ONE_TILE: every key in one tile at j0 = 0 (kStart is then 0 too). Step 1 as in main; then invocation (rg, c)
// forms its 4 rows' max m and sum l over the keys each sees, p = exp(s - m) (0 where masked), and
// out = sum_j p v / l, lse = m + log(l): what main computes with one tile (alpha = exp(NEG_BIG - m) = 0).
fn forward_one_tile(b: u32, g: u32, R0: u32, rg: u32, c: u32) {
  let G = p.G;
  let TG = p.T * G;
  let lid = rg * HS4 + c;
  let tLast = (min(R0 + 4u * RG, TG) - 1u) / G;
  score_blocks(b, g, R0, 0u, tLast / 4u + 1u, lid); // the key blocks any row of the workgroup sees
  workgroupBarrier();

  let RA = R0 + 4u * rg;
  if (RA >= TG) { return; }
  // keys [js, nv) of each of the 4 rows (rows past the end see none)
  var js = vec4u(0u);
  var nv = vec4u(0u);
  for (var i = 0u; i < 4u; i++) {
    let kv = row_tile_keys(RA + i, TG, 0u, BK);
    js[i] = kv.x;
    nv[i] = kv.y;
  }
  let nvg = min(RA + 3u, TG - 1u) / G + 1u;
  var m = vec4f(NEG_BIG);
  for (var j = 0u; j < nvg; j++) {
    let inRow = (vec4u(j) >= js) & (vec4u(j) < nv);
    m = select(m, max(m, ps[j * RG + rg]), inRow);
  }
  var l = vec4f(0.0);
  var a = mat4x4f(); // column i: row RA + i
  for (var j = 0u; j < nvg; j++) {
    let inRow = (vec4u(j) >= js) & (vec4u(j) < nv);
    let e = select(vec4f(0.0), exp(ps[j * RG + rg] - m), inRow);
    l += e;
    add_rows(&a, v[key_base(b, g, j) + c], e);
  }
  store_rows(b, g, RA, c, a, m, l);
}
