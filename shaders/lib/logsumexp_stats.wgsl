// Snippet (not a kernel): the row reduction of the log-prob kernels (logprob_gather_forward.wgsl,
// logprob_chunk_forward.wgsl and its vec4 variant): an online (m, s, t) over a strided slice of a row per
// invocation, then a tree over the workgroup, in one fixed order, so that every kernel that includes it
// reduces the same way. The including kernel declares `override WG: u32` (a power of two, <= 256).
//   m = max_j z_j,  s = sum_j exp(z_j - m),  t = sum_j exp(z_j - m) (z_j - m)
// The running max starts at -3.0e38 (finite): exp(-3.0e38 - m) is 0 and -3.0e38 * 0 is 0, so empty slices
// combine without Inf or NaN.

var<workgroup> wm: array<f32, WG>;
var<workgroup> ws: array<f32, WG>;
var<workgroup> wt: array<f32, WG>;

struct Stats {
  m: f32,
  s: f32,
  t: f32,
}

const EMPTY_STATS = Stats(-3.0e38, 0.0, 0.0);

/** Merges two partial (m, s, t), each relative to its own max, into one relative to the larger max. */
fn combine(a: Stats, b: Stats) -> Stats {
  let m = max(a.m, b.m);
  let ca = exp(a.m - m);
  let cb = exp(b.m - m);
  let s = a.s * ca + b.s * cb;
  let t = ca * (a.t + (a.m - m) * a.s) + cb * (b.t + (b.m - m) * b.s);
  return Stats(m, s, t);
}

/** Folds one value z into a running (m, s, t). */
fn stats_add(st: Stats, z: f32) -> Stats {
  if (z > st.m) {
    let c = exp(st.m - z);
    return Stats(z, st.s * c + 1.0, c * (st.t + (st.m - z) * st.s));
  }
  let d = z - st.m;
  let e = exp(d);
  return Stats(st.m, st.s + e, st.t + e * d);
}

/** The most lanes serial_tree_stats takes (WG on software adapters, rowWorkgroupSize; a function-space array
 * cannot be sized by an override). */
const SERIAL_LANES = 4u;

/** workgroup_stats' tree over WG <= SERIAL_LANES partials held by one invocation (lanes[0..WG)), the same combines
 * in the same order: at each level lane i < stride takes lane i + stride's value of the level before, which no lane
 * below it has overwritten yet. For kernels that give each row one invocation (no barriers). */
fn serial_tree_stats(lanes: ptr<function, array<Stats, SERIAL_LANES>>) -> Stats {
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    for (var i = 0u; i < stride; i++) {
      (*lanes)[i] = combine((*lanes)[i], (*lanes)[i + stride]);
    }
  }
  return (*lanes)[0];
}

/** The (m, s, t) of the whole workgroup: a pairwise tree over the WG invocations' partials. Every
 * invocation must call it (it holds barriers) and each gets the same value. */
fn workgroup_stats(lid: u32, st: Stats) -> Stats {
  wm[lid] = st.m;
  ws[lid] = st.s;
  wt[lid] = st.t;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      let c = combine(Stats(wm[lid], ws[lid], wt[lid]), Stats(wm[lid + stride], ws[lid + stride], wt[lid + stride]));
      wm[lid] = c.m;
      ws[lid] = c.s;
      wt[lid] = c.t;
    }
    workgroupBarrier();
  }
  return Stats(wm[0], ws[0], wt[0]);
}
