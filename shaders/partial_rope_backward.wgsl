// Partial rotary position embedding (Qwen3.5's full layers: RoPE over the first R of each head's HS channels,
// rotate-half within them, the rest passed through), backward: dx = the transposed rotation of dout (sin negated). CPU reference src/reference/rope.ts
// (ropeForward / ropeBackward with rotaryDim R). Pair i < R/2 of a head: a = i, b = i + R/2,
// angle = f32(positions[n]) * inv_freq[i]:  y[a] = x[a] cos - x[b] sin,  y[b] = x[a] sin + x[b] cos
// (the backward: sin negated); channels R..HS-1 copied.
// Shapes: x, out (N, heads*HS); positions (N) u32; inv_freq (R/2). Overwrites out.
// Bindings: 0 params {N, heads, HS, R}; 1 x (read), 2 positions (read), 3 inv_freq (read), 4 out (write).
// Dispatch: ceil(N*heads*HS / 256) workgroups, split by grid(): one invocation per output element.

//#include rope_cos_sin

struct Params { N: u32, heads: u32, HS: u32, R: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<storage, read> inv_freq: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const SIGN: f32 = -1.0;

//#include partial_rope_body
