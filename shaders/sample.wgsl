// Token sampling: one token id per row of logits, one workgroup per row, without sorting V values.
//   logits: (B, V) f32    ids: (B) u32
// greedy != 0 (temperature 0): ids[b] = argmax_v logits[b, v], the lowest index on ties.
// Otherwise, with weights w = exp((x - max) * invTemp) (logits must be finite; mask with e.g. -3e38):
//   1. top-k (0 < topK < V): keep x >= the topK-th largest logit (ties at the threshold are all kept, as in
//      Hugging Face's TopKLogitsWarper);
//   2. top-p (usePTop != 0): of those, keep x >= the largest threshold t whose kept mass
//      sum(w : x >= t) reaches topP * sum(w : top-k kept) (the smallest set of most likely tokens whose
//      probability reaches topP; tied logits are kept or dropped together);
//   3. draw by inverse CDF in index order: u = Philox4x32-10(counter = (ctrLo + c_b, ctrHi, b, 0),
//      key = (seedLo, seedHi)) word 0 (c_b = 0, or with rowCtr == 1 the u32 that ids[b] holds on entry: a
//      per-row counter, so that a row's draws depend on its own position, not on the other rows; with
//      rowCtr == 2 ids[b] holds on entry the row word that replaces b in the counter: the row's index in
//      the uncompacted batch, so that a compacted batch draws as the full one did; with rowCtr == 3 both: ids[b]
//      the row word and ids[B + b] the counter offset, for continuous batching, where rows joined at different
//      steps), top 24 bits * 2^-24; ids[b] = the first kept index whose cumulative
//      weight exceeds u * (total kept weight).
// Thresholds are found exactly, without sorting: logits map to order-preserving u32 keys and the
// threshold key is built from the top, 3 bits per pass (a radix-8 bisection on the key, at most 11
// passes): each pass sums, over the row, the count (top-k) or weight (top-p) of the elements at or above
// 7 candidate keys, and keeps the largest candidate that still reaches the goal. The draw sums contiguous
// chunks per invocation, scans the chunk sums across the workgroup, and the invocation whose range holds
// the target walks its chunk. Every sum has a fixed order: results are deterministic. Counts are summed as
// f32, exact because V < 2^24.
// src/reference/philox.ts and src/reference/sample.ts compute the same in TypeScript (Philox's WGSL is
// shaders/lib/philox.wgsl).
// Bindings: 0 params; 1 logits (read), 2 ids (read_write; with rowCtr != 0 read first: per-row counters or row words;
// rowCtr == 3: 2B entries, row words then counter offsets).
// A row with a NaN or infinite logit gets ids[b] = 0xffffffff (outside every vocabulary; the host reports it).
// Dispatch: B workgroups, split over x and y by grid(). Overwrites ids; saves nothing.

override WG: u32 = 256u;   // power of two, >= 16 (the host picks it from V)

