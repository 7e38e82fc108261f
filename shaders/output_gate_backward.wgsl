// Qwen3.5's gated q_proj, backward of the output gate and of the query split together (CPU reference
// src/reference/output_gate.ts outputGateBackward): with s = sigmoid(qg[n, h, HS + i]),
//   datt[n, h, i] = dout[n, h, i] * s
//   dqg[n, h, HS + i] = dout[n, h, i] * att[n, h, i] * s (1 - s)      (the gate half)
//   dqg[n, h, i] = dq[n, h, i]                                       (the query half: the query's gradient)
// Shapes: dout, att, dq, datt (N, NH*HS); qg, dqg (N, NH*2*HS). OVERWRITES datt and dqg.
// Bindings: 0 params {N, NH, HS}; 1 dout (read), 2 att (read), 3 qg (read), 4 dq (read), 5 datt (write),
//   6 dqg (write).
// Dispatch: ceil(N*NH*HS / 256) workgroups, split by grid().

struct Params { N: u32, NH: u32, HS: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> att: array<f32>;
@group(0) @binding(3) var<storage, read> qg: array<f32>;
@group(0) @binding(4) var<storage, read> dq: array<f32>;
@group(0) @binding(5) var<storage, read_write> datt: array<f32>;
@group(0) @binding(6) var<storage, read_write> dqg: array<f32>;

//#include gdn_gates_common

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let o = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (o >= p.N * p.NH * p.HS) { return; }
  let i = o % p.HS;
  let head = o / p.HS;
  let q = head * 2u * p.HS + i;
  let s = sigmoid(qg[q + p.HS]);
  datt[o] = dout[o] * s;
  dqg[q + p.HS] = dout[o] * att[o] * s * (1.0 - s);
  dqg[q] = dq[o];
}
