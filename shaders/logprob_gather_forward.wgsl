// Log-probability of each row's target token and the row's entropy, at a sampling temperature, without
// writing a softmax copy of the logits: one pass over the row with an online (max, sum, weighted sum).
//   z = logits[n] / temperature;  lse[n] = logsumexp(z) = m + log(s),  m = max_j z_j,  s = sum_j exp(z_j - m)
//   logp[n]    = z[targets[n]] - lse[n]                      (0 when targets[n] >= V: no token there)
//   entropy[n] = -sum_j p_j log p_j = log(s) - t / s,       p = softmax(z),  t = sum_j exp(z_j - m) (z_j - m)
// Shapes: logits (N, V); targets (N) u32; logp, entropy, lse (N). lse is saved for backward.
// Bindings: 0 params {n, v, temperature}; 1 logits (read), 2 targets (read), 3 logp (write), 4 entropy
//   (write), 5 lse (write). All three outputs are overwritten.
// Dispatch: one workgroup of WG invocations per row, N workgroups split over x and y by grid(). Each
//   invocation folds a strided slice of the row into (m, s, t); a tree over the workgroup combines them.
// Override: WG (a power of two, <= 256).
// The running max starts at -3.0e38 (finite): exp(-3.0e38 - m) is 0 and -3.0e38 * 0 is 0, so empty slices
// combine without Inf or NaN.

struct Params {
  n: u32,
  v: u32,
  temperature: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> logp: array<f32>;
@group(0) @binding(4) var<storage, read_write> entropy: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

override WG: u32 = 256u;

var<workgroup> wm: array<f32, WG>;
var<workgroup> ws: array<f32, WG>;
var<workgroup> wt: array<f32, WG>;

struct Stats {
  m: f32,
  s: f32,
  t: f32,
}

/** Merges two partial (m, s, t), each relative to its own max, into one relative to the larger max. */
fn combine(a: Stats, b: Stats) -> Stats {
  let m = max(a.m, b.m);
  let ca = exp(a.m - m);
  let cb = exp(b.m - m);
  let s = a.s * ca + b.s * cb;
  let t = ca * (a.t + (a.m - m) * a.s) + cb * (b.t + (b.m - m) * b.s);
  return Stats(m, s, t);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.n) { return; }
  let base = row * p.v;
  var st = Stats(-3.0e38, 0.0, 0.0);
  for (var j = lid; j < p.v; j += WG) {
    let z = logits[base + j] / p.temperature;
    if (z > st.m) {
      let c = exp(st.m - z);
      st = Stats(z, st.s * c + 1.0, c * (st.t + (st.m - z) * st.s));
    } else {
      let d = z - st.m;
      let e = exp(d);
      st.s += e;
      st.t += e * d;
    }
  }
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
  if (lid == 0u) {
    let m = wm[0];
    let s = ws[0];
    let logS = log(s);
    lse[row] = m + logS;
    entropy[row] = logS - wt[0] / s;
    let tgt = targets[row];
    var lp = 0.0;
    if (tgt < p.v) { lp = (logits[base + tgt] / p.temperature - m) - logS; }
    logp[row] = lp;
  }
}