struct Params {
  B: u32,
  V: u32,
  greedy: u32,
  invTemp: f32,   // fround(1 / temperature)
  topK: u32,      // 0 or >= V: no top-k
  topP: f32,
  usePTop: u32,   // topP < 1
  seedLo: u32,
  seedHi: u32,
  ctrLo: u32,
  ctrHi: u32,
  rowCtr: u32,    // 1: ids[b] holds row b's counter offset on entry; 2: its row word (Philox counter word 2); 3: both (ids[b], ids[B + b])
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> ids: array<u32>;

var<workgroup> sh_u: array<u32, WG>;
var<workgroup> sh_u2: array<u32, WG>;
var<workgroup> sh_f: array<f32, WG>;
var<workgroup> sh_a: array<vec4f, WG>;
var<workgroup> sh_b: array<vec4f, WG>;
var<workgroup> sh_pa: array<vec4f, 16>;
var<workgroup> sh_pb: array<vec4f, 16>;
var<workgroup> sh_pick: u32;

// ---- order-preserving keys: key(a) < key(b) iff a < b (for non-NaN; -0 is treated as +0) ----

fn key_of(x: f32) -> u32 {
  var b = bitcast<u32>(x);
  if (b == 0x80000000u) { b = 0u; }
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn value_of(k: u32) -> f32 {
  return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

// ---- Philox4x32-10: mulhi32, philox4x32 ----

//#include philox

fn uniform01(row: u32, rowOff: u32) -> f32 {
  let r = philox4x32(vec4u(p.ctrLo + rowOff, p.ctrHi, row, 0u), vec2u(p.seedLo, p.seedHi)).x;
  return f32(r >> 8u) * (1.0 / 16777216.0);
}

// ---- workgroup reductions; each returns a workgroup-uniform value and leaves the scratch free ----

fn reduce_min_u(lid: u32, v: u32) -> u32 {
  sh_u[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { sh_u[lid] = min(sh_u[lid], sh_u[lid + s]); }
    workgroupBarrier();
  }
  let r = workgroupUniformLoad(&sh_u[0]);
  workgroupBarrier();
  return r;
}

fn reduce_sum_f(lid: u32, v: f32) -> f32 {
  sh_f[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { sh_f[lid] += sh_f[lid + s]; }
    workgroupBarrier();
  }
  let r = workgroupUniformLoad(&sh_f[0]);
  workgroupBarrier();
  return r;
}

// (largest key, lowest index holding it)
fn reduce_argmax(lid: u32, key: u32, index: u32) -> vec2u {
  sh_u[lid] = key;
  sh_u2[lid] = index;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      let ko = sh_u[lid + s];
      let io = sh_u2[lid + s];
      if (ko > sh_u[lid] || (ko == sh_u[lid] && io < sh_u2[lid])) {
        sh_u[lid] = ko;
        sh_u2[lid] = io;
      }
    }
    workgroupBarrier();
  }
  let k = workgroupUniformLoad(&sh_u[0]);
  let i = workgroupUniformLoad(&sh_u2[0]);
  workgroupBarrier();
  return vec2u(k, i);
}

// ---- passes over one row ----

// exp((x - max) / temperature); the difference is clamped at -1e30 first so that masked logits (e.g.
// -3e38) divided by a temperature below 1 stay finite: their weight is exp(-huge) = 0
fn weight(x: f32, xmax: f32) -> f32 {
  return exp(max(x - xmax, -1.0e30) * p.invTemp);
}

fn mass_ge(lid: u32, base: u32, t: u32, xmax: f32) -> f32 {
  var s = 0.0;
  for (var i = lid; i < p.V; i += WG) {
    let x = logits[base + i];
    if (key_of(x) >= t) { s += weight(x, xmax); }
  }
  return reduce_sum_f(lid, s);
}

// Bits below the common prefix of lo and hi: the ones a search still has to settle.
fn low_mask(lo: u32, hi: u32) -> u32 {
  let nb = 32u - countLeadingZeros(lo ^ hi);
  if (nb >= 32u) { return 0xffffffffu; }
  return (1u << nb) - 1u;
}

// candidate j of a search step: the prefix t with the next d bits set to j; 0xffffffff when not a
// candidate (j > nc, or past hi), which no real logit's key reaches
fn candidate(t: u32, j: u32, shift: u32, nc: u32, hi: u32) -> u32 {
  let c = t | (j << shift);
  return select(0xffffffffu, c, j <= nc && c <= hi);
}

// The largest key t in [lo, hi] with S(t) >= goal, where S(t) = the number (useMass false) or the weight
// (useMass true) of the row's elements with key >= t; S never grows with t and S(lo) >= goal. Each step
// settles 3 bits: one sweep sums S for the 7 candidates t | j << shift (j = 1..7) into two vec4s, one
// two-level reduction adds them up, and the largest candidate that still reaches the goal is kept.
fn search(lid: u32, base: u32, lo: u32, hi: u32, goal: f32, useMass: bool, xmax: f32) -> u32 {
  let mask = low_mask(lo, hi);
  var pos = countOneBits(mask);
  var t = lo & ~mask;
  loop {
    if (pos == 0u) { break; }
    let d = min(3u, pos);
    let shift = pos - d;
    let nc = (1u << d) - 1u;
    let ca = vec4u(candidate(t, 1u, shift, nc, hi), candidate(t, 2u, shift, nc, hi), candidate(t, 3u, shift, nc, hi),
                   candidate(t, 4u, shift, nc, hi));
    let cb = vec4u(candidate(t, 5u, shift, nc, hi), candidate(t, 6u, shift, nc, hi), candidate(t, 7u, shift, nc, hi),
                   0xffffffffu);
    var a = vec4f(0.0);
    var b = vec4f(0.0);
    for (var i = lid; i < p.V; i += WG) {
      let x = logits[base + i];
      let k = key_of(x);
      if (k >= ca.x) {   // below the smallest candidate: counts for none
        var w = 1.0;
        if (useMass) { w = weight(x, xmax); }
        let kk = vec4u(k);
        a += select(vec4f(0.0), vec4f(w), kk >= ca);
        b += select(vec4f(0.0), vec4f(w), kk >= cb);
      }
    }
    sh_a[lid] = a;
    sh_b[lid] = b;
    workgroupBarrier();
    if (lid < 16u) {
      let g = WG / 16u;
      var sa = vec4f(0.0);
      var sb = vec4f(0.0);
      for (var j = 0u; j < g; j++) {
        sa += sh_a[lid * g + j];
        sb += sh_b[lid * g + j];
      }
      sh_pa[lid] = sa;
      sh_pb[lid] = sb;
    }
    workgroupBarrier();
    if (lid == 0u) {
      var sa = vec4f(0.0);
      var sb = vec4f(0.0);
      for (var j = 0u; j < 16u; j++) {
        sa += sh_pa[j];
        sb += sh_pb[j];
      }
      var sums = array<f32, 8>(0.0, sa.x, sa.y, sa.z, sa.w, sb.x, sb.y, sb.z);
      var pick = 0u;
      for (var j = 1u; j <= nc; j++) {
        if ((t | (j << shift)) <= hi && sums[j] >= goal) { pick = j; }
      }
      sh_pick = pick;
    }
    t |= workgroupUniformLoad(&sh_pick) << shift;
    pos = shift;
  }
  // S(lo) >= goal makes t >= lo; the clamp keeps top-k's set even if f32 rounding said otherwise
  return max(t, lo);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.B) { return; }   // uniform: the whole workgroup leaves together
  let V = p.V;
  let base = row * V;
  // the row's counter offset, read before any invocation writes ids[row] (after the barriers below)
  var rowOff = 0u;
  var rowWord = row;
  if (p.rowCtr != 0u) {
    let entry = ids[row];
    if (p.rowCtr == 1u) { rowOff = entry; } else { rowWord = entry; }
    if (p.rowCtr == 3u) { rowOff = ids[p.B + row]; }
    storageBarrier();
  }

