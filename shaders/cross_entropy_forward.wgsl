// Cross-entropy of each row's logits against its target token, in one online (max, sum) pass over the row.
//   lse[n]  = logsumexp(logits[n]) = m + log(s),  m = max_j logits[n, j],  s = sum_j exp(logits[n, j] - m)
//   loss[n] = lse[n] - logits[n, targets[n]]     (0 when targets[n] >= V: IGNORE_INDEX = 0xFFFFFFFF means ignore)
// Shapes: logits (N, V); targets (N) u32; loss, lse (N). lse is saved for backward (also for ignored rows).
// Bindings: 0 params {n, v}; 1 logits (read), 2 targets (read), 3 loss (write), 4 lse (write). Overwrites both.
// Dispatch: one workgroup of WG invocations per row, N workgroups split over x and y by grid(). Each
//   invocation folds a strided slice of the row into (m, s); a tree over the workgroup combines them.
// Override: WG (a power of two, <= 256).
// The running max starts at -3.0e38 (finite): exp(-3.0e38 - m) is 0, so empty slices combine cleanly.

struct Params {
  n: u32,
  v: u32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;

override WG: u32 = 256u;

var<workgroup> wm: array<f32, WG>;
var<workgroup> ws: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.n) { return; }
  let base = row * p.v;
  var m = -3.0e38;
  var s = 0.0;
  for (var j = lid; j < p.v; j += WG) {
    let x = logits[base + j];
    if (x > m) {
      s = s * exp(m - x) + 1.0;
      m = x;
    } else {
      s += exp(x - m);
    }
  }
  wm[lid] = m;
  ws[lid] = s;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      let ma = wm[lid];
      let mb = wm[lid + stride];
      let mm = max(ma, mb);
      ws[lid] = ws[lid] * exp(ma - mm) + ws[lid + stride] * exp(mb - mm);
      wm[lid] = mm;
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let mx = wm[0];
    let logS = log(ws[0]);
    lse[row] = mx + logS;
    let tgt = targets[row];
    var l = 0.0;
    if (tgt < p.v) { l = logS - (logits[base + tgt] - mx); }
    loss[row] = l;
  }
}
