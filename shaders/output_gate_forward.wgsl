// Qwen3.5's gated q_proj, forward. q_proj's output qg holds per token and head HS query values then HS gate
// values (CPU reference src/reference/output_gate.ts, and queryHalves in src/reference/transformer.ts):
//   mode 0 (output gate): out[n, h, i] = att[n, h, i] * sigmoid(qg[n, h, HS + i])
//   mode 1 (query split): out[n, h, i] = qg[n, h, i]                    (att unused: bind qg there)
// Shapes: qg (N, NH*2*HS); att, out (N, NH*HS). Overwrites out.
// Bindings: 0 params {N, NH, HS, mode}; 1 qg (read), 2 att (read), 3 out (write).
// Dispatch: ceil(N*NH*HS / 256) workgroups, split by grid().

struct Params { N: u32, NH: u32, HS: u32, mode: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> qg: array<f32>;
@group(0) @binding(2) var<storage, read> att: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

//#include gdn_gates_common

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let o = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (o >= p.N * p.NH * p.HS) { return; }
  let i = o % p.HS;
  let head = o / p.HS; // n * NH + h
  let q = head * 2u * p.HS + i;
  if (p.mode == 1u) {
    out[o] = qg[q];
  } else {
    out[o] = att[o] * sigmoid(qg[q + p.HS]);
  }
}
