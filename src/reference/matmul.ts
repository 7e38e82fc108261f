// CPU reference of matmul.wgsl / matmul_scalar.wgsl (same argument order as the host wrapper, with the
// dims explicit), and of the matmul's backward. Sums in float64. Accepts Float64Array too, so that the
// finite-difference test can run the forward in double precision.

export type Floats = Float32Array | Float64Array;

export interface MatmulRefOptions {
  transA?: boolean;
  transB?: boolean;
  accumulate?: boolean;
  bias?: Floats | null;
  alpha?: number;
}

/** Whether an operand holds one matrix per batch, or one matrix (of `perBatch` elements) shared by all. */
function batched(x: Floats, perBatch: number, Bt: number, name: string): boolean {
  if (x.length >= perBatch * Bt) return Bt > 1;
  if (x.length >= perBatch) return false;
  throw new Error(`matmul reference: ${name} has ${x.length} elements, needs ${perBatch} (shared) or ${perBatch * Bt}`);
}

/** out = alpha * op(a) @ op(b) (+ bias) (+ out if accumulate); out (Bt, M, N).
 *  op(a) (Bt, M, K): a stored (Bt, M, K), or (Bt, K, M) when transA.
 *  op(b) (Bt, K, N): b stored (Bt, K, N), or (Bt, N, K) when transB.
 *  An a or b holding a single matrix (M*K or K*N elements) is shared by every batch. */
export function matmul(
  out: Floats,
  a: Floats,
  b: Floats,
  Bt: number,
  M: number,
  K: number,
  N: number,
  opts: MatmulRefOptions = {},
): void {
  const { transA = false, transB = false, accumulate = false, bias = null, alpha = 1 } = opts;
  const sa = batched(a, M * K, Bt, 'a') ? M * K : 0;
  const sb = batched(b, K * N, Bt, 'b') ? K * N : 0;
  const [aRs, aKs] = transA ? [1, M] : [K, 1];
  const [bKs, bCs] = transB ? [1, K] : [N, 1];
  for (let t = 0; t < Bt; t++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[t * sa + i * aRs + k * aKs] * b[t * sb + k * bKs + j * bCs];
        const o = (t * M + i) * N + j;
        let v = alpha * s;
        if (bias) v += bias[j];
        if (accumulate) v += out[o];
        out[o] = v;
      }
    }
  }
}

/** Backward of out = a @ b (the NN form, alpha 1), given dout (Bt, M, N):
 *  da (Bt, M, K) += dout @ b^T;  db (Bt, K, N) += a^T @ dout.
 *  Accumulates (+=) into da and db, as a weight gradient does. A shared a or b (one matrix for every batch)
 *  gets one gradient matrix, summed over the batches. */
export function matmulBackward(
  da: Floats,
  db: Floats,
  dout: Floats,
  a: Floats,
  b: Floats,
  Bt: number,
  M: number,
  K: number,
  N: number,
): void {
  const sa = batched(a, M * K, Bt, 'a') ? M * K : 0;
  const sb = batched(b, K * N, Bt, 'b') ? K * N : 0;
  if (da.length < (sa ? Bt : 1) * M * K) throw new Error('matmulBackward reference: da is smaller than a');
  if (db.length < (sb ? Bt : 1) * K * N) throw new Error('matmulBackward reference: db is smaller than b');
  // Sums for a shared operand run over batches too, so gather them in float64 before adding.
  const gA = new Float64Array((sa ? Bt : 1) * M * K);
  const gB = new Float64Array((sb ? Bt : 1) * K * N);
  for (let t = 0; t < Bt; t++) {
    for (let i = 0; i < M; i++) {
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let j = 0; j < N; j++) s += dout[(t * M + i) * N + j] * b[t * sb + k * N + j];
        gA[t * sa + i * K + k] += s;
      }
    }
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let i = 0; i < M; i++) s += a[t * sa + i * K + k] * dout[(t * M + i) * N + j];
        gB[t * sb + k * N + j] += s;
      }
    }
  }
  for (let i = 0; i < gA.length; i++) da[i] += gA[i];
  for (let i = 0; i < gB.length; i++) db[i] += gB[i];
}