  // max key with its lowest index, and min key; finiteL = 0 where a logit is NaN or infinite (exponent
  // bits all set)
  var kmaxL = 0u;
  var imaxL = 0xffffffffu;
  var kminL = 0xffffffffu;
  var finiteL = 1u;
  for (var i = lid; i < V; i += WG) {
    let x = logits[base + i];
    if ((bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u) { finiteL = 0u; }
    let k = key_of(x);
    if (imaxL == 0xffffffffu || k > kmaxL) {
      kmaxL = k;
      imaxL = i;
    }
    kminL = min(kminL, k);
  }
  // a row with a non-finite logit has no meaningful draw: it gets id 0xffffffff, outside every vocabulary,
  // which the host reports as an error (src/model/sampled_ids.ts) instead of using a token
  if (reduce_min_u(lid, finiteL) == 0u) {
    if (lid == 0u) { ids[row] = 0xffffffffu; }
    return;
  }
  let am = reduce_argmax(lid, kmaxL, imaxL);
  if (p.greedy != 0u) {
    if (lid == 0u) { ids[row] = am.y; }
    return;
  }
  let kmax = am.x;
  let kmin = reduce_min_u(lid, kminL);
  let xmax = value_of(kmax);

  var t = kmin;
  if (p.topK > 0u && p.topK < V) {
    t = search(lid, base, kmin, kmax, f32(p.topK), false, xmax);
  }
  if (p.usePTop != 0u) {
    let goal = p.topP * mass_ge(lid, base, t, xmax);
    t = search(lid, base, t, kmax, goal, true, xmax);
  }

  // inverse CDF over the kept tokens (key >= t) in index order; invocation lid owns [i0, i1)
  let chunk = (V + WG - 1u) / WG;
  let i0 = min(lid * chunk, V);
  let i1 = min(i0 + chunk, V);
  var s = 0.0;
  for (var i = i0; i < i1; i++) {
    let x = logits[base + i];
    if (key_of(x) >= t) { s += weight(x, xmax); }
  }
  // inclusive scan of the chunk sums (Hillis-Steele)
  sh_f[lid] = s;
  workgroupBarrier();
  for (var off = 1u; off < WG; off <<= 1u) {
    var v = sh_f[lid];
    if (lid >= off) { v += sh_f[lid - off]; }
    workgroupBarrier();
    sh_f[lid] = v;
    workgroupBarrier();
  }
  let total = sh_f[WG - 1u];
  var draw = uniform01(rowWord, rowOff) * total;
  if (draw >= total) { draw = bitcast<f32>(bitcast<u32>(total) - 1u); }   // u * total rounded up
  let incl = sh_f[lid];
  let excl = select(0.0, sh_f[max(lid, 1u) - 1u], lid > 0u);
  // the owner is the first invocation whose inclusive prefix exceeds the target (unique even if rounding
  // made the scan non-monotone)
  let owner = reduce_min_u(lid, select(0xffffffffu, lid, draw < incl));
  if (lid == owner) {
    let local = draw - excl;
    var c = 0.0;
    var chosen = 0xffffffffu;
    var lastPositive = i0;
    for (var i = i0; i < i1; i++) {
      let x = logits[base + i];
      if (key_of(x) >= t) {
        let w = weight(x, xmax);
        if (w > 0.0) { lastPositive = i; }
        c += w;
        if (c > local) {
          chosen = i;
          break;
        }
      }
    }
    // rounding left the target past this chunk's own running sum: its last token with weight
    ids[row] = select(chosen, lastPositive, chosen == 0xffffffffu);
  }
}
