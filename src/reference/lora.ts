// CPU reference of the LoRA kernels (lora_forward.wgsl, lora_backward*.wgsl), same argument order as the
// host wrappers in src/gpu/kernels/lora.ts, with the dimensions explicit. PEFT layout: A (R, IN),
// B (OUT, R); y += scale * (x A^T) B^T. Sums run in float64; pass Float64Arrays to get float64 results
// (finite-difference tests do).

export type Floats = Float32Array | Float64Array;

/** h (N, R) = x A^T; y (N, OUT) += scale * h B^T. x: (N, IN). */
export function loraForward(
  y: Floats,
  h: Floats,
  x: Floats,
  A: Floats,
  B: Floats,
  scale: number,
  n: number,
  inF: number,
  outF: number,
  r: number,
): void {
  for (let row = 0; row < n; row++) {
    for (let k = 0; k < r; k++) {
      let acc = 0;
      for (let i = 0; i < inF; i++) acc += x[row * inF + i] * A[k * inF + i];
      h[row * r + k] = acc;
    }
    for (let o = 0; o < outF; o++) {
      let acc = 0;
      for (let k = 0; k < r; k++) acc += h[row * r + k] * B[o * r + k];
      y[row * outF + o] += scale * acc;
    }
  }
}

/** dB += scale * dy^T h; dh = scale * dy B; dA += dh^T x; dx += dh A (when dx is not null). Accumulates. */
export function loraBackward(
  dA: Floats,
  dB: Floats,
  dx: Floats | null,
  dy: Floats,
  x: Floats,
  h: Floats,
  A: Floats,
  B: Floats,
  scale: number,
  n: number,
  inF: number,
  outF: number,
  r: number,
): void {
  for (let o = 0; o < outF; o++) {
    for (let k = 0; k < r; k++) {
      let acc = 0;
      for (let row = 0; row < n; row++) acc += dy[row * outF + o] * h[row * r + k];
      dB[o * r + k] += scale * acc;
    }
  }
  const dh = new Float64Array(n * r);
  for (let row = 0; row < n; row++) {
    for (let k = 0; k < r; k++) {
      let acc = 0;
      for (let o = 0; o < outF; o++) acc += dy[row * outF + o] * B[o * r + k];
      dh[row * r + k] = scale * acc;
    }
  }
  for (let k = 0; k < r; k++) {
    for (let i = 0; i < inF; i++) {
      let acc = 0;
      for (let row = 0; row < n; row++) acc += dh[row * r + k] * x[row * inF + i];
      dA[k * inF + i] += acc;
    }
  }
  if (dx) {
    for (let row = 0; row < n; row++) {
      for (let i = 0; i < inF; i++) {
        let acc = 0;
        for (let k = 0; k < r; k++) acc += dh[row * r + k] * A[k * inF + i];
        dx[row * inF + i] += acc;
      }
    }
  }
}
