// Embedding backward, stage 2 of 2: scatter-add of output gradients into the table's gradient.
//   dtable[v, c] += sum over n with ids[n] == v of dout[n, c] * SCALE, summed in increasing n (deterministic)
//   SCALE (override, default 1): the forward's embedding scale (Gemma: sqrt(C))
//   dout: (N, C), ids: (N) u32, order: (N) u32 from embedding_backward_sort, dtable: (V, C) ACCUMULATED (+=)
// One workgroup per sorted slot s. The workgroup whose slot starts a run of equal ids owns that vocab row
// (no other invocation writes it) and walks the run; the others return at once. Rows of other ids are
// untouched; ids >= V contribute nothing. Work: O(N*C) adds, independent of V.
// Bindings: 0 params {n_tokens, C, V}; 1 dout (read), 2 ids (read), 3 order (read), 4 dtable (read_write).
// Dispatch: N workgroups, split over x and y by grid(); WG threads stride over the C columns.

struct Params { n_tokens: u32, C: u32, V: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read> order: array<u32>;
@group(0) @binding(4) var<storage, read_write> dtable: array<f32>;

override WG: u32 = 64u;
override SCALE: f32 = 1.0;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = wid.x + wid.y * nwg.x;
  if (s >= p.n_tokens) { return; }
  let v = ids[order[s]];
  if (v >= p.V) { return; }
  if (s > 0u && ids[order[s - 1u]] == v) { return; } // not the first slot of its run
  var end = s + 1u;
  while (end < p.n_tokens && ids[order[end]] == v) { end++; }
  let C = p.C;
  for (var c = lid; c < C; c += WG) {
    var acc = dtable[v * C + c];
    for (var k = s; k < end; k++) {
      acc += dout[order[k] * C + c] * SCALE;
    }
    dtable[v * C + c] = acc;
  }
}
