// CPU reference of the sigmoid output gate of Qwen3.5's full-attention layers (shaders/output_gate_forward.wgsl /
// _backward.wgsl). q_proj's output holds, per token and head, HS query values then HS gate values:
//   out[n, h, i] = att[n, h, i] * sigmoid(qg[n, h, HS + i])
// att, out (N, NH*HS); qg (N, NH*2*HS). Float64.

type Floats = Float32Array | Float64Array;

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** out = att * sigmoid(gate) (overwrites). */
export function outputGateForward(out: Floats, att: Floats, qg: Floats, N: number, NH: number, HS: number): void {
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < HS; i++) out[(n * NH + h) * HS + i] = att[(n * NH + h) * HS + i] * sigmoid(qg[(n * NH + h) * 2 * HS + HS + i]);
    }
  }
}

/** datt (N, NH*HS) overwritten; the gate half of dqg (N, NH*2*HS) overwritten (its query half untouched). */
export function outputGateBackward(datt: Floats, dqg: Floats, dout: Floats, att: Floats, qg: Floats, N: number, NH: number, HS: number): void {
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < HS; i++) {
        const o = (n * NH + h) * HS + i;
        const gi = (n * NH + h) * 2 * HS + HS + i;
        const s = sigmoid(qg[gi]);
        datt[o] = dout[o] * s;
        dqg[gi] = dout[o] * att[o] * s * (1 - s);
      }
    }
  }
}
